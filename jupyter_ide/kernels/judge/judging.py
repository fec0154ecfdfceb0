"""Judge one submission: compile (or reuse the cached artefact), run, and decide its status."""

from __future__ import annotations

import asyncio
import errno
import io
import logging
import os
import signal
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TypeVar

from ..image_names import image_for
from .box import (
    OVERHEAD_PIDS,
    PROGRAM_INSIDE,
    STDIN_INSIDE,
    Box,
    BoxError,
    BoxGone,
    ExecLimits,
    ExecResult,
    execute,
    fill_slot,
    read_artefact,
)
from .compile_cache import Build, CompileCache, cache_key
from .languages import JudgeLanguage, compile_argv, run_argv
from .pool import BoxPool
from .request import SubmissionRequest
from .settings import JudgeSettings
from .statuses import Status, outputs_match, status_for_signal

log = logging.getLogger(__name__)
T = TypeVar("T")

MIB = 1024 * 1024
MAX_ARTEFACT_BYTES = 256 * MIB
COMPILE_FSIZE_KB = 256 * 1024
COMPILE_PIDS = 256
BUILD_DIR = "/tmp/.judge-build"  # noqa: S108 - inside the container
# Copy the read-only program into a writable build folder, then compile there.
COMPILE_SHELL = 'mkdir -p "$1" && cp -R "$0"/. "$1"/ && cd "$1" && shift && exec "$@"'
COMPILE_ENV = {  # paths inside the container
    "GOCACHE": "/tmp/.gocache",  # noqa: S108
    "GOPATH": "/tmp/.gopath",  # noqa: S108
    "GOFLAGS": "-buildvcs=false",
}


@dataclass
class Outcome:
    """Everything a finished submission reports (Judge0's result attributes)."""

    status: Status
    stdout: bytes | None = None
    stderr: bytes | None = None
    compile_output: bytes | None = None
    message: str | None = None
    time: float | None = None
    wall_time: float | None = None
    memory: int | None = None  # KB
    exit_code: int | None = None
    exit_signal: int | None = None
    compile_cached: bool = False
    compile_time: float | None = None
    compile_memory: int | None = None  # KB
    measured_by: str = ""
    extra: dict[str, object] = field(default_factory=dict)


@dataclass
class _Program:
    """The files of a program and how to build and start it."""

    key: str  # image's language key
    files: dict[str, bytes]
    compile: list[str] | None
    run: list[str]  # run argv; "{dir}" stands for the program folder
    code: str


def _unzip(data: bytes | None) -> dict[str, bytes]:
    """Return the regular files of additional_files, with safe relative names."""
    files: dict[str, bytes] = {}
    if not data:
        return files
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = PurePosixPath(info.filename)
            if name.is_absolute() or ".." in name.parts or not name.parts:
                continue
            files[str(name)] = archive.read(info)
    return files


class Judge:
    """Runs submissions in one-shot boxes, with the compile cache."""

    def __init__(
        self,
        settings: JudgeSettings,
        pool: BoxPool,
        cache: CompileCache,
        helper: Path,
        image_ids: dict[str, str],
        jobs_root: Path,
    ) -> None:
        """Use the pool's boxes, ``helper`` (judge-box), the compile cache and ``jobs_root``.

        ``jobs_root`` holds the builds of jobs run with the cache off (on the slots' file
        system, so they hard-link into the boxes).
        """
        self.settings = settings
        self.pool = pool
        self.cache = cache
        self.helper = helper
        self.image_ids = image_ids
        self.jobs_root = jobs_root

    def _program(self, request: SubmissionRequest) -> _Program:
        language: JudgeLanguage = request.language
        files = _unzip(request.additional_files)
        code = request.source_code.decode("utf-8", errors="replace")
        args = request.argument_list()
        if language.runner is None:
            compile_cmd = ["bash", "compile"] if "compile" in files else None
            return _Program(
                self.settings.multi_file_language, files, compile_cmd, ["bash", "run", *args], ""
            )
        runner = language.runner
        files[runner.source_name(code)] = request.source_code
        compile_cmd = (
            compile_argv(runner, code, request.compiler_option_list())
            if runner.compile is not None
            else None
        )
        return _Program(
            language.key, files, compile_cmd, run_argv(runner, "{dir}", code, args), code
        )

    async def _in_box(self, key: str, job: Callable[[Box], Awaitable[T]]) -> T:
        """Run ``job`` in a fresh box; once more in a new one if the first died before starting.

        The second box is started for the job, not taken from the pool: whatever killed the
        first (an engine restart, a sweep) likely took the other ready ones too.
        """
        for attempt in (1, 2):
            box = await self.pool.acquire(key, image_for(key), fresh=attempt == 2)
            try:
                return await job(box)
            except BoxGone:
                if attempt == 2:
                    raise
                log.warning("judge: a %s box was gone; using another", key)
            finally:
                self.pool.discard(box)
        raise AssertionError("unreachable")

    async def judge(self, request: SubmissionRequest) -> Outcome:
        """Compile and run one submission; never raises for the program's own failures."""
        try:
            return await self._judge(request)
        except (BoxError, OSError, zipfile.BadZipFile) as e:
            log.warning("judge: internal error: %s", e)
            return Outcome(Status.INTERNAL_ERROR, message=str(e))

    async def _judge(self, request: SubmissionRequest) -> Outcome:
        program = self._program(request)
        build: Build | None = None
        compiled = Outcome(Status.ACCEPTED)
        if program.compile is not None:
            build, compiled = await self._compiled(program)
            if build is None:
                return compiled
        try:
            runs = []
            for _ in range(request.limits.number_of_runs):
                outcome = await self._run(request, program, build.path if build else None)
                runs.append(outcome)
                if outcome.status != Status.ACCEPTED:
                    break
        finally:
            if build is not None:  # the lease ends (or the job's own build is deleted)
                await asyncio.to_thread(build.release)
        final = runs[-1]
        if len(runs) > 1 and final.status == Status.ACCEPTED:
            final.time = sum(r.time or 0.0 for r in runs) / len(runs)
            final.wall_time = sum(r.wall_time or 0.0 for r in runs) / len(runs)
            final.memory = int(sum(r.memory or 0 for r in runs) / len(runs))
        final.compile_output = compiled.compile_output
        final.compile_cached = compiled.compile_cached
        final.compile_time = compiled.compile_time
        final.compile_memory = compiled.compile_memory
        return final

    async def _compiled(self, program: _Program) -> tuple[Build | None, Outcome]:
        """Return the program's build (leased, or the job's own) and the compile's outcome.

        With the cache on, a build of the same key is reused, or awaited when another job is
        compiling it; with it off, the build is unpacked into the job's own folder.
        """
        assert program.compile is not None
        if not self.settings.compile_cache:
            outcome, tar = await self._compile(program)
            if tar is None:
                return None, outcome
            return await asyncio.to_thread(Build.private, self.jobs_root, tar), outcome
        image_id = self.image_ids.get(program.key, image_for(program.key))
        key = cache_key(image_id, program.key, program.compile, program.files)
        while True:
            build = self.cache.lease(key)
            if build is not None:
                self.cache.hits += 1
                return build, Outcome(Status.ACCEPTED, compile_cached=True)
            pending = self.cache.inflight(key)
            if pending is None:
                break
            await asyncio.shield(pending)  # then lease what it stored (or compile ourselves)
        self.cache.misses += 1
        self.cache.begin(key)
        build = None
        try:
            outcome, tar = await self._compile(program)
            if tar is not None:
                build = await asyncio.to_thread(self.cache.put_tar, key, tar)
            return build, outcome
        finally:
            self.cache.end(key, build is not None)

    async def _compile(self, program: _Program) -> tuple[Outcome, bytes | None]:
        """Compile in a fresh box; return the outcome and the build folder as a tar."""
        return await self._in_box(program.key, lambda box: self._compile_in(program, box))

    async def _compile_in(self, program: _Program, box: Box) -> tuple[Outcome, bytes | None]:
        """Compile in ``box``; return the outcome and the build folder as a tar."""
        assert program.compile is not None
        s = self.settings
        await asyncio.to_thread(fill_slot, box, program.files, None, b"")
        limits = ExecLimits(
            wall=s.compile_wall_time_limit,
            cpu=s.compile_time_limit,
            memory_bytes=s.compile_memory_limit * 1024,
            pids=COMPILE_PIDS,
            fsize_kb=COMPILE_FSIZE_KB,
            merge_stderr=True,
        )
        argv = [
            "env",
            *(f"{k}={v}" for k, v in COMPILE_ENV.items()),
            "sh",
            "-c",
            COMPILE_SHELL,
            PROGRAM_INSIDE,
            BUILD_DIR,
            *program.compile,
        ]
        result = await asyncio.to_thread(execute, box, argv, limits, collect=BUILD_DIR)
        outcome = Outcome(
            Status.ACCEPTED,
            compile_output=result.stdout or None,
            compile_time=result.cpu_time,
            compile_memory=result.memory_bytes // 1024,
        )
        if result.timed_out or result.cpu_timed_out:
            outcome.status = Status.COMPILATION_ERROR
            outcome.compile_output = b"Compilation time limit exceeded."
            return outcome, None
        if result.exit_code != 0 or result.signal != 0 or result.exec_errno:
            outcome.status = Status.COMPILATION_ERROR
            if result.oom_killed:
                outcome.compile_output = (result.stdout or b"") + (
                    b"\nCompilation memory limit exceeded."
                )
            return outcome, None
        if not result.collected:
            raise BoxError("the sandbox could not collect the compiled program")
        tar = await asyncio.to_thread(read_artefact, box, MAX_ARTEFACT_BYTES)
        return outcome, tar

    async def _run(
        self, request: SubmissionRequest, program: _Program, artefact: Path | None
    ) -> Outcome:
        """Run the program once in a fresh box and judge what it did."""
        return await self._in_box(
            program.key, lambda box: self._run_in(request, program, artefact, box)
        )

    async def _run_in(
        self, request: SubmissionRequest, program: _Program, artefact: Path | None, box: Box
    ) -> Outcome:
        """Run the program once in ``box`` and judge what it did."""
        lim = request.limits
        files = None if artefact is not None else program.files
        await asyncio.to_thread(fill_slot, box, files, artefact, request.stdin)
        output_room = 2 * lim.max_file_size * 1024
        limits = ExecLimits(
            wall=lim.wall_time_limit,
            cpu=lim.cpu_time_limit + lim.cpu_extra_time,
            memory_bytes=lim.memory_limit * 1024 + 8 * MIB + output_room,
            pids=lim.max_processes_and_or_threads + OVERHEAD_PIDS,
            stack_kb=lim.stack_limit,
            fsize_kb=lim.max_file_size,
            address_space_kb=(
                lim.memory_limit if lim.enable_per_process_and_thread_memory_limit else 0
            ),
            merge_stderr=lim.redirect_stderr_to_stdout,
        )
        argv = [part.replace("{dir}", PROGRAM_INSIDE) for part in program.run]
        result = await asyncio.to_thread(
            execute, box, argv, limits, stdin=STDIN_INSIDE, cwd=PROGRAM_INSIDE
        )
        return self._verdict(request, result, argv)

    def _verdict(self, request: SubmissionRequest, result: ExecResult, argv: list[str]) -> Outcome:
        """Map judge-box's report and the cgroup's figures onto Judge0's status and message."""
        lim = request.limits
        memory_kb = result.memory_bytes // 1024
        outcome = Outcome(
            Status.ACCEPTED,
            stdout=result.stdout or None,
            stderr=result.stderr or None,
            time=round(result.cpu_time, 3),
            wall_time=round(result.wall_time, 3),
            memory=memory_kb,
            exit_code=result.exit_code,
            exit_signal=result.signal or None,
            measured_by=result.measured_by,
        )
        if result.exec_errno:
            outcome.status = Status.EXEC_FORMAT_ERROR
            outcome.message = f"execve({argv[0]}): {os.strerror(result.exec_errno)}"
            if result.exec_errno not in (errno.ENOEXEC, errno.ENOENT, errno.EACCES):
                outcome.status = Status.INTERNAL_ERROR
        elif result.timed_out:
            outcome.status = Status.TIME_LIMIT_EXCEEDED
            outcome.message = "Time limit exceeded (wall clock)"
        elif (
            result.cpu_timed_out
            or result.signal == signal.SIGXCPU
            or result.cpu_time > lim.cpu_time_limit
        ):
            outcome.status = Status.TIME_LIMIT_EXCEEDED
            outcome.message = "Time limit exceeded"
        elif result.oom_killed or (
            result.signal == signal.SIGKILL and memory_kb >= lim.memory_limit
        ):
            outcome.status = Status.RUNTIME_ERROR_OTHER
            outcome.message = "Memory limit exceeded"
            outcome.exit_signal = result.signal or int(signal.SIGKILL)
        elif result.signal:
            outcome.status = status_for_signal(result.signal)
            outcome.message = f"Caught fatal signal {result.signal}"
        elif result.exit_code != 0:
            outcome.status = Status.RUNTIME_ERROR_NZEC
            outcome.message = f"Exited with error status {result.exit_code}"
        elif request.expected_output is not None and not outputs_match(
            request.expected_output, result.stdout
        ):
            outcome.status = Status.WRONG_ANSWER
        if outcome.status in (Status.TIME_LIMIT_EXCEEDED,) and outcome.exit_code == 0:
            outcome.exit_code = None if result.signal else outcome.exit_code
        return outcome
