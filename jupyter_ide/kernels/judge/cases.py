"""One submission's jobs in one box, one after another, each with its own limits and figures.

The autograder runs a submission's test cases here: the program is compiled once (through the
compile cache, in the same box on a miss), then each stdin case runs as its own job of the box
with its own CPU, memory and wall limits, measured alone (judge-box kills whatever a case left
before it reports). A :class:`CaseBox` belongs to exactly one submission: it is taken from the
judge's pool on entry and removed on exit, never handed to anything else. Files a job needs
(test files) are put in the box right before it and removed right after; expected outputs
never enter the box. If the box dies (an engine restart, the OOM killer taking judge-box), a new
box of the same submission takes over for the jobs left. So does one whose job failed in any
other way (a report refused as not judge-box's: box.py): that job is an Internal Error, and
no later job of the submission runs beside what the failed one may have left running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType

from docker.errors import DockerException

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
)
from .compile_cache import Build, cache_key
from .judging import Judge, Outcome, _Program
from .languages import JUDGE_LANGUAGES, JudgeLanguage
from .request import Limits, SubmissionRequest
from .statuses import Status

log = logging.getLogger(__name__)

MIB = 1024 * 1024
MAX_FILES_BYTES = 64 * MIB
# A case's wall clock limit: this many times its CPU limit plus WALL_EXTRA seconds (the CPU
# limit decides; the wall clock only stops a program that sleeps or waits, even on a busy box).
WALL_FACTOR = 5.0
WALL_EXTRA = 2.0
CASE_PIDS = 64


class CaseBoxError(BoxError):
    """The submission's files cannot be put in a box (unsafe names, too large)."""


@dataclass(frozen=True)
class Case:
    """One stdin case: its input, expected output (kept on the host) and limits."""

    stdin: bytes
    expected_output: bytes | None = None
    cpu_seconds: float = 5.0
    memory_kb: int = 262144
    wall_seconds: float = 0.0  # 0: WALL_FACTOR times the CPU limit, plus WALL_EXTRA
    max_file_kb: int = 1024


def language_by_key(key: str) -> JudgeLanguage:
    """Return the judge language of a runner key (``c``, ``python``...)."""
    for language in JUDGE_LANGUAGES.values():
        if language.key == key and language.runner is not None:
            return language
    raise KeyError(key)


def case_limits(case: Case, settings_max_procs: int = CASE_PIDS) -> Limits:
    """Return Judge0-style limits of one case."""
    wall = case.wall_seconds or case.cpu_seconds * WALL_FACTOR + WALL_EXTRA
    return Limits(
        cpu_time_limit=case.cpu_seconds,
        cpu_extra_time=0.5,
        wall_time_limit=wall,
        memory_limit=case.memory_kb,
        stack_limit=64000,
        max_processes_and_or_threads=settings_max_procs,
        max_file_size=case.max_file_kb,
        number_of_runs=1,
        enable_per_process_and_thread_time_limit=False,
        enable_per_process_and_thread_memory_limit=False,
        redirect_stderr_to_stdout=False,
    )


def safe_name(name: str) -> str:
    """Return a submission's file name as a safe relative path, or raise CaseBoxError."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\0" in name:
        raise CaseBoxError(f"unsafe file name in the submission: {name!r}")
    return str(path)


@dataclass
class CaseBox:
    """The one box of one submission: compile once, then run its jobs in turn."""

    judge: Judge
    language: JudgeLanguage
    files: dict[str, bytes]
    program_name: str = ""  # the file the language's runner compiles or runs
    boxes: list[str] = field(default_factory=list)  # ids of the containers used, in order
    _box: Box | None = None
    _build: Build | None = None
    _program: _Program | None = None
    _compiled: Outcome | None = None

    async def __aenter__(self) -> CaseBox:
        """Take a fresh box for this submission and put its files in."""
        total = 0
        for name, data in self.files.items():
            safe_name(name)
            total += len(data)
        if total > MAX_FILES_BYTES:
            raise CaseBoxError(f"the submission is larger than {MAX_FILES_BYTES} bytes")
        self._program = self._make_program()
        await self._new_box(fresh=False)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Remove the box and give up the build's lease."""
        if self._box is not None:
            self.judge.pool.discard(self._box)
            self._box = None
        if self._build is not None:
            await asyncio.to_thread(self._build.release)
            self._build = None

    def _make_program(self) -> _Program:
        """Describe the program: the submission's files, the runner's compile and run argv."""
        runner = self.language.runner
        assert runner is not None
        files = dict(self.files)
        code = ""
        if self.program_name and self.program_name in files:
            code = files[self.program_name].decode("utf-8", errors="replace")
            source = runner.source_name(code)
            files.setdefault(source, files[self.program_name])
            if source != self.program_name:
                files[source] = files[self.program_name]
        compile_cmd = None
        if runner.compile is not None:
            compile_cmd = runner.argv(runner.compile, ".", code)
        run = runner.argv(runner.run, "{dir}", code)
        return _Program(self.language.key, files, compile_cmd, run, code)

    async def _new_box(self, fresh: bool) -> None:
        """Take a box (a newly started one when ``fresh``) and fill it with the program."""
        if self._box is not None:
            self.judge.pool.discard(self._box)
            self._box = None
        key = self.language.key
        box = await self.judge.pool.acquire(key, image_for(key), fresh=fresh)
        self._box = box
        self.boxes.append(box.container.id)
        assert self._program is not None
        source = self._build.path if self._build is not None else None
        files = None if source is not None else self._program.files
        await asyncio.to_thread(fill_slot, box, files, source, b"")

    async def compile(self) -> Outcome:
        """Compile the program once (the cache's build, or compiled in this box on a miss).

        Returns the compile's outcome: ACCEPTED (also for interpreted languages) or
        COMPILATION_ERROR with the compiler's output.
        """
        if self._compiled is not None:
            return self._compiled
        program = self._program
        assert program is not None
        if self._box is None:
            raise BoxError("no sandbox could be started for this submission")
        if program.compile is None:
            self._compiled = Outcome(Status.ACCEPTED)
            return self._compiled
        judge = self.judge
        image_id = judge.image_ids.get(program.key, image_for(program.key))
        key = cache_key(image_id, program.key, program.compile, program.files)
        outcome = Outcome(Status.ACCEPTED, compile_cached=True)
        build = None
        if judge.settings.compile_cache:
            while True:
                build = judge.cache.lease(key)
                if build is not None:
                    judge.cache.hits += 1
                    break
                pending = judge.cache.inflight(key)
                if pending is None:
                    break
                await asyncio.shield(pending)
        if build is None:
            try:
                outcome, build = await self._compile_here(key)
            except BoxGone:
                await self._new_box(fresh=True)
                outcome, build = await self._compile_here(key)
        self._compiled = outcome
        if build is not None:
            self._build = build
            await asyncio.to_thread(self._link_build, self._box, build.path)
        return outcome

    async def _compile_here(self, key: str) -> tuple[Outcome, Build | None]:
        """Compile in this submission's box and keep the build (in the cache when it is on)."""
        judge = self.judge
        program = self._program
        assert program is not None and self._box is not None
        caching = judge.settings.compile_cache
        if caching:
            judge.cache.misses += 1
            judge.cache.begin(key)
        build: Build | None = None
        try:
            outcome, tar = await judge._compile_in(program, self._box)
            if tar is not None:
                if caching:
                    build = await asyncio.to_thread(judge.cache.put_tar, key, tar)
                else:
                    build = await asyncio.to_thread(Build.private, judge.jobs_root, tar)
            return outcome, build
        finally:
            if caching:
                judge.cache.end(key, build is not None)

    @staticmethod
    def _link_build(box: Box, build: Path) -> None:
        """Replace the box's program folder with the compiled build (sources and binary)."""
        target = box.program_dir
        for child in list(target.iterdir()):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        fill_slot(box, None, build, b"")

    async def run_case(self, case: Case) -> Outcome:
        """Run the program on one case as the box's next job and judge it (never raises)."""
        compiled = await self.compile()
        if compiled.status != Status.ACCEPTED:
            return compiled
        assert self._program is not None
        request = SubmissionRequest(
            language=self.language,
            source_code=b"",
            stdin=case.stdin,
            expected_output=case.expected_output,
            compiler_options="",
            command_line_arguments="",
            additional_files=None,
            limits=case_limits(case),
        )
        argv = [part.replace("{dir}", PROGRAM_INSIDE) for part in self._program.run]
        try:
            result = await self._run_job(argv, request.limits, case.stdin, {})
        except (BoxError, OSError) as e:
            log.warning("judge: a case could not run: %s", e)
            return Outcome(Status.INTERNAL_ERROR, message=str(e))
        return self.judge._verdict(request, result, argv)

    async def run_command(
        self,
        argv: list[str],
        limits: Limits,
        *,
        stdin: bytes = b"",
        files: dict[str, bytes] | None = None,
        token_fd: int | None = None,
    ) -> ExecResult:
        """Run ``argv`` in the program's folder as the box's next job.

        ``files`` (test files) are in the folder for this job only: put in right before it,
        removed right after. ``token_fd``: the program gets a fresh token on that descriptor
        (``result.token``). Raises BoxError when the sandbox itself fails.
        """
        for name in files or {}:
            safe_name(name)
        return await self._run_job(argv, limits, stdin, files or {}, token_fd)

    @staticmethod
    def _put_files(box: Box, files: dict[str, bytes]) -> list[Path]:
        """Write job-only files into the program folder; return the paths made."""
        made = []
        for name, data in files.items():
            path = box.program_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                path.unlink()
            path.write_bytes(data)
            path.chmod(0o644)
            made.append(path)
        return made

    @staticmethod
    def _remove_files(box: Box, paths: list[Path]) -> None:
        """Remove job-only files from the program folder."""
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    async def _run_job(
        self,
        argv: list[str],
        lim: Limits,
        stdin: bytes,
        files: dict[str, bytes],
        token_fd: int | None = None,
    ) -> ExecResult:
        """Run one job with its own limits; once more in a new box if this one was gone.

        Any other failure of the box is raised, and the jobs after it run in a new box.
        """
        output_room = 2 * lim.max_file_size * 1024
        limits = ExecLimits(
            wall=lim.wall_time_limit,
            cpu=lim.cpu_time_limit + lim.cpu_extra_time,
            memory_bytes=lim.memory_limit * 1024 + 8 * MIB + output_room,
            pids=lim.max_processes_and_or_threads + OVERHEAD_PIDS,
            stack_kb=lim.stack_limit,
            fsize_kb=lim.max_file_size,
            merge_stderr=lim.redirect_stderr_to_stdout,
        )
        for attempt in (1, 2):
            box = self._box
            if box is None:
                raise BoxError("no sandbox could be started for this submission")
            added = await asyncio.to_thread(self._put_files, box, files)
            await asyncio.to_thread(_write_stdin, box, stdin)
            try:
                return await asyncio.to_thread(
                    execute,
                    box,
                    argv,
                    limits,
                    stdin=STDIN_INSIDE,
                    cwd=PROGRAM_INSIDE,
                    token_fd=token_fd,
                )
            except BoxGone as e:
                if attempt == 2:
                    raise
                e.args = (f"{e}; {await asyncio.to_thread(_last_words, box)}",)
                log.warning(
                    "judge: a submission's box was gone (%s); its next job runs in a new one", e
                )
                await self._new_box(fresh=True)
            except BoxError:
                log.warning("judge: a submission's box failed a job; its next jobs use a new one")
                await self._replace_box()
                raise
            finally:
                await asyncio.to_thread(self._remove_files, box, added)
        raise AssertionError("unreachable")

    async def _replace_box(self) -> None:
        """Swap the box for a new one (the failed one may still run the program)."""
        try:
            await self._new_box(fresh=True)
        except (DockerException, OSError) as e:  # the next job then says the box failed
            log.warning("judge: no new box for the submission: %s", e)


def _last_words(box: Box) -> str:
    """Return the end of a dead box's log (judge-box says why it stopped serving)."""
    try:
        data: bytes = box.container.logs(tail=3)
    except DockerException:
        return "no log"
    return data.decode("utf-8", errors="replace").strip() or "an empty log"


def _write_stdin(box: Box, stdin: bytes) -> None:
    """Give the next job its stdin (the only case data that enters the box)."""
    box.stdin_path.write_bytes(stdin)
    box.stdin_path.chmod(0o644)


async def run_cases(
    judge: Judge, language_key: str, files: dict[str, bytes], program: str, cases: list[Case]
) -> tuple[Outcome, list[Outcome], list[str]]:
    """Compile ``program`` once and run every case in one box of this submission, in order.

    Returns the compile's outcome, each case's outcome (empty when the compile failed) and the
    ids of the containers used (one, unless the box died).
    """
    async with CaseBox(judge, language_by_key(language_key), files, program) as session:
        compiled = await session.compile()
        if compiled.status != Status.ACCEPTED:
            return compiled, [], session.boxes
        outcomes = [await session.run_case(case) for case in cases]
        return compiled, outcomes, session.boxes
