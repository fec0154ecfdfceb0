"""The run's time limit counted in CPU time: paused at a breakpoint, a program uses none."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from docker.models.containers import Container

from ..kernels.cgroup import find_cgroup

log = logging.getLogger(__name__)

TICK = 0.25


def cpu_reader(container: Container) -> Callable[[], float | None]:
    """Return a function giving the container's CPU seconds (its cgroup, else docker stats)."""
    cgroup = find_cgroup(str(container.id))
    if cgroup is not None:
        return cgroup.cpu_seconds

    def from_stats() -> float | None:
        try:
            stats = container.stats(stream=False)
            return int(stats["cpu_stats"]["cpu_usage"]["total_usage"]) / 1e9
        except Exception:
            return None

    return from_stats


class CpuLimit:
    """Call ``on_limit`` once the container used ``limit`` CPU seconds since ``start``."""

    def __init__(
        self,
        read: Callable[[], float | None],
        limit: float,
        on_limit: Callable[[float], Awaitable[None]],
    ) -> None:
        """Keep what to read, the limit and what to do at it."""
        self.read = read
        self.limit = limit
        self.on_limit = on_limit
        self.base: float | None = None
        self._task: asyncio.Task[None] | None = None

    async def _cpu(self) -> float | None:
        return await asyncio.to_thread(self.read)

    async def start(self) -> None:
        """Start counting from now."""
        if self._task is None:
            self.base = await self._cpu()
            self._task = asyncio.ensure_future(self._watch())

    async def used(self) -> float:
        """CPU seconds used since the start."""
        now = await self._cpu()
        if now is None or self.base is None:
            return 0.0
        return now - self.base

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            used = await self.used()
            if used > self.limit:
                log.info("A debugged program used %.1f s of CPU (limit %g s)", used, self.limit)
                await self.on_limit(used)
                return

    async def stop(self) -> None:
        """Stop counting."""
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: S110 - stopping anyway
                pass
            self._task = None
