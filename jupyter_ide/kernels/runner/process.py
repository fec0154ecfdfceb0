"""Run one program in its own process group: live output, stdin on demand, limits, verdict."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import resource
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from . import stdin_watch
from .limits import OutputGate, RunLimits
from .verdict import (
    INTERRUPTED,
    OK,
    OUT_OF_MEMORY,
    SIGNALLED,
    TIME_LIMIT,
    Outcome,
    memory_pressure,
)

TICK = 0.02
READ_SIZE = 64 * 1024
# At most one stream message per stream per interval; output arriving meanwhile is batched.
MIN_EMIT_INTERVAL = 0.02
# How long a program must stay blocked on stdin (and quiet) before the user is asked: short
# for a blocking read, longer for an event loop polling stdin (it may be about to exit).
STDIN_QUIET = 0.04
STDIN_POLL_QUIET = 0.25
DRAIN_TIMEOUT = 1.0
EOF_REPLY = "\x04"

Emit = Callable[[str, str], None]


class InputChannel(Protocol):
    """Where a program's stdin lines come from (the kernel's input_request/input_reply)."""

    def request(self) -> None:
        """Ask the user for one line."""

    def reply(self) -> str | None:
        """Return the user's answer once it arrived, else None."""


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class ProgramRun:
    """One run of one program: start it, pump its output, enforce the limits, judge the end."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: str,
        env: Mapping[str, str],
        limits: RunLimits,
        emit: Emit,
        stdin: InputChannel | None = None,
        time_limit: float | None = None,
        inherit_stdin: bool = False,
    ) -> None:
        """Prepare a run; nothing starts before `run`.

        The program's stdin: lines from ``stdin`` when given, else this process's own stdin
        with ``inherit_stdin`` (one-shot runs), else end-of-file.
        """
        self.argv = list(argv)
        self.cwd = cwd
        self.env = dict(env)
        self.limits = limits
        self.time_limit = limits.time_limit if time_limit is None else time_limit
        self.gate = OutputGate(limits.output_limit, limits.output_rate)
        self.emit = emit
        self.stdin = stdin
        self.inherit_stdin = inherit_stdin
        self._interrupted = False
        self._last_output = 0.0
        self._pgid: int | None = None

    def interrupt(self) -> None:
        """Stop the program (SIGINT, then SIGKILL after the grace time); safe in signal handlers."""
        self._interrupted = True

    def _stdin_mode(self) -> int | None:
        if self.stdin is not None:
            return asyncio.subprocess.PIPE
        return None if self.inherit_stdin else asyncio.subprocess.DEVNULL

    def kill(self) -> None:
        """Kill the program's whole process group now (kernel shutdown)."""
        self._interrupted = True
        if self._pgid is not None:
            _killpg(self._pgid, signal.SIGKILL)

    async def run(self) -> Outcome:
        """Start the program and return how it ended."""
        started = time.monotonic()
        cpu_before = _cpu_of_children()
        oom_before = memory_pressure()
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=self._stdin_mode(),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                limit=READ_SIZE,
            )
        except OSError as e:
            self.emit("stderr", f"cannot start {self.argv[0]}: {e.strerror or e}\n")
            return Outcome(OK, 127, None, 0.0, 0.0, time_limit=self.time_limit)
        assert proc.stdout is not None and proc.stderr is not None
        self._pgid = proc.pid
        # proc.wait() also waits for the pipes to close, which a background child can hold
        # open: the program's own end is seen through proc.returncode instead.
        tasks = [
            asyncio.ensure_future(self._pump(proc.stdout, "stdout")),
            asyncio.ensure_future(self._pump(proc.stderr, "stderr")),
            asyncio.ensure_future(proc.wait()),
        ]
        try:
            reason = await self._supervise(proc, started, tasks[-1])
        except BaseException:  # cancelled, or Ctrl-C in a one-shot run: the program goes too
            _killpg(proc.pid, signal.SIGKILL)
            for task in tasks:
                task.cancel()
            raise
        # The program ended: whatever it left running in its group goes too.
        _killpg(proc.pid, signal.SIGKILL)
        _, pending = await asyncio.wait(tasks, timeout=DRAIN_TIMEOUT)
        for task in pending:
            task.cancel()
        if proc.stdin is not None:
            proc.stdin.close()
        return self._outcome(proc.returncode, reason, started, cpu_before, oom_before)

    async def _supervise(
        self, proc: asyncio.subprocess.Process, started: float, waiter: asyncio.Future[Any]
    ) -> str | None:
        """Wait for the program, enforcing the time limit, interrupts and stdin requests."""
        deadline = started + self.time_limit
        reason: str | None = None
        kill_at: float | None = None
        asked_at: float | None = None
        stdin_inode = self._stdin_inode(proc)
        blocked_ticks = 0
        while True:
            done, _ = await asyncio.wait({waiter}, timeout=TICK)
            if done or proc.returncode is not None:
                return reason
            now = time.monotonic()
            if reason is None and self._interrupted:
                reason = INTERRUPTED
            elif reason is None and asked_at is None and now >= deadline:
                reason = TIME_LIMIT
            if reason is not None and kill_at is None:
                _killpg(proc.pid, signal.SIGINT)
                kill_at = now + self.limits.kill_grace
                continue
            if kill_at is not None:
                if now >= kill_at:
                    _killpg(proc.pid, signal.SIGKILL)
                continue
            if self.stdin is None or proc.stdin is None or stdin_inode is None:
                continue
            if asked_at is not None:
                answer = self.stdin.reply()
                if answer is not None:
                    deadline += now - asked_at
                    asked_at = None
                    blocked_ticks = 0
                    if not self._feed(proc, answer):
                        stdin_inode = None
                continue
            if now - self._last_output < STDIN_QUIET or proc.stdin.is_closing():
                blocked_ticks = 0
                continue
            kind = self._blocked_on(proc, stdin_inode)
            if kind:
                blocked_ticks += 1
                quiet = STDIN_QUIET if kind == stdin_watch.READ else STDIN_POLL_QUIET
                if blocked_ticks * TICK >= quiet:
                    self.stdin.request()
                    asked_at = now
            else:
                blocked_ticks = 0

    @staticmethod
    def _stdin_inode(proc: asyncio.subprocess.Process) -> int | None:
        if proc.stdin is None:
            return None
        pipe = proc.stdin.get_extra_info("pipe")
        try:
            return stdin_watch.pipe_inode(pipe.fileno())
        except (AttributeError, ValueError, OSError):
            return None  # the program already ended and the pipe is closed

    @staticmethod
    def _blocked_on(proc: asyncio.subprocess.Process, inode: int) -> str:
        assert proc.stdin is not None
        pipe = proc.stdin.get_extra_info("pipe")
        try:
            if stdin_watch.pipe_pending(pipe.fileno()) > 0:
                return ""
        except (AttributeError, ValueError, OSError):
            return ""
        return stdin_watch.waiting_for_stdin(proc.pid, inode)

    @staticmethod
    def _feed(proc: asyncio.subprocess.Process, answer: str) -> bool:
        """Write the user's line to the program; EOF_REPLY closes its stdin."""
        assert proc.stdin is not None
        if answer == EOF_REPLY:
            proc.stdin.close()
            return False
        try:
            proc.stdin.write((answer + "\n").encode())
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

    async def _pump(self, stream: asyncio.StreamReader, name: str) -> None:
        """Forward one output pipe as it comes, through the output gate."""
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        last_emit = 0.0
        while True:
            data = await stream.read(READ_SIZE)
            if not data:
                break
            self._last_output = time.monotonic()
            allowed, notice = self.gate.admit(len(data))
            text = decoder.decode(data[:allowed]) if allowed else ""
            if text:
                self.emit(name, text)
                last_emit = time.monotonic()
            if notice:
                self.emit("stderr", notice)
            wait = MIN_EMIT_INTERVAL - (time.monotonic() - last_emit)
            if wait > 0:
                await asyncio.sleep(wait)
        tail = decoder.decode(b"", final=True)
        if tail and not self.gate.truncated:
            self.emit(name, tail)

    def _outcome(
        self,
        returncode: int | None,
        reason: str | None,
        started: float,
        cpu_before: float,
        oom_before: tuple[int, int],
    ) -> Outcome:
        wall = time.monotonic() - started
        cpu = max(0.0, _cpu_of_children() - cpu_before)
        code = returncode if returncode is not None and returncode >= 0 else None
        sig = -returncode if returncode is not None and returncode < 0 else None
        if reason is None:
            oom_after = memory_pressure()
            oom_killed = oom_after[0] > oom_before[0] or oom_after[1] > oom_before[1]
            killed = sig == signal.SIGKILL or code == 128 + signal.SIGKILL
            if killed and oom_killed:
                reason = OUT_OF_MEMORY
            elif sig is not None:
                reason = SIGNALLED
            else:
                reason = OK
        return Outcome(
            verdict=reason,
            exit_code=code,
            signal=sig,
            wall_time=round(wall, 3),
            cpu_time=round(cpu, 3),
            output_dropped=self.gate.dropped,
            time_limit=self.time_limit,
            memory_limit=self.limits.memory_limit,
        )
