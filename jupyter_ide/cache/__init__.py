"""The shared cache and counters: in-process by default, Redis in deployments."""

from .base import Admission, Bounded, Cache
from .factory import make_cache
from .memory import MemoryCache
from .redis import RedisCache

__all__ = ["Admission", "Bounded", "Cache", "MemoryCache", "RedisCache", "make_cache"]
