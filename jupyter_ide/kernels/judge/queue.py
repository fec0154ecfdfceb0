"""A bounded queue that is fair between users: round robin over each user's own queue."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class QueueFull(Exception):
    """No room: the whole queue (or the user's share of it) is full."""


class FairQueue(Generic[T]):
    """Items of many users; ``get`` takes one from each user in turn."""

    def __init__(self, max_size: int, max_per_user: int = 0) -> None:
        """Hold at most ``max_size`` items (and ``max_per_user`` per user when > 0)."""
        self.max_size = max_size
        self.max_per_user = max_per_user
        self._queues: dict[str, deque[T]] = {}
        self._turns: deque[str] = deque()  # users with waiting items, in serving order
        self._size = 0
        self._items = asyncio.Semaphore(0)

    def __len__(self) -> int:
        """How many items wait."""
        return self._size

    def waiting(self, user: str) -> int:
        """How many items of one user wait."""
        return len(self._queues.get(user, ()))

    def room(self, user: str) -> int:
        """How many more items the user may add now."""
        left = self.max_size - self._size
        if self.max_per_user > 0:
            left = min(left, self.max_per_user - self.waiting(user))
        return max(0, left)

    def put_many(self, user: str, items: list[T]) -> None:
        """Add all items of a user, or none when they do not fit."""
        if len(items) > self.room(user):
            raise QueueFull()
        queue = self._queues.setdefault(user, deque())
        if not queue:
            self._turns.append(user)
        queue.extend(items)
        self._size += len(items)
        for _ in items:
            self._items.release()

    def put(self, user: str, item: T) -> None:
        """Add one item of a user."""
        self.put_many(user, [item])

    async def get(self) -> tuple[str, T]:
        """Wait for an item; users take turns, one item each."""
        await self._items.acquire()
        user = self._turns.popleft()
        queue = self._queues[user]
        item = queue.popleft()
        self._size -= 1
        if queue:
            self._turns.append(user)
        else:
            del self._queues[user]
        return user, item
