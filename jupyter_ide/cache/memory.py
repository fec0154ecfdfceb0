"""The in-process cache: the embedded default for a single server."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence

from .base import Admission, Bounded, Cache

DEFAULT_MAX_ENTRIES = 100_000


class MemoryCache(Cache):
    """A bounded in-process cache; operations are atomic within one event loop."""

    backend = "memory"

    def __init__(
        self, prefix: str = "jupyter-ide:", max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        """Hold at most ``max_entries`` keys, evicting the least recently used."""
        super().__init__(prefix)
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[bytes | int, float | None]] = OrderedDict()

    def _live(self, name: str) -> tuple[bytes | int, float | None] | None:
        """Return an unexpired entry, dropping it when it has expired."""
        entry = self._entries.get(name)
        if entry is None:
            return None
        expires = entry[1]
        if expires is not None and expires <= time.monotonic():
            del self._entries[name]
            return None
        self._entries.move_to_end(name)
        return entry

    def _store(self, name: str, value: bytes | int, expires: float | None) -> None:
        """Store an entry and evict the oldest ones beyond the bound."""
        self._entries[name] = (value, expires)
        self._entries.move_to_end(name)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    @staticmethod
    def _expiry(ttl: float | None) -> float | None:
        """Turn a ttl into a monotonic deadline."""
        return None if ttl is None else time.monotonic() + ttl

    async def get(self, key: str) -> bytes | None:
        """Return the value, or None when missing or expired."""
        entry = self._live(self.key(key))
        if entry is None:
            return None
        value = entry[0]
        return str(value).encode() if isinstance(value, int) else value

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value``; it expires after ``ttl`` seconds when given."""
        self._store(self.key(key), bytes(value), self._expiry(ttl))

    async def delete(self, key: str) -> bool:
        """Remove the key; return True when it existed."""
        name = self.key(key)
        existed = self._live(name) is not None
        self._entries.pop(name, None)
        return existed

    def _counter(self, name: str) -> tuple[int, float | None] | None:
        """Return a live counter's value and deadline."""
        entry = self._live(name)
        if entry is None:
            return None
        value, expires = entry
        return (value if isinstance(value, int) else int(value)), expires

    async def incr_all_if_below(self, counters: Sequence[Bounded]) -> Admission:
        """Add every amount, all or none: none when any counter would pass its limit."""
        found = []
        for index, counter in enumerate(counters):
            name = self.key(counter.key)
            current = self._counter(name)
            value, expires = current if current else (0, self._expiry(counter.ttl))
            if value + counter.amount > counter.limit:
                return Admission([value], index)
            found.append((name, value + counter.amount, expires))
        for name, value, expires in found:
            self._store(name, value, expires)
        return Admission([value for _, value, _ in found])

    async def incr_each(self, counters: Sequence[tuple[str, int, float | None]]) -> list[int]:
        """Add to each (key, amount, ttl) counter; return the new values."""
        found = []
        for key, amount, ttl in counters:
            name = self.key(key)
            current = self._counter(name)
            value, expires = current if current else (0, self._expiry(ttl))
            self._store(name, value + amount, expires)
            found.append(value + amount)
        return found

    async def ttl(self, key: str) -> float | None:
        """Return the seconds left before the key expires, or None."""
        entry = self._live(self.key(key))
        if entry is None or entry[1] is None:
            return None
        return max(entry[1] - time.monotonic(), 0.0)

    async def ping(self) -> bool:
        """Return True: memory always answers."""
        return True

    async def close(self) -> None:
        """Forget every entry."""
        self._entries.clear()

    def describe(self) -> str:
        """Say which backend this is."""
        return "in-process (single server)"
