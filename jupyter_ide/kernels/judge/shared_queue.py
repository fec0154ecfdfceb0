"""The judge's queue shared through Redis: a fair waiting room, then a stream with a group.

Submissions wait in one Redis list per user; a ``turns`` list says whose turn is next, so
users take turns as in the in-process FairQueue, and the queue's length and each user's
share are checked atomically on admission. A worker that is free moves the next user's next
token into the stream and reads it through the consumer group in one script: the entry is
then in the worker's pending list until the verdict is recorded (XACK). A worker that dies
leaves its entry pending; once idle for ``claim_idle`` seconds another worker takes it over
(XAUTOCLAIM) and runs it again. A running worker keeps its entries fresh (heartbeat).

The scripts name the per-user lists from inside (one Redis server, not a cluster).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError
from sqlalchemy.engine import make_url

from .queue import QueueFull

log = logging.getLogger(__name__)

GROUP = "workers"
WAKE_KEEP = 64  # wake-up marks kept at most (each frees one blocked worker)

# KEYS size, turns, wake; ARGV max_size, max_per_user, user list key, user, tokens...
# All tokens of one user go in, or none: 0 when the queue or the user's share is full.
_ADMIT = """
local n = #ARGV - 4
local size = tonumber(redis.call('GET', KEYS[1]) or '0')
local mine = redis.call('LLEN', ARGV[3])
if size + n > tonumber(ARGV[1]) then return 0 end
if tonumber(ARGV[2]) > 0 and mine + n > tonumber(ARGV[2]) then return 0 end
if mine == 0 then redis.call('RPUSH', KEYS[2], ARGV[4]) end
for i = 5, #ARGV do redis.call('RPUSH', ARGV[3], ARGV[i]) end
redis.call('INCRBY', KEYS[1], n)
for i = 1, n do redis.call('LPUSH', KEYS[3], '1') end
redis.call('LTRIM', KEYS[3], 0, WAKE_LAST)
return 1
""".replace("WAKE_LAST", str(WAKE_KEEP - 1))

# KEYS size, turns, stream; ARGV user list prefix, group, consumer.
# The next user's next token goes into the stream, and ``consumer`` reads the stream's oldest
# entry nobody has read yet: that one, or one added another way (XADD), which is drained too.
# Returns {entry id, field, value, ...} or nil when nothing waits.
_TAKE = """
local user = redis.call('LPOP', KEYS[2])
if user then
  local list = ARGV[1] .. user
  local token = redis.call('LPOP', list)
  if redis.call('LLEN', list) > 0 then redis.call('RPUSH', KEYS[2], user) end
  if token then
    if tonumber(redis.call('DECR', KEYS[1])) < 0 then redis.call('SET', KEYS[1], 0) end
    redis.call('XADD', KEYS[3], '*', 'token', token, 'user', user)
  end
end
local got = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', 1,
                       'STREAMS', KEYS[3], '>')
if not got then return false end
local entry = got[1][2][1]
local out = {entry[1]}
for _, v in ipairs(entry[2]) do out[#out + 1] = v end
return out
"""

# KEYS stream; ARGV group, consumer, entry id. Reset the entry's idle time if still ours.
_KEEP = """
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 or p[1][2] ~= ARGV[2] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
"""


@dataclass(frozen=True)
class Delivery:
    """One stream entry handed to a worker: its id, fields, and how often it was handed out."""

    entry_id: str
    fields: dict[str, str]
    deliveries: int = 1

    @property
    def token(self) -> str:
        """The submission's token ('' when the entry has none)."""
        return self.fields.get("token", "")


def queue_name(db_url: str) -> str:
    """Return the default queue name of a database: workers sharing it share the queue."""
    try:
        url = make_url(db_url)
        where = f"{url.drivername}|{url.host}|{url.port}|{url.database}"
    except Exception:  # an odd URL: still one name per URL
        where = db_url
    return hashlib.sha256(where.encode()).hexdigest()[:16]


def consumer_name() -> str:
    """Return a name for one worker process: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class SharedQueue:
    """The Redis side of the judge's queue: admit, take, keep, claim, done."""

    def __init__(
        self,
        url: str,
        name: str,
        prefix: str = "jupyter-ide:",
        max_size: int = 100,
        max_per_user: int = 0,
        claim_idle: float = 30.0,
    ) -> None:
        """Use the Redis at ``url``; keys live under ``<prefix>judge:<name>:``."""
        self.url = url
        self.name = name
        self.prefix = prefix
        self.base = f"{prefix}judge:{name}:"
        self.stream = self.base + "stream"
        self.size_key = self.base + "size"
        self.turns = self.base + "turns"
        self.wake_key = self.base + "wake"
        self.user_prefix = self.base + "user:"
        self.max_size = max_size
        self.max_per_user = max_per_user
        self.claim_idle = claim_idle
        self.consumer = consumer_name()
        self._client: Any = aioredis.Redis.from_url(
            url, socket_connect_timeout=5, socket_timeout=30, health_check_interval=10
        )
        self._admit = self._client.register_script(_ADMIT)
        self._take = self._client.register_script(_TAKE)
        self._keep = self._client.register_script(_KEEP)
        self._group_ready = False

    def sibling(self, kind: str, max_size: int = 1 << 40) -> SharedQueue:
        """Return another queue of another job kind beside this one (same Redis, own keys).

        Its jobs wait in their own lists and stream, so they neither count against this
        queue's size nor take its workers' turns; ``max_size`` bounds them on their own.
        It has its own connections (close it on its own).
        """
        other = SharedQueue(
            self.url, f"{self.name}:{kind}", self.prefix, max_size, 0, self.claim_idle
        )
        other.consumer = self.consumer  # one name per process, in every group it reads
        return other

    async def ensure_group(self) -> None:
        """Create the stream and its consumer group when missing."""
        try:
            await self._client.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise
        self._group_ready = True

    async def admit(self, user: str, tokens: list[str]) -> None:
        """Queue all of a user's tokens, or none (QueueFull)."""
        if not tokens:
            return
        admitted = await self._admit(
            keys=[self.size_key, self.turns, self.wake_key],
            args=[self.max_size, self.max_per_user, self.user_prefix + user, user, *tokens],
        )
        if not int(admitted):
            raise QueueFull()

    async def missing(self, items: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Return the (token, user) pairs neither waiting nor in the stream (Redis lost them)."""
        if not items:
            return []
        in_stream = {
            _text(fields.get(b"token", b""))
            for _, fields in await self._client.xrange(self.stream, "-", "+")
            if fields
        }
        async with self._client.pipeline(transaction=False) as pipe:
            for token, user in items:
                pipe.lpos(self.user_prefix + user, token)
            places = await pipe.execute()
        return [
            item
            for item, place in zip(items, places, strict=True)
            if place is None and item[0] not in in_stream
        ]

    async def requeue(self, user: str, token: str) -> None:
        """Queue a token again whatever the limits (it was accepted once already)."""
        await self._admit(
            keys=[self.size_key, self.turns, self.wake_key],
            args=[2**62, 0, self.user_prefix + user, user, token],
        )

    async def lock(self, name: str, seconds: float) -> bool:
        """Take a named lock for ``seconds`` (one holder among every process); True if taken."""
        return bool(
            await self._client.set(self.base + name, self.consumer, nx=True, px=int(seconds * 1000))
        )

    async def waiting(self) -> int:
        """How many submissions wait (not yet taken by a worker)."""
        return int(await self._client.get(self.size_key) or 0)

    async def take(self) -> Delivery | None:
        """Take the next submission in the users' turn, read through the group; None: none."""
        if not self._group_ready:
            await self.ensure_group()
        try:
            reply = await self._take(
                keys=[self.size_key, self.turns, self.stream],
                args=[self.user_prefix, GROUP, self.consumer],
            )
        except ResponseError as e:
            if "NOGROUP" not in str(e):
                raise
            await self.ensure_group()  # Redis lost the group (flushed, restarted empty)
            return None
        if not reply:
            return None
        values = [_text(v) for v in reply[1:]]
        return Delivery(_text(reply[0]), dict(zip(values[::2], values[1::2], strict=False)))

    async def claim(self) -> Delivery | None:
        """Take over one entry another worker left idle past ``claim_idle``; None: none."""
        if not self._group_ready:
            await self.ensure_group()
        try:
            reply = await self._client.xautoclaim(
                self.stream, GROUP, self.consumer, int(self.claim_idle * 1000), "0-0", count=1
            )
        except ResponseError as e:
            if "NOGROUP" not in str(e):
                raise
            await self.ensure_group()
            return None
        claimed = reply[1] if len(reply) > 1 else []
        for entry_id, fields in claimed:
            entry = _text(entry_id)
            if fields is None:  # deleted meanwhile
                continue
            pending = await self._client.xpending_range(self.stream, GROUP, entry, entry, 1)
            times = int(pending[0]["times_delivered"]) if pending else 1
            decoded = {_text(k): _text(v) for k, v in fields.items()}
            return Delivery(entry, decoded, times)
        return None

    async def keep(self, entry_id: str) -> bool:
        """Reset an entry's idle time while it runs; False when another worker has it now."""
        return bool(
            int(await self._keep(keys=[self.stream], args=[GROUP, self.consumer, entry_id]))
        )

    async def done(self, entry_id: str) -> None:
        """Acknowledge an entry and remove it from the stream."""
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.xack(self.stream, GROUP, entry_id)
            pipe.xdel(self.stream, entry_id)
            await pipe.execute()

    async def wake_wait(self, timeout: float) -> None:
        """Block until a submission is admitted (or ``timeout`` seconds pass)."""
        await self._client.blpop([self.wake_key], timeout=max(1, int(timeout)))

    async def pending(self) -> int:
        """How many entries are being run (read, not acknowledged), by any worker."""
        try:
            info = await self._client.xpending(self.stream, GROUP)
        except ResponseError:
            return 0
        return int(info["pending"])

    async def leave(self) -> None:
        """Remove this worker from the group when it holds nothing, then close."""
        try:
            info = await self._client.xpending_range(
                self.stream, GROUP, "-", "+", 1, consumername=self.consumer
            )
            if not info:
                await self._client.xgroup_delconsumer(self.stream, GROUP, self.consumer)
        except Exception as e:  # closing anyway
            log.debug("judge: could not leave the group: %s", e)
        await self.close()

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()


async def sleep_or_wake(queue: SharedQueue, timeout: float) -> None:
    """Wait for a wake-up mark; on a Redis error, sleep instead (the caller retries)."""
    try:
        await queue.wake_wait(timeout)
    except (OSError, aioredis.RedisError) as e:
        log.warning("judge: Redis did not answer (%s); retrying", e)
        await asyncio.sleep(min(timeout, 2.0))
