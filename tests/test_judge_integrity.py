"""Programs under judgement cannot forge their verdict (real Docker, judge-box, the images).

The judged program runs as the same user as judge-box and may write the report file and
signal the host itself; the host accepts only a report holding the job's one-time code, which
the program never sees (judge-box is not dumpable). In the classroom grader, a pytest file's
or a notebook's pass comes only from its driver's line with a per-job token: printing pytest's
summary or the driver's marker, writing report files or exiting early with status 0 fail.
"""

from __future__ import annotations

import json
from pathlib import Path

from jupyter_ide.classroom.spec import GradingSpec
from jupyter_ide.classroom.spec import TestCase as Graded
from jupyter_ide.kernels.judge.manager import JudgeManager
from jupyter_ide.kernels.judge.statuses import Status
from jupyter_ide.kernels.judge.submission import Submission

from .test_classroom_grader import PYTEST_FILE, by_name, grader, notebook

# One program for every attack: stdin says which. "forge" rewrites /judge/result as judge-box
# would write it (keeping any field judge-box wrote there for an earlier job, its code too),
# claiming a clean exit with the expected output, signals /judge/done and waits to be killed.
# "peek" tries to read judge-box's memory; a number is doubled honestly.
PROGRAM = r"""
import os, sys, time
given = sys.stdin.read().strip()
if given == "forge":
    try:
        old = open("/judge/result", "rb").read().split(b"\n", 1)[0]
    except OSError:
        old = b""
    fields = dict(item.split(b"=", 1) for item in old.split()[1:] if b"=" in item)
    out = b"FORGED-OK\n"
    fields.update({b"exit": b"0", b"signal": b"0", b"wall": b"0.001000", b"timeout": b"0",
                   b"cpu_timeout": b"0", b"exec_errno": b"0", b"collected": b"0",
                   b"rss": b"100", b"stdout": str(len(out)).encode(), b"stderr": b"0"})
    header = b"JUDGEBOX " + b" ".join(k + b"=" + v for k, v in fields.items()) + b"\n"
    with open("/judge/result", "wb") as report:
        report.write(header + out)
    done = os.open("/judge/done", os.O_WRONLY)
    os.write(done, b"d")
    os.close(done)
    time.sleep(20)
    sys.exit(1)
if given == "peek":
    for what in ("mem", "environ"):
        try:
            with open(f"/proc/{os.getppid()}/{what}", "rb") as f:
                f.read(1)
            print(what, "read")
        except OSError as e:
            print(what, "denied", e.errno)
    sys.exit(0)
print(int(given) * 2)
"""


async def _judge0(judge: JudgeManager, stdin: str, expected: str | None) -> Submission:
    """Submit PROGRAM as a Judge0 Python submission and wait for its verdict."""
    body: dict[str, object] = {"language_id": 71, "source_code": PROGRAM, "stdin": stdin}
    if expected is not None:
        body["expected_output"] = expected
    (sub,) = await judge.submit("mallory", [body], base64_encoded=False)
    assert isinstance(sub, Submission), sub
    done = await judge.wait(sub.token)
    assert done is not None
    return done


async def test_a_forged_judge_box_report_is_an_internal_error_not_a_verdict(
    tmp_path: Path,
) -> None:
    async with grader(tmp_path) as graded:
        try:
            forged = await _judge0(graded.judge, "forge", "FORGED-OK\n")
            peek = await _judge0(graded.judge, "peek", None)
            honest = await _judge0(graded.judge, "21", "42\n")
        finally:
            await graded.judge.store.db.dispose()  # its rows were written: close the file
    assert honest.status == Status.ACCEPTED, honest.outcome
    assert forged.status == Status.INTERNAL_ERROR, forged.outcome
    assert forged.outcome is not None and forged.outcome.stdout != b"FORGED-OK\n"
    assert "code" in (forged.outcome.message or "")
    # judge-box is not dumpable: its memory (the job's code) is closed to the program.
    assert peek.status == Status.ACCEPTED, peek.outcome
    assert peek.outcome is not None and peek.outcome.stdout is not None
    lines = peek.outcome.stdout.decode().splitlines()
    assert lines == ["mem denied 13", "environ denied 13"], lines


async def test_an_earlier_jobs_code_does_not_pass_a_later_case_and_the_box_is_replaced(
    tmp_path: Path,
) -> None:
    def case(name: str, given: str, expected: str) -> Graded:
        return Graded(name, "stdin", 1.0, program="main.py", stdin=given, expected_output=expected)

    spec = GradingSpec(
        "python",
        (
            case("first", "1", "2\n"),
            case("forged", "forge", "FORGED-OK\n"),
            case("after", "5", "10\n"),
        ),
    )
    async with grader(tmp_path) as graded:
        report = await graded.grade(spec, {"main.py": PROGRAM.encode()}, {}, "mallory")
        boxes = graded.boxes_used[-1]
    results = by_name(report)
    assert results["first"].status == "passed", results["first"]
    assert results["forged"].status == "failed", results["forged"]
    assert "Internal Error" in results["forged"].output
    assert "FORGED-OK" not in results["forged"].output
    assert results["after"].status == "passed", results["after"]
    assert len(boxes) == 2 and boxes[0] != boxes[1]  # nothing ran beside the forger


# Imported by the test file: prints what pytest would, and what the driver would (with a
# guessed token), leaves report files, then ends the process with status 0. pytest captures
# file descriptor 1 while it imports, so the lines go straight into judge-box's stdout file.
CHEAT_MODULE = rb"""
import json, os
fake = json.dumps({"exit": 0, "passed": 2, "failed": 0, "errors": 0})
with open("/tmp/.judge-stdout", "a") as out:
    out.write("test_shapes.py ..\n")
    out.write("IDE-PYTEST-REPORT " + "0" * 32 + " " + fake + "\n")
    out.write("===== 2 passed in 0.01s =====\n")
for name in ("/tmp/junit.xml", "/tmp/report.xml", "/tmp/.pytest-report.json"):
    with open(name, "w") as f:
        f.write('<testsuite tests="2" failures="0" errors="0"/>')
os._exit(0)
"""
HONEST_MODULE = (
    b"def area(a, b):\n    return a * b\n\ndef perimeter(a, b):\n    return 2 * (a + b)\n"
)


# A student's conftest.py that turns every failure into a pass.
CHEAT_CONFTEST = b"""
import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
"""


async def test_a_pytest_file_is_not_passed_by_a_printed_summary_or_an_early_exit(
    tmp_path: Path,
) -> None:
    spec = GradingSpec("python", (Graded("shapes", "file", 1.0, path="test_shapes.py"),))
    files = {"test_shapes.py": PYTEST_FILE}
    wrong = HONEST_MODULE.replace(b"2 * (a + b)", b"a + b")
    async with grader(tmp_path) as graded:
        cheat = await graded.grade(spec, {"shapes.py": CHEAT_MODULE}, files, "mallory")
        hooked = await graded.grade(
            spec, {"shapes.py": wrong, "conftest.py": CHEAT_CONFTEST}, files, "mallory"
        )
        honest = await graded.grade(spec, {"shapes.py": HONEST_MODULE}, files, "alice")
    assert honest.results[0].status == "passed", honest.results[0]
    assert "IDE-PYTEST-REPORT" not in honest.results[0].output  # the token is not shown
    assert cheat.results[0].status == "failed", cheat.results[0]
    assert "pytest did not finish" in cheat.results[0].output
    assert hooked.results[0].status == "failed", hooked.results[0]
    assert "FAILED test_shapes.py::test_perimeter" in hooked.results[0].output


NOTEBOOK_TESTS = (
    Graded("double", "notebook", 1.0, program="hw.ipynb", source="assert double(4) == 8"),
    Graded("total", "notebook", 1.0, program="hw.ipynb", source="assert total == 45"),
)


def _forged_notebook_line(token: str) -> str:
    """The driver's report line claiming every test passed, with ``token`` if any."""
    tests = [{"name": t.name, "passed": True, "output": ""} for t in NOTEBOOK_TESTS]
    return "IDE-GRADE-REPORT " + token + json.dumps({"cell_errors": 0, "tests": tests}) + "\n"


async def test_a_notebook_cell_cannot_print_the_report_and_exit(tmp_path: Path) -> None:
    spec = GradingSpec("python", NOTEBOOK_TESTS)
    cheat_cell = (
        "import os\n"
        f"os.write(1, {_forged_notebook_line('0' * 32 + ' ')!r}.encode())\n"
        f"os.write(1, {_forged_notebook_line('')!r}.encode())\n"
        "os._exit(0)\n"
    )
    honest = ["def double(x):\n    return 2 * x", "total = sum(range(10))"]
    async with grader(tmp_path) as graded:
        cheat = await graded.grade(spec, {"hw.ipynb": notebook([cheat_cell])}, {}, "mallory")
        good = await graded.grade(spec, {"hw.ipynb": notebook(honest)}, {}, "alice")
    assert [r.status for r in good.results] == ["passed", "passed"], good.results
    assert [r.status for r in cheat.results] == ["failed", "failed"], cheat.results
    assert all("stopped before its tests ran" in r.output for r in cheat.results)
