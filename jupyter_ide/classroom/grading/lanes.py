"""Bounded grading: a burst of submissions waits its turn, owners take turns, N run at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ...kernels.judge.queue import FairQueue

log = logging.getLogger(__name__)

UNBOUNDED = 1 << 30  # grading jobs wait rather than being refused; callers bound bursts


@dataclass
class _Job:
    """One submission's grading, waiting for a lane."""

    run: Callable[[], Awaitable[Any]]
    future: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GradingLanes:
    """``size`` workers taking grading jobs from a queue that is fair between owners."""

    def __init__(self, size: int, on_change: Callable[[int], None] | None = None) -> None:
        """Run at most ``size`` jobs at once; ``on_change(+1/-1)`` as each starts and ends."""
        self.size = max(1, size)
        self.on_change = on_change
        self.queue: FairQueue[_Job] = FairQueue(UNBOUNDED)
        self.running = 0
        self._workers: list[asyncio.Task[None]] = []

    def _ensure_workers(self) -> None:
        """Start the workers on first use (in the running loop)."""
        self._workers = [task for task in self._workers if not task.done()]
        while len(self._workers) < self.size:
            self._workers.append(asyncio.ensure_future(self._work()))

    async def run(self, owner: str, job: Callable[[], Awaitable[Any]]) -> Any:
        """Queue ``job`` in ``owner``'s turn and return its result when a lane has run it."""
        self._ensure_workers()
        item = _Job(job)
        self.queue.put(owner, item)
        return await item.future

    async def _work(self) -> None:
        """One lane: take the next job in the owners' turn and run it."""
        while True:
            _, job = await self.queue.get()
            if job.future.cancelled():
                continue
            self.running += 1
            if self.on_change is not None:
                self.on_change(1)
            try:
                result = await job.run()
            except Exception as e:  # the caller gets it; the lane lives on
                if not job.future.done():
                    job.future.set_exception(e)
            else:
                if not job.future.done():
                    job.future.set_result(result)
            finally:
                self.running -= 1
                if self.on_change is not None:
                    self.on_change(-1)

    async def close(self) -> None:
        """Stop the lanes (jobs still queued are cancelled)."""
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
