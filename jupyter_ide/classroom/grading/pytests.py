"""Python test files, host side: the driver's command and files, and its report.

The verdict of a test file comes from two things the student's code cannot make: judge-box's
report of the job (checked by its one-time code, kernels/judge/box.py) and the line that
pytestdriver.py prints with this job's token once pytest has returned. Printing a pytest
summary or the marker, writing a junit or report file, or ``os._exit(0)`` while the tests
import the student's module all fail. Code that runs inside the pytest process can still
cheat on purpose (see pytestdriver.py and nbdriver.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DRIVER = Path(__file__).with_name("pytestdriver.py")
DRIVER_NAME = ".ide-grade-pytest.py"  # where the driver sits in the box for its job
MARK = "IDE-PYTEST-REPORT "
# The test file is the instructor's; a conftest.py or pytest.ini in the folder is the
# student's, and could rewrite outcomes: neither is read.
PYTEST_ARGS = (
    "-q",
    "-rA",
    "-p",
    "no:cacheprovider",
    "--color=no",
    "--noconftest",
    "-c",
    "/dev/null",
    "--rootdir",
    ".",
)


@dataclass(frozen=True)
class PytestReport:
    """What the driver counted: pytest's exit status, passed tests, failures and errors."""

    exit: int
    passed: int
    failed: int
    errors: int

    @property
    def ok(self) -> bool:
        """Whether pytest succeeded with at least one test passed and none failed or erred."""
        return self.exit == 0 and self.passed > 0 and self.failed == 0 and self.errors == 0


def command(target: str) -> list[str]:
    """Return the argv that runs pytest on ``target`` (a file, or file::node) through the driver."""
    return ["python", "-I", "-B", DRIVER_NAME, *PYTEST_ARGS, target]


def driver_files() -> dict[str, bytes]:
    """Return the files the job needs beside the test file (the driver)."""
    return {DRIVER_NAME: DRIVER.read_bytes()}


def read_report(stdout: bytes, token: str) -> tuple[PytestReport | None, bytes]:
    """Return the driver's report with ``token`` (or None) and the output without it."""
    if len(token) < 32:
        return None, stdout
    mark = f"{MARK}{token} ".encode()
    at = stdout.rfind(mark)
    if at < 0:
        return None, stdout
    line, _, rest = stdout[at + len(mark) :].partition(b"\n")
    shown = stdout[:at].rstrip(b"\n") + (b"\n" + rest if rest else b"")
    try:
        fields = json.loads(line)
        report = PytestReport(
            int(fields["exit"]), int(fields["passed"]), int(fields["failed"]), int(fields["errors"])
        )
    except (ValueError, KeyError, TypeError):
        return None, shown
    return report, shown
