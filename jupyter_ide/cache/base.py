"""One cache and counter interface; the backends are in-process memory and Redis."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bounded:
    """One counter to add to, and the value it may not pass."""

    key: str
    amount: int
    limit: int
    ttl: float | None = None


@dataclass(frozen=True)
class Admission:
    """What ``incr_all_if_below`` did: every counter's new value, or the refused one."""

    values: list[int]
    refused: int | None = None  # the index of the first counter that would pass its limit


class Cache(abc.ABC):
    """An async key/value cache with atomic counters, keys namespaced by a prefix."""

    backend: str = ""

    def __init__(self, prefix: str = "jupyter-ide:") -> None:
        """Keep every key under ``prefix``."""
        self.prefix = prefix

    def key(self, key: str) -> str:
        """Return the stored name of ``key``."""
        return self.prefix + key

    @abc.abstractmethod
    async def get(self, key: str) -> bytes | None:
        """Return the value, or None when missing or expired."""

    @abc.abstractmethod
    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value``; it expires after ``ttl`` seconds when given."""

    @abc.abstractmethod
    async def delete(self, key: str) -> bool:
        """Remove the key; return True when it existed."""

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add ``amount`` atomically and return the new value; ``ttl`` applies on creation."""
        return (await self.incr_each([(key, amount, ttl)]))[0]

    async def incr_if_below(
        self, key: str, amount: int, limit: int, ttl: float | None = None
    ) -> tuple[bool, int]:
        """Add ``amount`` only if the result stays <= ``limit``; return (added, value)."""
        admission = await self.incr_all_if_below([Bounded(key, amount, limit, ttl)])
        return admission.refused is None, admission.values[0]

    @abc.abstractmethod
    async def incr_all_if_below(self, counters: Sequence[Bounded]) -> Admission:
        """Add every amount, all or none: none when any counter would pass its limit.

        On a refusal ``values`` holds the refused counter's current value only.
        """

    @abc.abstractmethod
    async def incr_each(self, counters: Sequence[tuple[str, int, float | None]]) -> list[int]:
        """Add to each (key, amount, ttl) counter in one atomic step; return the new values."""

    @abc.abstractmethod
    async def ttl(self, key: str) -> float | None:
        """Return the seconds left before the key expires, or None (missing or no expiry)."""

    @abc.abstractmethod
    async def ping(self) -> bool:
        """Return True when the backend answers."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Say which backend this is, for logs and health reports."""
