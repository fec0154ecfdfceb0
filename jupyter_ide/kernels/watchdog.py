"""The time-limit watchdog: interrupt a run past its limit, kill the kernel if that fails.

It believes nothing the kernel says. User code holds the kernel's session key, so it can sign
any message, a fake "idle" status included. A run is what the server saw on the shell channel
(through the kernel's shell proxy): an ``execute_request`` it forwarded, until the
``execute_reply`` to that request. Its cost is the container's CPU time from its cgroup, read
on the host. A kernel that forges a reply gains nothing: CPU the container burns while no
request is open counts too, until the container goes quiet.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable

import zmq

from .channelproxy import async_context

log = logging.getLogger(__name__)

TICK = 0.25
DELIMITER = b"<IDS|MSG>"
# A container with no open request that uses less than this share of a CPU for QUIET_FOR
# seconds in a row is quiet: what it used before is forgiven. (An idle kernel uses almost
# nothing; a loop keeps more than this even on a crowded host.)
QUIET_SHARE = 0.02
QUIET_FOR = 1.0


def execute_event(frames: list[bytes]) -> tuple[str, str] | None:
    """Return ("request", msg_id) or ("reply", parent msg_id) of a shell message, else None."""
    try:
        start = frames.index(DELIMITER)
        header = frames[start + 2]
        if b"execute_re" not in header:
            return None
        msg_type = json.loads(header).get("msg_type")
        if msg_type == "execute_request":
            return "request", str(json.loads(header)["msg_id"])
        if msg_type == "execute_reply":
            return "reply", str(json.loads(frames[start + 3])["msg_id"])
    except (ValueError, IndexError, KeyError, TypeError, AttributeError):
        return None
    return None


class TimeLimitWatchdog:
    """Watch a kernel's shell traffic and its CPU time; stop runs that pass the time limit."""

    def __init__(
        self,
        capture_url: str,
        time_limit: float,
        grace: float,
        interrupt: Callable[[], Awaitable[None]],
        kill: Callable[[], Awaitable[None]],
        after_run: Callable[[], Awaitable[None]] | None = None,
        cpu_seconds: Callable[[], float | None] | None = None,
    ) -> None:
        """Keep what to watch and how to act."""
        self.capture_url = capture_url
        self.time_limit = time_limit
        self.grace = grace
        self.interrupt = interrupt
        self.kill = kill
        self.after_run = after_run
        self.cpu_seconds = cpu_seconds
        self.pending: dict[str, None] = {}  # execute requests forwarded, oldest first
        self.run_cpu: float | None = None  # CPU time when the oldest open request began
        self.run_wall: float | None = None
        self.unattended = 0.0  # CPU time used with no request open
        self._quiet_since: float | None = None
        self._sample_cpu: float | None = None
        self._sample_wall = time.monotonic()
        self.runs_ended = 0
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

    def _cpu(self) -> float | None:
        return self.cpu_seconds() if self.cpu_seconds is not None else None

    def _begin_run(self) -> None:
        """Start the clock of the oldest open request."""
        self.run_cpu = self._cpu()
        self.run_wall = time.monotonic()
        self.interrupted = False

    def observe(self, event: tuple[str, str]) -> None:
        """Follow the execute requests the server forwarded and the replies to them."""
        kind, msg_id = event
        if kind == "request":
            if msg_id in self.pending:
                return
            self.pending[msg_id] = None
            if len(self.pending) == 1:
                self._begin_run()
            return
        if msg_id not in self.pending:
            return  # a reply to nothing the server asked for
        # The kernel answers in order: a reply closes its request and any before it.
        for open_id in list(self.pending):
            del self.pending[open_id]
            if open_id == msg_id:
                break
        self.runs_ended += 1
        if self.pending:
            self._begin_run()
        else:
            self.run_cpu = self.run_wall = None
            self.unattended = 0.0
            self._quiet_since = None
            self.interrupted = False
            self._sample_cpu = self._cpu()
            self._sample_wall = time.monotonic()

    def _elapsed(self) -> tuple[float, bool]:
        """Return the time charged so far and whether it is a request's (else unattended)."""
        now = self._cpu()
        if self.pending:
            if self.run_cpu is not None and now is not None:
                return now - self.run_cpu, True
            return time.monotonic() - (self.run_wall or time.monotonic()), True
        wall = time.monotonic()
        if wall - self._sample_wall >= TICK:
            if now is not None and self._sample_cpu is not None:
                used = now - self._sample_cpu
                if used >= QUIET_SHARE * (wall - self._sample_wall):
                    self.unattended += used
                    self._quiet_since = None
                elif self._quiet_since is None:
                    self._quiet_since = self._sample_wall
                elif wall - self._quiet_since >= QUIET_FOR:
                    self.unattended = 0.0
                    self.interrupted = False
            self._sample_cpu, self._sample_wall = now, wall
        return self.unattended, False

    async def check(self) -> bool:
        """Act on an over-long run; return False once the kernel was killed."""
        elapsed, requested = self._elapsed()
        if elapsed > self.time_limit + self.grace:
            self.fired = f"time limit ({self.time_limit:g} s)"
            if not requested:
                self.fired += ", code still running after its cell ended"
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
        """Receive copies of the shell traffic and check the clock between them."""
        socket = async_context().socket(zmq.SUB)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.SUBSCRIBE, b"")
        socket.connect(self.capture_url)
        self._sample_cpu, self._sample_wall = self._cpu(), time.monotonic()
        try:
            while True:
                if await socket.poll(TICK * 1000):
                    event = execute_event(await socket.recv_multipart())
                    if event is not None:
                        self.observe(event)
                if not await self.check():
                    return
                await self._sync_after_runs()
        finally:
            socket.close(linger=0)
