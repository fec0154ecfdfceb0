"""The Redis cache: counters and entries shared, atomically, by every server process."""

from __future__ import annotations

import math
from typing import Any

import redis.asyncio as aioredis

from ..db.urls import safe_url
from .base import Cache

# KEYS[1] counter; ARGV amount, limit, ttl in ms (0 = none). Returns {added, value}.
_INCR_IF_BELOW = """
local value = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if value + amount > tonumber(ARGV[2]) then
  return {0, value}
end
local new = redis.call('INCRBY', KEYS[1], amount)
if new == amount and tonumber(ARGV[3]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return {1, new}
"""

# KEYS[1] counter; ARGV amount, ttl in ms (0 = none). Sets the ttl only when the key is new.
_INCR = """
local new = redis.call('INCRBY', KEYS[1], ARGV[1])
if tonumber(ARGV[2]) > 0 and redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return new
"""


def _ms(ttl: float | None) -> int:
    """Turn a ttl in seconds into whole milliseconds (0 for none)."""
    return 0 if ttl is None else max(math.ceil(ttl * 1000), 1)


class RedisCache(Cache):
    """A cache in Redis; ``incr`` and ``incr_if_below`` are Lua scripts, atomic across servers."""

    backend = "redis"

    def __init__(
        self,
        url: str,
        prefix: str = "jupyter-ide:",
        timeout: float = 2.0,
        max_connections: int = 32,
    ) -> None:
        """Connect lazily to ``url``; callers beyond ``max_connections`` wait for one."""
        super().__init__(prefix)
        self.url = url
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout * 5,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
        )
        self._client: Any = aioredis.Redis.from_pool(pool)
        self._incr = self._client.register_script(_INCR)
        self._incr_if_below = self._client.register_script(_INCR_IF_BELOW)

    async def get(self, key: str) -> bytes | None:
        """Return the value, or None when missing or expired."""
        value = await self._client.get(self.key(key))
        return None if value is None else bytes(value)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value``; it expires after ``ttl`` seconds when given."""
        await self._client.set(self.key(key), value, px=_ms(ttl) or None)

    async def delete(self, key: str) -> bool:
        """Remove the key; return True when it existed."""
        return bool(await self._client.delete(self.key(key)))

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add ``amount`` atomically and return the new value; ``ttl`` applies on creation."""
        return int(await self._incr(keys=[self.key(key)], args=[amount, _ms(ttl)]))

    async def incr_if_below(
        self, key: str, amount: int, limit: int, ttl: float | None = None
    ) -> tuple[bool, int]:
        """Add ``amount`` only if the result stays <= ``limit``; return (added, value)."""
        added, value = await self._incr_if_below(
            keys=[self.key(key)], args=[amount, limit, _ms(ttl)]
        )
        return bool(added), int(value)

    async def ttl(self, key: str) -> float | None:
        """Return the seconds left before the key expires, or None."""
        left = int(await self._client.pttl(self.key(key)))
        return None if left < 0 else left / 1000

    async def ping(self) -> bool:
        """Return True when Redis answers PING; raise when it cannot be reached."""
        return bool(await self._client.ping())

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    def describe(self) -> str:
        """Say which Redis this is (password masked)."""
        return f"redis {safe_url(self.url)}"
