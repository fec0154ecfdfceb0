"""Pick the cache backend from configuration."""

from __future__ import annotations

from .base import Cache
from .memory import MemoryCache
from .redis import RedisCache


def make_cache(redis_url: str | None, prefix: str = "jupyter-ide:") -> Cache:
    """Return a Redis cache when ``redis_url`` is set, else the in-process one."""
    if redis_url:
        if not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"JUPYTER_IDE_REDIS_URL must be a redis:// URL, not {redis_url!r}")
        return RedisCache(redis_url, prefix)
    return MemoryCache(prefix)
