"""Work queued by requests close together, done in one go off their path."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable


class Gathering:
    """Run ``drain`` in the background once work is queued, after a short wait.

    Waiting ``seconds`` lets the work of the requests that follow join in; ``flush`` drains
    at once.
    """

    def __init__(self, seconds: float, drain: Callable[[], Awaitable[None]]) -> None:
        """Wait up to ``seconds`` (0: at once) before each ``drain``."""
        self.seconds = seconds
        self._drain = drain
        self._task: asyncio.Task[None] | None = None
        self._now = asyncio.Event()

    def wake(self) -> None:
        """Make sure a drain comes (call it after queuing work)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        """Wait for more work (or a flush), then drain."""
        if self.seconds > 0 and not self._now.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._now.wait(), self.seconds)
        self._now.clear()
        await self._drain()

    async def flush(self) -> None:
        """Drain what is queued now and wait until it is done."""
        while self._task is not None and not self._task.done():
            self._now.set()
            await asyncio.shield(self._task)
