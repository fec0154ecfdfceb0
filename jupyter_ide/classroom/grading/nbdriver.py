"""The script that grades a notebook inside the sandbox (copied in as a file, never imported).

It reads one JSON document from stdin: ``cells`` (the student's code cells, in order),
``tests`` (each ``name``, ``source``, ``cpu``) and ``cell_cpu``. It runs every student cell in
one namespace (an exception is noted and the next cell runs), then each test's source in the
same namespace, each under its own CPU and wall timers, with its stdout and stderr captured and
capped. It prints one line ``IDE-GRADE-REPORT <token> <json>`` with each test's pass/fail and
output, where the token is the one judge-box handed it on file descriptor 3 for this job
(``--token-fd``), read and closed before any student cell runs. A cell that prints a report
line, writes files or ends the process early (``os._exit(0)``) cannot pass a test: without the
token no line counts, and no line fails every test. It must run on the image's Python alone
(standard library only).

What it cannot stop: student cells run in this same process, before the tests and in their
namespace, so code written to cheat can always pass (replace this module's functions, search
the process's objects for the token, define objects whose ``__eq__`` is always true, patch
builtins). Such code is in the submission for the instructor to see; the grade is only as
good as the tests against a hostile notebook.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import traceback
from typing import Any

CAP = 8192
MARK = "IDE-GRADE-REPORT "
TOKEN_FD = 3


class TestTimeout(BaseException):
    """A cell ran past its time limit."""


class Capped(io.TextIOBase):
    """A text sink that keeps the first CAP characters and counts the rest."""

    def __init__(self) -> None:
        """Start empty."""
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def writable(self) -> bool:
        """Say the sink takes text."""
        return True

    def write(self, text: Any) -> int:
        """Keep what fits under the cap."""
        text = str(text)
        room = CAP - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def text(self) -> str:
        """Return what was kept, with a note of what was dropped."""
        body = "".join(self.parts)
        if self.dropped:
            body += f"\n[... {self.dropped} more characters]"
        return body


def on_timer(signum: int, frame: Any) -> None:
    """Stop the running cell."""
    raise TestTimeout("time limit exceeded")


def run_cell(source: str, namespace: dict[str, Any], cpu: float, name: str) -> tuple[bool, str]:
    """Run one cell; return (ok, captured text)."""
    sink = Capped()
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = sink
    ok = True
    try:
        signal.setitimer(signal.ITIMER_PROF, cpu)
        signal.setitimer(signal.ITIMER_REAL, cpu * 5 + 2)
        code = compile(source, name, "exec")
        exec(code, namespace)  # noqa: S102 - the student's notebook, in the sandbox
    except TestTimeout:
        ok = False
        sink.write(f"TimeoutError: the cell ran past its time limit ({cpu:.1f} s)\n")
    except BaseException:
        ok = False
        kind, value, trace = sys.exc_info()
        sink.write(
            "".join(traceback.format_exception(kind, value, trace.tb_next if trace else None))
        )
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        sys.stdout, sys.stderr = saved
    return ok, sink.text()


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


def main() -> None:
    """Grade the notebook given on stdin."""
    token = read_token()
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    sys.path.insert(0, os.getcwd())  # run with -I: the student's modules, after ours
    signal.signal(signal.SIGPROF, on_timer)
    signal.signal(signal.SIGALRM, on_timer)
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    errors = 0
    for index, source in enumerate(job["cells"]):
        ok, _ = run_cell(source, namespace, job["cell_cpu"], f"<cell {index + 1}>")
        errors += 0 if ok else 1
    results: list[dict[str, Any]] = []
    for test in job["tests"]:
        ok, text = run_cell(test["source"], namespace, test["cpu"], f"<test {test['name']}>")
        results.append({"name": test["name"], "passed": ok, "output": text})
    sys.stdout.flush()
    out.write(f"\n{MARK}{token} " + json.dumps({"cell_errors": errors, "tests": results}) + "\n")
    out.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
