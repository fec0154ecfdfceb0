"""The live view across service replicas: one room's Yjs updates and presence over Redis pub/sub.

Each replica that holds a room of an owner subscribes to that owner's channel. A room's local
document changes are published there and applied by every other replica holding the same
(owner, path); a replica creating a room that another replica already holds asks for its
state ("hello") and starts from it instead of the saved file, so no text is held twice. Each
replica also publishes its presence per owner (who views, which files the owner edits) so
that "your instructor is viewing" and the members list span replicas; presence is repeated
every ``presence_seconds`` and forgotten after three missed rounds (a replica killed outright).
Without Redis, or while it is away, rooms work on their replica alone; relaying resumes with a
full exchange of state once Redis answers again.

A message is a JSON header line, then (for "update" and "state") a Yjs update:
``{"from": replica, "kind": ..., "owner": ..., "path": ...}``, a newline, ``<update>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
from pycrdt import Doc, Subscription, TransactionEvent
from redis.exceptions import RedisError

if TYPE_CHECKING:
    from .live_rooms import LiveRooms, Room

log = logging.getLogger(__name__)

KINDS = ("update", "state", "hello", "none", "presence", "bye")
CLIENT_NAME = "jupyter-ide-live-"  # + the replica id: its Redis connections' name
OUTBOX = 10_000  # messages waiting to be published before new ones are dropped


def channel_of(prefix: str, owner: str) -> str:
    """Return the pub/sub channel of one owner's rooms."""
    return f"{prefix}live:{hashlib.sha256(owner.encode()).hexdigest()[:32]}"


@dataclass
class Presence:
    """What another replica last said about one owner: who views, which files are edited."""

    viewers: frozenset[str]
    open: frozenset[str]
    seen: float = field(default_factory=time.monotonic)


@dataclass
class _Joining:
    """A room being created here: its document, who answered, whether another asked."""

    doc: Doc[Any]
    since: float
    answered: set[str] = field(default_factory=set)
    expected: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    got_state: bool = False
    waiting: bool = False
    asked: bool = False


class LiveRelay:
    """One replica's end of the relay: its subscriptions, relayed rooms, others' presence."""

    def __init__(
        self,
        url: str,
        prefix: str = "jupyter-ide:",
        join_timeout: float = 2.0,
        presence_seconds: float = 5.0,
    ) -> None:
        """Connect lazily to the Redis at ``url``; nothing runs before the first room."""
        self.id = uuid.uuid4().hex
        self.prefix = prefix
        self.join_timeout = join_timeout
        self.presence_seconds = presence_seconds
        self.rooms: LiveRooms | None = None
        self.connected = False
        name = f"{CLIENT_NAME}{self.id[:12]}"
        # Publishing gives up on a Redis that hangs; listening waits as long as it must.
        self._redis = aioredis.from_url(
            url, socket_connect_timeout=2.0, socket_timeout=5.0, client_name=name
        )
        self._listener = aioredis.from_url(
            url, socket_connect_timeout=2.0, socket_keepalive=True, client_name=name
        )
        self._all = f"{prefix}live:replicas"
        self._channels: dict[str, str] = {}  # channel -> owner
        self._confirmed: dict[str, asyncio.Event] = {}  # channel -> Redis confirmed it
        self._tried = asyncio.Event()  # the listener tried to connect once
        self._attached: dict[tuple[str, str], tuple[Room, Subscription | None]] = {}
        self._joining: dict[tuple[str, str], _Joining] = {}
        self._remote: dict[str, dict[str, Presence]] = {}  # owner -> replica -> presence
        self._outbox: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(OUTBOX)
        self._pubsub: Any = None
        self._applying = False
        self._publish_failing = False
        self._tasks: list[asyncio.Task[None]] = []

    def bind(self, rooms: LiveRooms) -> None:
        """Relay ``rooms`` (the replica's rooms call back here)."""
        self.rooms = rooms
        rooms.relay = self

    # -- what the rooms ask --------------------------------------------------------------

    def viewers(self, owner: str) -> set[str]:
        """Return who views ``owner``'s workspace on other replicas."""
        return {n for p in self._fresh(owner) for n in p.viewers}

    def open_paths(self, owner: str) -> set[str]:
        """Return the files ``owner`` has open in an editor on other replicas."""
        return {path for p in self._fresh(owner) for path in p.open}

    async def join(self, owner: str, path: str, doc: Doc[Any]) -> bool:
        """Follow ``owner``'s channel; fill ``doc`` from another replica's room if one holds it.

        Return True when ``doc`` now holds that room's state (do not seed it from the file).
        """
        self._start()
        channel = await self._follow(owner)
        key = (owner, path)
        joining = _Joining(doc, time.monotonic())
        self._joining[key] = joining
        if not path:
            return False
        try:  # subscribed (so counted below, and hearing the answers), or Redis is away
            await asyncio.wait_for(self._tried.wait(), self.join_timeout)
            if self.connected:
                await asyncio.wait_for(self._confirmed[channel].wait(), self.join_timeout)
        except TimeoutError:
            log.warning("Live relay: Redis did not confirm following %s's rooms in time", owner)
            return False
        if not self.connected:
            return False
        try:
            replicas = dict(await self._redis.pubsub_numsub(channel)).get(channel.encode(), 0)
        except RedisError as e:
            log.info(
                "Live relay: room %s of %s not looked up on other replicas: %s", path, owner, e
            )
            return False
        joining.expected = int(replicas) - 1  # every replica following the owner answers
        if joining.expected <= 0:
            return False
        joining.waiting = True
        self._send(owner, "hello", path)
        try:
            await asyncio.wait_for(joining.done.wait(), self.join_timeout)
        except TimeoutError:
            log.warning(
                "Live relay: no answer within %.1f s about room %s of %s; seeding it here",
                self.join_timeout,
                path,
                owner,
            )
        joining.waiting = False
        return joining.got_state

    def attach(self, room: Room) -> None:
        """Relay the created ``room``: publish its document's changes made here."""
        key = (room.owner, room.path)
        joining = self._joining.pop(key, None)
        subscription = None
        if room.path:
            doc = room.yroom.ydoc
            subscription = doc.observe(lambda event: self._changed(room, event))
            if joining is not None and joining.asked:  # another replica waits for it
                self._send(room.owner, "state", room.path, doc.get_update())
        self._attached[key] = (room, subscription)

    async def detach(self, room: Room) -> None:
        """Stop relaying a freed room; leave the owner's channel with their last room."""
        _, subscription = self._attached.pop((room.owner, room.path), (None, None))
        if subscription is not None:
            with contextlib.suppress(Exception):
                room.yroom.ydoc.unobserve(subscription)
        if any(owner == room.owner for owner, _ in self._attached):
            return
        channel = channel_of(self.prefix, room.owner)
        self._channels.pop(channel, None)
        self._confirmed.pop(channel, None)
        self._remote.pop(room.owner, None)
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.unsubscribe(channel)

    def announce(self, owner: str) -> None:
        """Tell the other replicas who views ``owner`` here and which files they edit here."""
        if self.rooms is None or channel_of(self.prefix, owner) not in self._channels:
            return
        self._send(
            owner,
            "presence",
            viewers=sorted(self.rooms.viewers.get(owner, {})),
            open=self.rooms.local_open_paths(owner),
        )

    async def close(self) -> None:
        """Say goodbye (others forget this replica's presence) and stop."""
        if self._tasks and self.connected:
            with contextlib.suppress(RedisError, OSError):
                await self._redis.publish(self._all, self._message("bye", ""))
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for client in (self._redis, self._listener):
            with contextlib.suppress(RedisError, OSError):
                await client.aclose()

    # -- the wire ------------------------------------------------------------------------

    def _message(
        self, kind: str, owner: str, path: str = "", update: bytes = b"", **more: Any
    ) -> bytes:
        head = {"from": self.id, "kind": kind, "owner": owner, "path": path, **more}
        return json.dumps(head).encode() + b"\n" + update

    def _send(
        self, owner: str, kind: str, path: str = "", update: bytes = b"", **more: Any
    ) -> None:
        """Queue a message for the owner's channel (dropped, with a log line, when full)."""
        try:
            message = self._message(kind, owner, path, update, **more)
            self._outbox.put_nowait((channel_of(self.prefix, owner), message))
        except asyncio.QueueFull:
            log.warning("Live relay: %d messages wait for Redis; dropping a %s", OUTBOX, kind)

    def _changed(self, room: Room, event: TransactionEvent) -> None:
        """Publish a change made to a room's document here (not one relayed from elsewhere)."""
        if not self._applying:
            self._send(room.owner, "update", room.path, event.update)

    def _start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._listen()),
                asyncio.create_task(self._publish()),
                asyncio.create_task(self._repeat_presence()),
            ]

    async def _follow(self, owner: str) -> str:
        channel = channel_of(self.prefix, owner)
        if channel not in self._channels:
            self._channels[channel] = owner
            self._confirmed[channel] = asyncio.Event()
            if self._pubsub is not None:
                try:
                    await self._pubsub.subscribe(channel)
                except (RedisError, OSError) as e:  # the listener subscribes again on reconnect
                    log.info("Live relay: could not follow %s's rooms yet: %s", owner, e)
        return channel

    async def _publish(self) -> None:
        """Publish queued messages, in order."""
        while True:
            channel, message = await self._outbox.get()
            try:
                await self._redis.publish(channel, message)
                if self._publish_failing:
                    log.info("Live relay: publishing to Redis again")
                self._publish_failing = False
            except (RedisError, OSError) as e:
                if not self._publish_failing:
                    log.warning("Live relay: cannot publish to Redis (%s); rooms stay local", e)
                self._publish_failing = True

    async def _listen(self) -> None:
        """Receive the other replicas' messages; reconnect (and resynchronise) after a loss."""
        delay = 0.5
        while True:
            pubsub = self._listener.pubsub()
            for event in self._confirmed.values():
                event.clear()
            try:
                self._pubsub = pubsub
                await pubsub.subscribe(self._all, *self._channels)
                if not self.connected:
                    log.info("Live relay: following Redis (replica %s)", self.id[:8])
                    self.connected = True
                    self._resync()
                self._tried.set()
                delay = 0.5
                async for message in pubsub.listen():
                    kind, channel = message.get("type"), message.get("channel", b"")
                    if kind == "message":
                        self._receive(channel, message["data"])
                    elif kind == "subscribe":
                        name = channel.decode() if isinstance(channel, bytes) else str(channel)
                        if name in self._confirmed:
                            self._confirmed[name].set()
            except (RedisError, OSError) as e:
                if self.connected or not self._tried.is_set():
                    log.warning(
                        "Live relay stopped: Redis is unreachable (%s); live rooms work on this "
                        "replica alone until it answers again",
                        e,
                    )
                self.connected = False
                self._tried.set()
            finally:
                self._pubsub = None
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    def _resync(self) -> None:
        """After (re)connecting: send each relayed room's state and ask for the others'."""
        for (owner, path), (room, _) in list(self._attached.items()):
            if path:
                self._send(owner, "state", path, room.yroom.ydoc.get_update())
                self._send(owner, "hello", path)
        for owner in list(self._channels.values()):
            self.announce(owner)

    async def _repeat_presence(self) -> None:
        """Repeat this replica's presence; forget replicas silent for three rounds."""
        while True:
            await asyncio.sleep(self.presence_seconds)
            for owner in list(self._channels.values()):
                if self.rooms is not None and (
                    self.rooms.viewers.get(owner) or self.rooms.local_open_paths(owner)
                ):
                    self.announce(owner)
            for owner in list(self._remote):
                before = self.viewers(owner)
                stale = time.monotonic() - 3 * self.presence_seconds
                self._remote[owner] = {
                    r: p for r, p in self._remote[owner].items() if p.seen >= stale
                }
                if self.viewers(owner) != before:
                    self._viewers_changed(owner)

    def _fresh(self, owner: str) -> list[Presence]:
        stale = time.monotonic() - 3 * self.presence_seconds
        return [p for p in self._remote.get(owner, {}).values() if p.seen >= stale]

    def _viewers_changed(self, owner: str) -> None:
        if self.rooms is not None:
            self.rooms._show_viewers_of(owner)

    # -- receiving -----------------------------------------------------------------------

    def _receive(self, channel: bytes | str, data: bytes) -> None:
        """Handle one message from the channel; ignore (with a log line) what is not ours."""
        name = channel.decode() if isinstance(channel, bytes) else channel
        try:
            head, _, update = data.partition(b"\n")
            header = json.loads(head)
            sender, kind = str(header["from"]), str(header["kind"])
            owner, path = str(header["owner"]), str(header["path"])
            if kind not in KINDS:
                raise ValueError(f"unknown kind {kind!r}")
            if name != self._all and channel_of(self.prefix, owner) != name:
                raise ValueError("the owner is not the channel's")
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            log.warning("Live relay: ignored a message on %s that is not the relay's: %s", name, e)
            return
        if sender == self.id:
            return
        if kind == "bye":
            for owner in list(self._remote):
                if self._remote[owner].pop(sender, None) is not None:
                    self._viewers_changed(owner)
        elif kind == "presence":
            self._presence(sender, owner, header)
        elif kind == "hello":
            self._hello(sender, owner, path)
        elif kind == "none":
            joining = self._joining.get((owner, path))
            if joining is not None and joining.waiting:
                joining.answered.add(sender)
                if len(joining.answered) >= joining.expected:
                    joining.done.set()
        else:
            self._update(sender, owner, path, kind, update)

    def _presence(self, sender: str, owner: str, header: dict[str, Any]) -> None:
        viewers, open_paths = header.get("viewers"), header.get("open")
        if not isinstance(viewers, list) or not isinstance(open_paths, list):
            log.warning("Live relay: ignored a presence message without lists")
            return
        before = self.viewers(owner)
        presence = Presence(frozenset(map(str, viewers)), frozenset(map(str, open_paths)))
        self._remote.setdefault(owner, {})[sender] = presence
        if self.viewers(owner) != before:
            self._viewers_changed(owner)

    def _hello(self, sender: str, owner: str, path: str) -> None:
        """Another replica creates a room: send it ours, or say we hold none."""
        self.announce(owner)
        attached = self._attached.get((owner, path))
        if attached is not None:
            self._send(owner, "state", path, attached[0].yroom.ydoc.get_update())
            return
        joining = self._joining.get((owner, path))
        fresh = joining is not None and time.monotonic() - joining.since < 3 * self.join_timeout
        # Both creating it at once: the smaller replica id seeds, the other takes its state.
        if joining is not None and fresh and not (joining.waiting and self.id > sender):
            joining.asked = True
            if joining.waiting:
                joining.answered.add(sender)  # it holds nothing yet either
                if len(joining.answered) >= joining.expected:
                    joining.done.set()
            return
        self._send(owner, "none", path)

    def _update(self, sender: str, owner: str, path: str, kind: str, update: bytes) -> None:
        """Apply another replica's change (or whole state) to the same room here."""
        attached = self._attached.get((owner, path))
        joining = self._joining.get((owner, path))
        doc = attached[0].yroom.ydoc if attached is not None else joining.doc if joining else None
        if doc is None:
            return
        self._applying = True
        try:
            doc.apply_update(update)
        except Exception as e:  # anything pycrdt cannot decode
            log.warning(
                "Live relay: ignored a %s for room %s of %s that is not a Yjs update: %s",
                kind,
                path,
                owner,
                e,
            )
            return
        finally:
            self._applying = False
        if kind == "state" and joining is not None and joining.waiting:
            joining.got_state = True
            joining.done.set()
