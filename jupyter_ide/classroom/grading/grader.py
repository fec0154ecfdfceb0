"""JudgeGrader: every test of one submission in one fresh judge box of its own (spec.Grader).

Where a test's pass or fail comes from, and what the student's code can and cannot fake:

- Every job's figures (exit status, signal, time, memory, output) come from judge-box's report,
  which the host accepts only with the job's one-time code (kernels/judge/box.py): a program
  that writes the report file or signals the host itself gets an Internal Error, not a pass.
- Stdin cases: the host compares the output with the expected one, which never enters the box.
- Python test files: pytest runs under pytestdriver.py, which reports with a token judge-box
  hands it for that job alone (pytests.py). A printed pytest summary or marker, a junit or
  report file, ``os._exit(0)`` at import: no token, no pass. The student's conftest.py and
  pytest configuration files are not read.
- Notebook test cells: nbdriver.py reports the same way (notebooks.py).
- Commands (other languages): the command's exit status, from judge-box's report. A command
  that runs the student's program in its own process, or hands it its verdict, can be made to
  exit 0 by that program; so can one the program attaches to with ptrace (same user; the
  sandbox profile allows it). Write commands that run the program as a child and judge its
  output themselves.
- Always possible, and only documented: the student's code that runs in the same process as
  the tests (imported by pytest, or a notebook's cells) can cheat on purpose, e.g. an object
  whose ``__eq__`` always returns True, patched pytest or driver functions, or the token read
  from the process's own memory.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING

from ...kernels.judge.box import BoxError
from ...kernels.judge.cases import Case, CaseBox, CaseBoxError, case_limits, language_by_key
from ...kernels.judge.judging import Outcome
from ...kernels.judge.statuses import Status
from ..spec import GradeReport, GradingSpec, TestCase, TestResult
from .lanes import GradingLanes
from .notebooks import (
    DRIVER,
    DRIVER_NAME,
    TOKEN_FD,
    NotebookError,
    driver_job,
    driver_limits,
    read_report,
    student_cells,
)
from .output import clip, clip_bytes
from .pytests import command as pytest_command
from .pytests import driver_files as pytest_driver_files
from .pytests import read_report as read_pytest_report

if TYPE_CHECKING:
    from ...kernels.judge.manager import JudgeManager

log = logging.getLogger(__name__)

KEEP_BOXES_USED = 1000
SHOWN_EXPECTED = ("visible", "after_due_date", "after_published")  # never for hidden tests


def _failed(test: TestCase, output: str) -> TestResult:
    """Return a failed result with a message."""
    return TestResult(test.name, 0.0, test.points, "failed", clip(output), test.visibility)


def _result(test: TestCase, passed: bool, output: str, outcome: Outcome | None) -> TestResult:
    """Return a test's result with its figures."""
    return TestResult(
        test.name,
        test.points if passed else 0.0,
        test.points,
        "passed" if passed else "failed",
        clip(output),
        test.visibility,
        cpu_seconds=outcome.time if outcome else None,
        memory_kb=outcome.memory if outcome else None,
    )


def _case(test: TestCase) -> Case:
    """Return the judge case of a stdin test."""
    return Case(
        stdin=test.stdin.encode("utf-8"),
        expected_output=test.expected_output.encode("utf-8"),
        cpu_seconds=test.limits.cpu_seconds,
        memory_kb=test.limits.memory_kb,
    )


def _describe_run(test: TestCase, outcome: Outcome) -> str:
    """Say what a stdin case did: status, message, output (expected only when shown)."""
    lines = [outcome.status.description]
    if outcome.message:
        lines.append(outcome.message)
    if outcome.compile_output:
        lines.append("Compiler output:\n" + clip_bytes(outcome.compile_output))
    if outcome.status == Status.WRONG_ANSWER and test.visibility in SHOWN_EXPECTED:
        lines.append("Expected output:\n" + clip(test.expected_output, 2048))
    if outcome.stdout:
        lines.append("Output:\n" + clip_bytes(outcome.stdout, 2048))
    if outcome.stderr:
        lines.append("Errors:\n" + clip_bytes(outcome.stderr, 2048))
    return "\n".join(lines)


class JudgeGrader:
    """Grades submissions in the judge's sandboxes, a bounded number at once."""

    def __init__(self, judge: JudgeManager, lanes: int = 0) -> None:
        """Grade through ``judge``; ``lanes`` at once (0: the judge's worker count)."""
        self.judge = judge
        size = lanes or judge.settings.worker_count()
        self.lanes = GradingLanes(size, self._count)
        # The containers each recent submission ran in (one, unless its box died).
        self.boxes_used: deque[list[str]] = deque(maxlen=KEEP_BOXES_USED)

    def _count(self, change: int) -> None:
        """Show running gradings in the judge's own count (health, bench)."""
        self.judge.running += change

    async def close(self) -> None:
        """Stop the grading lanes."""
        await self.lanes.close()

    async def grade(
        self,
        spec: GradingSpec,
        submission: dict[str, bytes],
        instructor_files: dict[str, bytes],
        owner: str,
    ) -> GradeReport:
        """Grade one submission of ``owner`` when a lane is free (see spec.Grader)."""
        await self.judge.available()  # JudgeUnavailable: nothing can be graded now
        report: GradeReport = await self.lanes.run(
            owner, lambda: self._grade(spec, submission, instructor_files)
        )
        return report

    async def _grade(
        self, spec: GradingSpec, submission: dict[str, bytes], instructor_files: dict[str, bytes]
    ) -> GradeReport:
        """Run every test of the spec in one new box of this submission."""
        judge = self.judge.judge
        assert judge is not None
        try:
            language = language_by_key(spec.language)
        except KeyError:
            return GradeReport(
                tuple(_failed(t, f"unknown language {spec.language!r}") for t in spec.tests)
            )
        program = next((t.program for t in spec.tests if t.kind == "stdin" and t.program), "")
        results: dict[int, TestResult] = {}
        try:
            async with CaseBox(judge, language, submission, program) as box:
                await self._stdin_tests(box, spec, results)
                await self._file_tests(box, spec, instructor_files, results)
                await self._notebook_tests(box, spec, submission, results)
                self.boxes_used.append(list(box.boxes))
        except CaseBoxError as e:
            return GradeReport(tuple(_failed(t, str(e)) for t in spec.tests))
        except BoxError as e:
            log.warning("grading: the sandbox failed: %s", e)
            message = f"Internal error: the sandbox failed ({e})"
            return GradeReport(
                tuple(results.get(i) or _failed(t, message) for i, t in enumerate(spec.tests))
            )
        return GradeReport(tuple(results[i] for i in range(len(spec.tests))))

    async def _stdin_tests(
        self, box: CaseBox, spec: GradingSpec, results: dict[int, TestResult]
    ) -> None:
        """Compile once, then run each stdin case in turn."""
        for index, test in enumerate(spec.tests):
            if test.kind != "stdin":
                continue
            if test.program and test.program != box.program_name:
                results[index] = _failed(
                    test, f"only one program per submission is graded ({box.program_name})"
                )
                continue
            if box.program_name and box.program_name not in box.files:
                results[index] = _failed(test, f"{box.program_name} is not in the submission")
                continue
            outcome = await box.run_case(_case(test))
            passed = outcome.status == Status.ACCEPTED
            results[index] = _result(test, passed, _describe_run(test, outcome), outcome)

    async def _file_tests(
        self,
        box: CaseBox,
        spec: GradingSpec,
        instructor_files: dict[str, bytes],
        results: dict[int, TestResult],
    ) -> None:
        """Run each test file beside the submission (pytest, or the test's command)."""
        for index, test in enumerate(spec.tests):
            if test.kind != "file":
                continue
            file_path, _, node = test.path.partition("::")
            data = instructor_files.get(file_path)
            if data is None:
                results[index] = _failed(test, f"the test file {file_path} is missing")
                continue
            files = {file_path: data}
            token_fd: int | None = None
            if test.command:
                argv = list(test.command)
            elif spec.language == "python":
                argv = pytest_command(test.path if node else file_path)
                files.update(pytest_driver_files())
                token_fd = TOKEN_FD
            else:
                results[index] = _failed(test, "a file test in this language needs a command")
                continue
            compiled = await box.compile() if spec.language != "python" else None
            if compiled is not None and compiled.status != Status.ACCEPTED:
                results[index] = _result(test, False, _describe_run(test, compiled), compiled)
                continue
            case = _case(test)
            try:
                run = await box.run_command(argv, case_limits(case), files=files, token_fd=token_fd)
            except CaseBoxError as e:
                results[index] = _failed(test, str(e))
                continue
            passed = (
                run.exit_code == 0
                and run.signal == 0
                and not run.timed_out
                and not run.cpu_timed_out
                and not run.oom_killed
                and not run.exec_errno
            )
            stdout = run.stdout
            if token_fd is not None:
                # Exit status 0 is not enough: only the driver's report with this job's token
                # says that pytest ran to its end with tests passed and none failed.
                report, stdout = read_pytest_report(run.stdout, run.token)
                passed = passed and report is not None and report.ok
                if report is None:
                    stdout += b"\n[pytest did not finish: the tests' process ended early]"
            text = clip_bytes(stdout) + ("\n" + clip_bytes(run.stderr) if run.stderr else "")
            if run.timed_out or run.cpu_timed_out:
                text = "Time limit exceeded\n" + text
            elif run.oom_killed:
                text = "Memory limit exceeded\n" + text
            outcome = Outcome(
                Status.ACCEPTED, time=round(run.cpu_time, 3), memory=run.memory_bytes // 1024
            )
            results[index] = _result(test, passed, text, outcome)

    async def _notebook_tests(
        self,
        box: CaseBox,
        spec: GradingSpec,
        submission: dict[str, bytes],
        results: dict[int, TestResult],
    ) -> None:
        """Run each notebook's student cells, then its test cells, in one job per notebook."""
        notebooks: dict[str, list[int]] = {}
        for index, test in enumerate(spec.tests):
            if test.kind == "notebook":
                notebooks.setdefault(test.program, []).append(index)
        for path, indexes in notebooks.items():
            tests = [spec.tests[i] for i in indexes]
            if spec.language != "python":
                for i in indexes:
                    results[i] = _failed(spec.tests[i], "notebook tests are graded in Python")
                continue
            try:
                cells = student_cells(submission.get(path), path)
            except NotebookError as e:
                for i in indexes:
                    results[i] = _failed(spec.tests[i], str(e))
                continue
            cpu, memory = driver_limits(cells, tests)
            limits = case_limits(Case(b"", cpu_seconds=cpu, memory_kb=memory, max_file_kb=4096))
            run = await box.run_command(
                ["python", "-I", "-B", DRIVER_NAME],
                limits,
                stdin=driver_job(cells, tests),
                files={DRIVER_NAME: DRIVER.read_bytes()},
                token_fd=TOKEN_FD,
            )
            found = read_report(run.stdout, tests, run.token)
            if found is None:
                why = "the notebook stopped before its tests ran"
                if run.timed_out or run.cpu_timed_out:
                    why = "the notebook ran past its time limit"
                elif run.oom_killed:
                    why = "the notebook ran out of memory"
                detail = clip_bytes(run.stderr, 2048)
                for i in indexes:
                    results[i] = _failed(spec.tests[i], f"{why}\n{detail}".strip())
                continue
            for i in indexes:
                test = spec.tests[i]
                got = found.get(test.name)
                if got is None:
                    results[i] = _failed(test, "the test did not run")
                else:
                    results[i] = _result(test, got.passed, got.output, None)
