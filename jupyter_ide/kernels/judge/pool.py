"""The warm pool of one-shot judge boxes: per language, each box used once and replaced."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path

import docker

from ..profile import LABEL_KIND, SandboxLimits
from .box import Box, make_box, remove_box_container

log = logging.getLogger(__name__)

MAX_PARALLEL_CREATES = 2


class BoxPool:
    """Ready boxes per language key; ``acquire`` hands one out and a replacement is started."""

    def __init__(
        self,
        client: docker.DockerClient,
        slots_root: Path,
        helper: Path,
        limits: SandboxLimits,
        labels: dict[str, str],
        size_of: Callable[[str], int],
    ) -> None:
        """Keep ``size_of(key)`` boxes ready per language once it has been used or warmed."""
        self.client = client
        self.slots_root = slots_root
        self.helper = helper
        self.limits = limits
        self.labels = {**labels, LABEL_KIND: "judge"}
        self.size_of = size_of
        self.images: dict[str, str] = {}
        self._ready: dict[str, deque[Box]] = {}
        self._pending: dict[str, int] = {}
        self._creating = asyncio.Semaphore(MAX_PARALLEL_CREATES)
        self._tasks: set[asyncio.Future[None]] = set()
        self._closed = False

    def ready_count(self, key: str) -> int:
        """How many boxes of a language wait ready."""
        return len(self._ready.get(key, ()))

    async def _create(self, key: str) -> Box:
        async with self._creating:
            return await asyncio.to_thread(
                make_box,
                self.client,
                key,
                self.images[key],
                self.slots_root,
                self.helper,
                self.limits,
                self.labels,
            )

    async def acquire(self, key: str, image: str, fresh: bool = False) -> Box:
        """Return an unused box of the language (warm if one is ready), and top the pool up.

        ``fresh``: start a new one even if some are ready (a ready one was found dead).
        """
        self.images[key] = image
        ready = self._ready.setdefault(key, deque())
        box = ready.popleft() if ready and not fresh else None
        self.top_up(key)
        if box is None:
            box = await self._create(key)
        box.used = True
        return box

    def warm(self, key: str, image: str) -> None:
        """Start filling a language's pool now."""
        self.images[key] = image
        self.top_up(key)

    def top_up(self, key: str) -> None:
        """Start creating boxes until the language's pool is full."""
        if self._closed:
            return
        missing = self.size_of(key) - self.ready_count(key) - self._pending.get(key, 0)
        for _ in range(max(0, missing)):
            self._pending[key] = self._pending.get(key, 0) + 1
            self._spawn(self._add(key))

    async def _add(self, key: str) -> None:
        try:
            box = await self._create(key)
        except (docker.errors.DockerException, OSError) as e:
            log.warning("judge: could not start a %s box: %s", key, e)
            return
        finally:
            self._pending[key] -= 1
        if self._closed:
            await asyncio.to_thread(remove_box_container, box.container, box.slot)
        else:
            self._ready.setdefault(key, deque()).append(box)

    def discard(self, box: Box) -> None:
        """Remove a used box in the background."""
        self._spawn(asyncio.to_thread(remove_box_container, box.container, box.slot))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Future[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Remove every ready box and wait for background work."""
        self._closed = True
        boxes = [box for ready in self._ready.values() for box in ready]
        self._ready.clear()
        for box in boxes:
            self.discard(box)
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
