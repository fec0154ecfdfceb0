"""The autograder (issue #15) against the real Docker engine and the project's images.

A submission's tests run in one box of its own, one after another, each with its own limits:
proved by the engine's container events and by a file the program keeps in the box's /tmp.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import docker

from jupyter_ide.cache import MemoryCache
from jupyter_ide.classroom.grading import JudgeGrader
from jupyter_ide.classroom.spec import GradeReport, GradingSpec
from jupyter_ide.classroom.spec import TestCase as Graded
from jupyter_ide.classroom.spec import TestLimits as Limits
from jupyter_ide.db import Database, ensure_schema
from jupyter_ide.kernels.judge.manager import JudgeManager
from jupyter_ide.kernels.judge.settings import JudgeSettings

from .test_judge_common import docker_or_fail

RUN_LABEL = "jupyter-ide.test-grader-run"

# Counts its runs in the box's /tmp (so one box shows 1, 2, 3...), then doubles its input;
# -1 spins, -2 eats memory, -3 exits with 3, -4 fork-bombs, -5 prints 64 MB.
C_PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(void) {
    FILE *f = fopen("/tmp/runs", "r");
    int runs = 0;
    if (f) { if (fscanf(f, "%d", &runs) != 1) runs = 0; fclose(f); }
    f = fopen("/tmp/runs", "w");
    fprintf(f, "%d", runs + 1);
    fclose(f);
    fprintf(stderr, "run %d\n", runs + 1);
    long x;
    if (scanf("%ld", &x) != 1) return 1;
    if (x == -1) for (;;) {}
    if (x == -2) for (;;) { char *p = malloc(1 << 20); if (p) memset(p, 1, 1 << 20); }
    if (x == -3) return 3;
    if (x == -4) for (;;) fork();
    if (x == -5) { static char line[4096]; memset(line, 'y', sizeof line - 1);
                   for (int i = 0; i < 16384; i++) puts(line); return 0; }
    printf("%ld\n", 2 * x);
    return 0;
}
"""


@contextlib.asynccontextmanager
async def grader(tmp_path: Path, lanes: int = 2, pool: int = 0) -> AsyncIterator[JudgeGrader]:
    """A judge on its own SQLite file and folder (boxes labelled for this test) and its grader."""
    docker_or_fail()
    url = f"sqlite:///{tmp_path / 'grader.db'}"
    await asyncio.to_thread(ensure_schema, url)
    settings = JudgeSettings(
        data_dir=str(tmp_path / "judge"),
        pool_size=pool,
        warm_languages="",
        submissions_per_minute=0,
        workers=lanes,
    )
    judge = JudgeManager(settings, Database(url), MemoryCache(), None, tmp_path)
    await judge.start()
    await judge.available()
    assert judge.pool is not None
    judge.pool.labels[RUN_LABEL] = uuid.uuid4().hex
    graded = JudgeGrader(judge, lanes=lanes)
    try:
        yield graded
    finally:
        await graded.close()
        await judge.stop()


def containers_created(graded: JudgeGrader, since: float) -> int:
    """Count the containers the engine created with this test's label since ``since``."""
    assert graded.judge.pool is not None
    label = f"{RUN_LABEL}={graded.judge.pool.labels[RUN_LABEL]}"
    engine = docker.from_env(timeout=30)
    try:
        events = engine.events(
            since=int(since) - 1,
            until=int(time.time()) + 1,
            filters={"type": "container", "event": "create", "label": label},
            decode=True,
        )
        return len(list(events))
    finally:
        engine.close()


def stdin_test(name: str, given: str, expected: str, **kw: Any) -> Graded:
    """A stdin case of main.c."""
    return Graded(name, "stdin", 1.0, program="main.c", stdin=given, expected_output=expected, **kw)


def by_name(report: GradeReport) -> dict[str, Any]:
    """Index a report's results by test name."""
    return {result.name: result for result in report.results}


async def test_ten_c_cases_run_in_one_box_with_their_own_limits(tmp_path: Path) -> None:
    small = Limits(cpu_seconds=1.0, memory_kb=32768)
    tests = [stdin_test(f"double {i}", f"{i}\n", f"{2 * i}\n") for i in range(1, 6)]
    tests += [
        stdin_test("wrong", "7\n", "15\n"),
        stdin_test("hidden wrong", "8\n", "SECRET-EXPECTED\n", visibility="hidden"),
        stdin_test("spins", "-1\n", "", limits=small),
        stdin_test("eats memory", "-2\n", "", limits=small),
        stdin_test("exit 3", "-3\n", ""),
    ]
    spec = GradingSpec("c", tuple(tests))
    async with grader(tmp_path) as graded:
        since = time.time()
        report = await graded.grade(spec, {"main.c": C_PROGRAM.encode()}, {}, "alice")
        created = containers_created(graded, since)
    results = by_name(report)
    assert [r.status for r in report.results] == ["passed"] * 5 + ["failed"] * 5
    assert report.score == 5.0 and report.max_score == 10.0
    assert "Wrong Answer" in results["wrong"].output
    assert "Expected output:\n15" in results["wrong"].output
    assert "SECRET-EXPECTED" not in results["hidden wrong"].output
    assert "Time Limit Exceeded" in results["spins"].output
    assert (
        results["spins"].cpu_seconds > 0.1
    )  # its CPU limit, or the wall clock's on a busy machine
    assert "Memory limit exceeded" in results["eats memory"].output
    assert results["eats memory"].memory_kb >= 32768 * 0.9
    assert "Exited with error status 3" in results["exit 3"].output
    assert results["double 1"].memory_kb < 32768
    # One box: the compile and all ten cases ran in one container, which counted ten runs.
    assert created == 1, created
    assert len(graded.boxes_used) == 1 and len(graded.boxes_used[0]) == 1
    for number, result in enumerate(report.results, start=1):
        if result.name not in ("spins", "eats memory"):  # killed: their stderr is not kept
            assert f"run {number}\n" in result.output, (number, result.output)


def notebook(cells: list[str]) -> bytes:
    """An nbformat 4 notebook of code cells (sources as lists of lines, as Jupyter saves)."""
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
            "cells": [
                {
                    "cell_type": "code",
                    "id": f"c{i}",
                    "metadata": {},
                    "execution_count": None,
                    "outputs": [],
                    "source": cell.splitlines(keepends=True),
                }
                for i, cell in enumerate(cells)
            ]
            + [{"cell_type": "markdown", "id": "md", "metadata": {}, "source": "# Done"}],
        }
    ).encode()


STUDENT_CELLS = [
    "import math\n\ndef area(r):\n    return math.pi * r * r",
    "def square(x):\n    return x * x",
    "def greet(name):\n    return 'hello ' + name",
    "raise RuntimeError('a student cell that fails')",
    "%matplotlib inline\ntotal = sum(range(10))",
]
NB_TESTS = (
    Graded(
        "area", "notebook", 2.0, program="hw.ipynb", source="assert abs(area(1) - 3.14159) < 1e-4"
    ),
    Graded(
        "square", "notebook", 2.0, program="hw.ipynb", source="assert square(3) == 9\nprint('nine')"
    ),
    Graded(
        "greet",
        "notebook",
        2.0,
        "hidden",
        program="hw.ipynb",
        source="assert greet('a') == 'hello a'",
    ),
    Graded("total", "notebook", 2.0, program="hw.ipynb", source="assert total == 45"),
    Graded(
        "slow",
        "notebook",
        1.0,
        program="hw.ipynb",
        source="while True:\n    pass",
        limits=Limits(cpu_seconds=1.0),
    ),
)


async def test_a_notebook_and_its_mangled_variants_get_every_other_test_graded(
    tmp_path: Path,
) -> None:
    spec = GradingSpec("python", NB_TESTS)
    split = [*STUDENT_CELLS[:1], "def square(x):", "    return x * x", *STUDENT_CELLS[2:]]
    variants = {
        "original": STUDENT_CELLS,
        "duplicated": [*STUDENT_CELLS[:2], STUDENT_CELLS[1], *STUDENT_CELLS[2:], STUDENT_CELLS[0]],
        # The function's cell split in two: each half alone is a syntax error.
        "split": split,
        "deleted": [c for c in STUDENT_CELLS if "greet" not in c],
    }
    async with grader(tmp_path) as graded:
        reports = await asyncio.gather(
            *(
                graded.grade(spec, {"hw.ipynb": notebook(cells)}, {}, f"student-{name}")
                for name, cells in variants.items()
            )
        )
    got = {name: by_name(report) for name, report in zip(variants, reports, strict=True)}
    for name in variants:
        assert got[name]["area"].status == "passed", (name, got[name]["area"])
        assert got[name]["total"].status == "passed", name  # after the failing student cell
        assert got[name]["slow"].status == "failed"
        assert "time limit" in got[name]["slow"].output
    assert got["original"]["square"].output == "nine\n"
    assert [r.score for r in reports[0].results] == [2.0, 2.0, 2.0, 2.0, 0.0]
    assert got["duplicated"]["greet"].status == "passed"
    assert got["split"]["square"].status == "failed"
    assert "NameError" in got["split"]["square"].output
    assert got["split"]["greet"].status == "passed"
    assert got["deleted"]["greet"].status == "failed"
    assert "NameError" in got["deleted"]["greet"].output
    assert got["deleted"]["square"].status == "passed"
    assert got["deleted"]["greet"].visibility == "hidden"


async def test_missing_or_broken_notebooks_fail_their_tests_with_a_message(tmp_path: Path) -> None:
    spec = GradingSpec("python", NB_TESTS[:2])
    async with grader(tmp_path) as graded:
        missing = await graded.grade(spec, {}, {}, "alice")
        broken = await graded.grade(spec, {"hw.ipynb": b"{not json"}, {}, "bob")
    assert all(r.status == "failed" for r in missing.results + broken.results)
    assert "not in the submission" in missing.results[0].output
    assert "not a notebook" in broken.results[0].output


PYTEST_FILE = b"""
from shapes import area, perimeter

def test_area():
    assert area(2, 3) == 6

def test_perimeter():
    assert perimeter(2, 3) == 10
"""


async def test_pytest_file_tests_pass_and_fail_per_file_and_per_test(tmp_path: Path) -> None:
    spec = GradingSpec(
        "python",
        (
            Graded("whole file", "file", 3.0, path="tests/test_shapes.py"),
            Graded("area only", "file", 1.0, path="tests/test_shapes.py::test_area"),
            Graded("perimeter only", "file", 1.0, path="tests/test_shapes.py::test_perimeter"),
            Graded("no such file", "file", 1.0, path="tests/test_missing.py"),
        ),
    )
    submission = {
        "shapes.py": b"def area(a, b):\n    return a * b\n\n"
        b"def perimeter(a, b):\n    return a + b\n"
    }
    files = {"tests/test_shapes.py": PYTEST_FILE}
    async with grader(tmp_path) as graded:
        report = await graded.grade(spec, submission, files, "alice")
    results = by_name(report)
    assert results["whole file"].status == "failed"
    assert "FAILED tests/test_shapes.py::test_perimeter" in results["whole file"].output
    assert "PASSED tests/test_shapes.py::test_area" in results["whole file"].output
    assert results["area only"].status == "passed"
    assert results["perimeter only"].status == "failed"
    assert "missing" in results["no such file"].output
    assert report.score == 1.0


# Looks for a secret in every file it can read; prints where, or "clean".
SEARCH = """
import os, stat, sys
secret = (sys.argv[1] if len(sys.argv) > 1 else sys.stdin.read().strip()).encode()
found = []
for top in ("/box", "/judge", "/tmp", "/home", "/run", "/srv", "/mnt", "/root"):
    for root, dirs, names in os.walk(top):
        for name in names:
            path = os.path.join(root, name)
            try:
                if not stat.S_ISREG(os.lstat(path).st_mode):  # FIFOs would block
                    continue
                with open(path, "rb") as f:
                    if secret in f.read(4 << 20):
                        found.append(path)
            except OSError:
                pass
print("found " + " ".join(found) if found else "clean")
"""


async def test_test_files_and_expected_outputs_are_not_readable_from_the_box(
    tmp_path: Path,
) -> None:
    token = uuid.uuid4().hex
    expected_secret = f"EXPECTED-{token}"
    file_secret = f"TESTFILE-{token}"
    cell_secret = f"TESTCELL-{token}"

    def search(name: str, what: str) -> Graded:
        # The case's stdin is only the part of the secret after its prefix: the full string
        # the program looks for is built from the prefix it is told.
        return Graded(
            name, "stdin", 1.0, "hidden", program="main.py", stdin=what, expected_output="clean"
        )

    spec = GradingSpec(
        "python",
        (
            search("before: hidden expected output", expected_secret),
            Graded(
                "hidden",
                "stdin",
                1.0,
                "hidden",
                program="main.py",
                stdin=f"NOPE-{token}",
                expected_output=expected_secret,
            ),
            search("before: test file", file_secret),
            search("before: test cell", cell_secret),
            Graded("reads its test file", "file", 1.0, "hidden", path="test_secret.py"),
            # The control: during its own job the test file is there, and the search finds it.
            Graded(
                "control",
                "file",
                1.0,
                path="test_secret.py",
                command=("python", "main.py", file_secret),
            ),
            Graded(
                "cell",
                "notebook",
                1.0,
                "hidden",
                program="hw.ipynb",
                source=f"assert '{cell_secret}'",
            ),
            search("after: test file", file_secret),
            search("after: test cell", cell_secret),
        ),
    )
    test_file = f"SECRET = '{file_secret}'\n\ndef test_it():\n    assert SECRET\n".encode()
    submission = {"main.py": SEARCH.encode(), "hw.ipynb": notebook(["x = 1"])}
    async with grader(tmp_path) as graded:
        report = await graded.grade(spec, submission, {"test_secret.py": test_file}, "mallory")
    results = by_name(report)
    for name in (
        "before: hidden expected output",
        "before: test file",
        "before: test cell",
        "after: test file",
        "after: test cell",
    ):
        # The stdin holding the secret is the job's own (/judge/stdin): that one file aside,
        # nothing in the box holds it.
        assert results[name].status == "failed", results[name]
        assert "found /judge/stdin\n" in results[name].output, results[name].output
    assert results["reads its test file"].status == "passed"
    assert "found /box/test_secret.py" in results["control"].output, results["control"].output
    assert results["cell"].status == "passed"
    assert expected_secret not in results["hidden"].output


async def test_a_fork_bomb_and_a_flood_of_output_end_in_their_case_only(tmp_path: Path) -> None:
    spec = GradingSpec(
        "c",
        (
            stdin_test("fork bomb", "-4\n", "", limits=Limits(cpu_seconds=1.0)),
            stdin_test("after the bomb", "21\n", "42\n"),
            stdin_test("flood", "-5\n", ""),
            stdin_test("after the flood", "5\n", "10\n"),
        ),
    )
    async with grader(tmp_path) as graded:
        report = await graded.grade(spec, {"main.c": C_PROGRAM.encode()}, {}, "mallory")
    results = by_name(report)
    assert results["fork bomb"].status == "failed"
    assert results["after the bomb"].status == "passed"
    assert results["flood"].status == "failed"
    assert len(results["flood"].output) < 12_000
    assert results["after the flood"].status == "passed"
    assert "run 4\n" in results["after the flood"].output  # still the same box
    assert len(graded.boxes_used[0]) == 1


async def test_a_box_is_never_shared_between_two_submissions(tmp_path: Path) -> None:
    spec = GradingSpec(
        "c", tuple(stdin_test(f"case {i}", f"{i}\n", f"{2 * i}\n") for i in range(3))
    )
    async with grader(tmp_path, lanes=2, pool=2) as graded:
        since = time.time()
        reports = await asyncio.gather(
            *(graded.grade(spec, {"main.c": C_PROGRAM.encode()}, {}, f"s{i}") for i in range(4))
        )
        await asyncio.sleep(1.0)  # the pool's refills
    boxes = [box for used in graded.boxes_used for box in used]
    assert len(graded.boxes_used) == 4 and len(set(boxes)) == len(boxes), graded.boxes_used
    for report in reports:
        # Each submission's box counted its own runs from 1: nothing left by another.
        assert "run 1\n" in report.results[0].output, report.results[0].output
        assert report.score == 3.0
    assert containers_created(graded, since) >= 4


async def test_a_burst_queues_in_bounded_lanes(tmp_path: Path) -> None:
    spec = GradingSpec(
        "python",
        (Graded("t", "stdin", 1.0, program="main.py", stdin="2\n", expected_output="4\n"),),
    )
    submission = {"main.py": b"import time\ntime.sleep(0.3)\nprint(int(input()) * 2)\n"}
    async with grader(tmp_path, lanes=2, pool=2) as graded:
        most = 0
        done = asyncio.Event()

        async def watch() -> None:
            nonlocal most
            while not done.is_set():
                most = max(most, graded.lanes.running)
                await asyncio.sleep(0.01)

        watcher = asyncio.ensure_future(watch())
        reports = await asyncio.gather(
            *(graded.grade(spec, submission, {}, f"s{i % 3}") for i in range(8))
        )
        done.set()
        await watcher
    assert all(report.score == 1.0 for report in reports)
    assert most == 2  # in parallel, never more than the lanes


async def test_unsafe_submissions_fail_every_test_with_a_message(tmp_path: Path) -> None:
    spec = GradingSpec("c", (stdin_test("one", "1\n", "2\n"),))
    async with grader(tmp_path) as graded:
        escape = await graded.grade(spec, {"../main.c": b"int main(){}"}, {}, "mallory")
        absolute = await graded.grade(spec, {"/etc/main.c": b"int main(){}"}, {}, "mallory")
        broken = await graded.grade(spec, {"main.c": b"int main( {"}, {}, "mallory")
        unknown = await graded.grade(GradingSpec("cobol", spec.tests), {}, {}, "mallory")
    assert "unsafe file name" in escape.results[0].output
    assert "unsafe file name" in absolute.results[0].output
    assert broken.results[0].status == "failed"
    assert "Compilation Error" in broken.results[0].output
    assert "unknown language" in unknown.results[0].output


async def test_code_that_exits_0_when_imported_does_not_pass_a_pytest_file(
    tmp_path: Path,
) -> None:
    spec = GradingSpec("python", (Graded("shapes", "file", 1.0, path="test_shapes.py"),))
    cheat = {"shapes.py": b"import os\nos._exit(0)\n"}
    async with grader(tmp_path) as graded:
        report = await graded.grade(spec, cheat, {"test_shapes.py": PYTEST_FILE}, "mallory")
    assert report.results[0].status == "failed", report.results[0]
