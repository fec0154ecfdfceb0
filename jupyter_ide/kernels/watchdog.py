"""The time-limit watchdog: interrupt a run past its limit, kill the kernel if that fails."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.session import Session

log = logging.getLogger(__name__)

TICK = 0.25


class TimeLimitWatchdog:
    """Watch a kernel's IOPub; a run busy too long is interrupted, then the kernel killed."""

    def __init__(
        self,
        iopub_url: str,
        session: Session,
        time_limit: float,
        grace: float,
        interrupt: Callable[[], Awaitable[None]],
        kill: Callable[[], Awaitable[None]],
        after_run: Callable[[], Awaitable[None]] | None = None,
        cpu_seconds: Callable[[], float | None] | None = None,
    ) -> None:
        """Keep what to watch and how to act."""
        self.iopub_url = iopub_url
        self.session = session
        self.time_limit = time_limit
        self.grace = grace
        self.interrupt = interrupt
        self.kill = kill
        self.after_run = after_run
        self.cpu_seconds = cpu_seconds
        self.cpu_since: float | None = None
        self.runs_ended = 0
        self.busy_since: float | None = None
        self.interrupted = False
        self.fired: str | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin watching in the background."""
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: S110 - closing anyway
                pass
            self._task = None

    def _track(self, msg: dict[str, Any]) -> None:
        """Follow busy/idle of execute requests."""
        if msg.get("msg_type") != "status":
            return
        if msg.get("parent_header", {}).get("msg_type") != "execute_request":
            return
        state = msg.get("content", {}).get("execution_state")
        if state == "busy":
            self.busy_since = time.monotonic()
            self.cpu_since = self.cpu_seconds() if self.cpu_seconds else None
            self.interrupted = False
        elif state == "idle":
            self.busy_since = None
            self.interrupted = False
            self.runs_ended += 1

    def _elapsed(self, busy_since: float) -> float:
        """Time the run used: CPU time where the cgroup shows it, else wall time.

        CPU time leaves out waits (a program reading what the user types, a sleep), which
        cost the server nothing.
        """
        if self.cpu_since is not None and self.cpu_seconds is not None:
            now = self.cpu_seconds()
            if now is not None:
                return now - self.cpu_since
        return time.monotonic() - busy_since

    async def _check(self) -> bool:
        """Act on an over-long run; return False once the kernel was killed."""
        if self.busy_since is None:
            return True
        elapsed = self._elapsed(self.busy_since)
        if elapsed > self.time_limit + self.grace:
            self.fired = f"time limit ({self.time_limit:g} s)"
            log.warning("Kernel ignored its interrupt at the time limit; killing it")
            await self.kill()
            return False
        if elapsed > self.time_limit and not self.interrupted:
            self.interrupted = True
            log.info("A run passed its time limit of %ss; interrupting", self.time_limit)
            await self.interrupt()
        return True

    async def _sync_after_runs(self) -> None:
        """Let files the code wrote flow back (e.g. into the contents index) after runs end."""
        if self.runs_ended and self.after_run is not None:
            self.runs_ended = 0
            try:
                await self.after_run()
            except Exception as e:
                log.warning("Syncing the workspace after a run failed: %s", e)

    async def _run(self) -> None:
        """Receive IOPub messages and check the clock between them."""
        context = zmq.asyncio.Context.instance()
        socket = context.socket(zmq.SUB)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.SUBSCRIBE, b"")
        socket.connect(self.iopub_url)
        try:
            while True:
                if await socket.poll(TICK * 1000):
                    frames = await socket.recv_multipart()
                    try:
                        _, parts = self.session.feed_identities(frames)
                        self._track(self.session.deserialize(parts, content=True))
                    except Exception as e:  # a malformed message must not stop the watchdog
                        log.debug("Watchdog skipped a message: %s", e)
                if not await self._check():
                    return
                await self._sync_after_runs()
        finally:
            socket.close(linger=0)
