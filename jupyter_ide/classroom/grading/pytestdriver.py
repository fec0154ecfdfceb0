"""The script that runs a Python test file inside the sandbox (copied in, never imported).

judge-box hands it a one-time token on file descriptor 3 (``--token-fd``); it reads and closes
it before anything of the student's is imported. It runs pytest in its own process with the
arguments it was given, counts every test's outcome through a plugin, and once pytest has
returned it prints one line ``IDE-PYTEST-REPORT <token> <json>`` on the stdout it had at
start. Student code can print a pytest summary or this marker, write files, or end the
process early with status 0: without the token no line counts, and no line means failed.
The student's conftest.py and pytest configuration files are not read (``--noconftest``,
``-c /dev/null``): they could rewrite outcomes or load a plugin. It must run on the image's
Python and pytest alone.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

MARK = "IDE-PYTEST-REPORT "
TOKEN_FD = 3


def read_token() -> str:
    """Read the token judge-box gave on TOKEN_FD and close the descriptor ("" when none)."""
    try:
        data = b""
        while not data.endswith(b"\n") and len(data) < 128:
            part = os.read(TOKEN_FD, 128)
            if not part:
                break
            data += part
        os.close(TOKEN_FD)
    except OSError:
        return ""
    return data.decode("ascii", errors="replace").strip()


class Tally:
    """A pytest plugin that counts outcomes: passed tests, failures and errors."""

    def __init__(self) -> None:
        """Start from zero."""
        self.passed = 0
        self.failed = 0
        self.errors = 0
        self.collect_errors = 0

    def pytest_runtest_logreport(self, report: Any) -> None:
        """Count one phase of one test (setup errors and failures count against it)."""
        if report.when == "call":
            if report.failed or (report.passed and hasattr(report, "wasxfail")):
                self.failed += 1  # an unexpected pass (xpass) fails, as pytest -q shows it
            elif report.passed:
                self.passed += 1
        elif report.failed:
            self.errors += 1

    def pytest_collectreport(self, report: Any) -> None:
        """Count a test file that could not be collected."""
        if report.failed:
            self.collect_errors += 1


def main() -> None:
    """Run pytest on the arguments; report with the token once it has returned."""
    token = read_token()
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    import pytest  # the image's, before the student's folder is on the path (a pytest.py there)

    sys.path.insert(0, os.getcwd())  # run with -I: the student's modules, as `python -m pytest`

    tally = Tally()
    code = int(pytest.main(sys.argv[1:], plugins=[tally]))
    sys.stdout.flush()
    sys.stderr.flush()
    report = {
        "exit": code,
        "passed": tally.passed,
        "failed": tally.failed,
        "errors": tally.errors + tally.collect_errors,
    }
    out.write(f"\n{MARK}{token} {json.dumps(report)}\n")
    out.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
