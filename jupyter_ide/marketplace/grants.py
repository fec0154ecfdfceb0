"""Each user's installs as the runtime's per-call check reads them, cached until they change.

The runtime asks the server before each call an extension makes, so the check must be cheap
and must see a revoked grant at once. Entries are kept per user in this process and stamped
with two counters in the IDE's shared cache (in-process, or Redis shared by every replica): the
user's own (bumped when they install, change or uninstall) and a global one (bumped by changes
that reach many users: course locks, allow/block lists, key revocation). A hit costs two cache
reads; a stamp that moved, or an entry older than ``max_age`` (a backstop for changes made
outside the store, like leaving a course), reloads from the database.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from ..cache import Cache

Installs = dict[str, dict[str, Any]]
GLOBAL = "marketplace:grants:all"


def _user_key(user: str) -> str:
    return f"marketplace:grants:user:{user}"


class GrantCache:
    """Per-user installs for the call check, invalidated by the store's changes."""

    def __init__(self, cache: Cache | None, max_age: float = 10.0, max_users: int = 5000) -> None:
        """Use the shared cache for the counters (None: this process's counters only)."""
        self.cache = cache
        self.max_age = max_age
        self.max_users = max_users
        self._local_counters: dict[str, int] = {}
        self._entries: OrderedDict[str, tuple[tuple[int, int], float, Installs]] = OrderedDict()
        self.loads = 0  # database loads, for tests and the bench

    async def _counter(self, key: str) -> int:
        if self.cache is None:
            return self._local_counters.get(key, 0)
        raw = await self.cache.get(key)
        return int(raw) if raw else 0

    async def _stamp(self, user: str) -> tuple[int, int]:
        return await self._counter(GLOBAL), await self._counter(_user_key(user))

    async def installs(self, user: str, load: Callable[[], Awaitable[Installs]]) -> Installs:
        """Return the user's installs by name, from the cache when nothing changed."""
        stamp = await self._stamp(user)
        found = self._entries.get(user)
        now = time.monotonic()
        if found is not None and found[0] == stamp and now - found[1] < self.max_age:
            self._entries.move_to_end(user)
            return found[2]
        self.loads += 1
        installs = await load()
        self._entries[user] = (stamp, now, installs)
        self._entries.move_to_end(user)
        while len(self._entries) > self.max_users:
            self._entries.popitem(last=False)
        return installs

    async def changed(self, user: str | None = None) -> None:
        """Note a change of one user's installs (``user``) or of many (None)."""
        key = GLOBAL if user is None else _user_key(user)
        if self.cache is None:
            self._local_counters[key] = self._local_counters.get(key, 0) + 1
        else:
            await self.cache.incr(key)
        if user is None:
            self._entries.clear()
        else:
            self._entries.pop(user, None)
