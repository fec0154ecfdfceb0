"""Grading: submissions per second of the autograder, side by side with ``nbgrader autograde``.

In one run on this machine:
- 200 submissions of a Python notebook assignment with 10 graded test cells, graded by
  jupyter-ide's ``JudgeGrader`` (each submission in a sandbox box of its own, all queued at
  once as a burst, the judge's lanes running them);
- 40 of the same submissions graded by ``nbgrader autograde`` (the notebooks converted to
  nbgrader's format: solution cells and locked test cells with points; its course folder,
  ``generate_assignment`` untimed, then one ``autograde`` of all 40 timed);
- 200 submissions of a C assignment with 10 stdin cases (each student's source differs, so
  every one compiles).
Each student's code is one of a few variants: all correct, one function wrong, one raising.

nbgrader runs from the Python named by ``JUPYTER_IDE_BENCH_NBGRADER``, or from a venv of its
own that a full run makes once under the bench cache folder (``bench/peer_venvs.py``): in our
venv its server extensions would load into every Jupyter server the tests start.

Run alone: ``.venv/bin/python -m bench.grading [--notebooks N] [--nbgrader N] [--c N]
[--lanes N]`` (0 leaves a batch out; lanes: gradings at once, default the judge's workers).
The load average is printed as the run starts and ends: on this machine other test suites
often run beside it, and the figures depend on them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyter_ide.cache import MemoryCache
from jupyter_ide.classroom.grading import JudgeGrader
from jupyter_ide.classroom.spec import GradeReport, GradingSpec, TestCase
from jupyter_ide.db import Database, ensure_schema
from jupyter_ide.kernels.judge.manager import JudgeManager
from jupyter_ide.kernels.judge.settings import JudgeSettings

from .peer_venvs import peer_venv
from .quick import quick, skipped

NOTEBOOKS, NBGRADER, C_SUBMISSIONS = (10, 4, 10) if quick() else (200, 40, 200)
NBGRADER_SPECS = ("nbgrader>=0.9.6", "ipykernel>=6")  # the peer, in a venv of its own
POOL_SIZE = 4
GOAL_BATCH_SECONDS = 60.0
GOAL_RATIO = 5.0

FUNCTIONS = [
    ("add", "def add(a, b):\n    return a + b", "add(2, 3) == 5"),
    ("sub", "def sub(a, b):\n    return a - b", "sub(5, 3) == 2"),
    ("mul", "def mul(a, b):\n    return a * b", "mul(4, 3) == 12"),
    ("square", "def square(x):\n    return x * x", "square(7) == 49"),
    ("is_even", "def is_even(n):\n    return n % 2 == 0", "is_even(4) and not is_even(3)"),
    ("rev", "def rev(s):\n    return s[::-1]", "rev('abc') == 'cba'"),
    ("fact", "def fact(n):\n    return 1 if n < 2 else n * fact(n - 1)", "fact(5) == 120"),
    ("mean", "def mean(xs):\n    return sum(xs) / len(xs)", "mean([1, 2, 3]) == 2"),
    ("count_a", "def count_a(s):\n    return s.count('a')", "count_a('banana') == 3"),
    ("maxi", "def maxi(xs):\n    return max(xs)", "maxi([3, 9, 2]) == 9"),
]
C_SOURCE = """/* student %(student)d */
#include <stdio.h>
int main(void) {
    long a, b;
    if (scanf("%%ld %%ld", &a, &b) != 2) return 1;
    printf("%%ld\\n", a + b%(bug)s);
    return 0;
}
"""


def solution(student: int, name: str, body: str) -> str:
    """Return a student's version of one function (every 7th student gets one wrong)."""
    if student % 7 == 3 and name == "mul":
        return body.replace("a * b", "a + b")
    if student % 11 == 5 and name == "rev":
        return "def rev(s):\n    raise NotImplementedError"
    return body + f"\n# student {student}"


def cell(source: str, meta: dict[str, Any] | None = None, index: int = 0) -> dict[str, Any]:
    """Return one code cell."""
    return {
        "cell_type": "code",
        "id": f"cell-{index}",
        "metadata": {"nbgrader": meta} if meta else {},
        "execution_count": None,
        "outputs": [],
        "source": source,
    }


def student_notebook(student: int, for_nbgrader: bool) -> dict[str, Any]:
    """Return a student's notebook: solution cells, then the ten released test cells."""
    cells = []
    for i, (name, body, _) in enumerate(FUNCTIONS):
        meta = {
            "grade": False,
            "grade_id": f"sol_{name}",
            "locked": False,
            "schema_version": 3,
            "solution": True,
            "task": False,
        }
        cells.append(cell(solution(student, name, body), meta if for_nbgrader else None, i))
    for i, (name, _, check) in enumerate(FUNCTIONS):
        meta = {
            "grade": True,
            "grade_id": f"test_{name}",
            "locked": True,
            "points": 1,
            "schema_version": 3,
            "solution": False,
            "task": False,
        }
        cells.append(cell(f"assert {check}", meta if for_nbgrader else None, 100 + i))
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "cells": cells,
    }


def notebook_spec() -> GradingSpec:
    """The assignment's ten graded test cells, as the instructor's copy holds them."""
    return GradingSpec(
        "python",
        tuple(
            TestCase(f"test_{name}", "notebook", 1.0, program="hw.ipynb", source=f"assert {check}")
            for name, _, check in FUNCTIONS
        ),
    )


def c_spec() -> GradingSpec:
    """Ten stdin cases of an a + b program."""
    return GradingSpec(
        "c",
        tuple(
            TestCase(
                f"case {i}",
                "stdin",
                1.0,
                program="main.c",
                stdin=f"{i} {i * 3}\n",
                expected_output=f"{i * 4}\n",
            )
            for i in range(10)
        ),
    )


async def open_judge(root: Path) -> JudgeManager:
    """Start a JudgeManager on its own SQLite file and folder, warm pools for C and Python."""
    url = f"sqlite:///{root / 'bench.db'}"
    await asyncio.to_thread(ensure_schema, url)
    settings = JudgeSettings(
        data_dir=str(root / "judge"),
        pool_size=POOL_SIZE,
        warm_languages="c,python",
        submissions_per_minute=0,
        max_queue_size=10_000,
    )
    judge = JudgeManager(settings, Database(url), MemoryCache(), None, root)
    await judge.start()
    await judge.available()
    assert judge.pool is not None
    while min(judge.pool.ready_count("c"), judge.pool.ready_count("python")) < POOL_SIZE:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    return judge


async def burst(
    grader: JudgeGrader, spec: GradingSpec, submissions: list[dict[str, bytes]]
) -> tuple[float, list[GradeReport]]:
    """Grade every submission at once (a burst); return the wall seconds and the reports."""
    start = time.perf_counter()
    reports = await asyncio.gather(
        *(grader.grade(spec, sub, {}, f"student{i % 40}") for i, sub in enumerate(submissions))
    )
    return time.perf_counter() - start, list(reports)


def nbgrader_python() -> str | None:
    """Return a Python that has nbgrader: the one named, or its own venv (made on a full run)."""
    named = os.environ.get("JUPYTER_IDE_BENCH_NBGRADER", "").strip()
    if named:
        return named
    venv = peer_venv("nbgrader", *NBGRADER_SPECS, install=not quick())
    return None if venv is None else str(venv / "bin" / "python")


def nbgrader_course(root: Path, count: int) -> Path:
    """Lay out an nbgrader course: the source notebook and ``count`` students' submissions."""
    course = root / "course"
    (course / "source" / "hw").mkdir(parents=True)
    source = student_notebook(0, for_nbgrader=True)
    for c in source["cells"]:  # the instructor's solution cells carry solution markers
        if c["metadata"]["nbgrader"]["solution"]:
            c["source"] = "### BEGIN SOLUTION\n" + c["source"] + "\n### END SOLUTION"
    (course / "source" / "hw" / "hw.ipynb").write_text(json.dumps(source))
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.CourseDirectory.course_id = 'bench'\n"
        "c.Execute.timeout = 30\n"
    )
    for student in range(count):
        folder = course / "submitted" / f"s{student}" / "hw"
        folder.mkdir(parents=True)
        (folder / "hw.ipynb").write_text(json.dumps(student_notebook(student, for_nbgrader=True)))
    return course


def nbgrader_env(python: str) -> dict[str, str]:
    """Return an environment with the nbgrader Python's scripts first on PATH (it runs alembic)."""
    scripts = str(Path(python).parent)
    return {**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"}


def run_nbgrader(python: str, course: Path, *args: str) -> float:
    """Run one nbgrader command in the course folder; return its wall seconds."""
    start = time.perf_counter()
    done = subprocess.run(
        [python, "-m", "nbgrader", *args],
        cwd=course,
        capture_output=True,
        text=True,
        check=False,
        env=nbgrader_env(python),
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return elapsed


def nbgrader_scores(python: str, course: Path) -> list[float]:
    """Read each student's total from nbgrader's gradebook."""
    script = (
        "from nbgrader.api import Gradebook\n"
        "import sys\n"
        "with Gradebook('sqlite:///gradebook.db') as gb:\n"
        "    for s in gb.assignment_submissions('hw'):\n"
        "        print(s.score)\n"
    )
    done = subprocess.run(
        [python, "-c", script],
        cwd=course,
        capture_output=True,
        text=True,
        check=True,
        env=nbgrader_env(python),
    )
    return [float(line) for line in done.stdout.split()]


def row(name: str, count: int, seconds: float) -> str:
    """Format one result line."""
    per = seconds / count * 1000
    return f"{name:<44} {count:>5} {seconds:>8.1f} s {per:>9.0f} ms {count / seconds:>8.2f}/s"


def box_cpu_ms(reports: list[GradeReport]) -> float:
    """Return the mean CPU milliseconds the tests' runs used in the boxes (their cgroups)."""
    total = sum(r.cpu_seconds or 0.0 for report in reports for r in report.results)
    return total / max(1, len(reports)) * 1000


async def main(
    notebooks: int = NOTEBOOKS,
    nbgraded: int = NBGRADER,
    c_count: int = C_SUBMISSIONS,
    lanes: int = 0,
) -> None:
    """Run the grading benchmark and print its table (``lanes`` 0: the judge's workers)."""
    root = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    load_at_start = os.getloadavg()[0]
    judge = await open_judge(root / "judge")
    grader = JudgeGrader(judge, lanes)
    lines, notes = [], []
    walls: list[tuple[str, float, int]] = []
    ours_per = None
    try:
        nb_subs = [
            {"hw.ipynb": json.dumps(student_notebook(i, for_nbgrader=False)).encode()}
            for i in range(notebooks)
        ]
        expected = [10.0 - (i % 7 == 3) - (i % 11 == 5) for i in range(max(notebooks, nbgraded))]
        if notebooks:
            nb_wall, nb_reports = await burst(grader, notebook_spec(), nb_subs)
            assert [r.score for r in nb_reports] == expected[:notebooks], [
                r.score for r in nb_reports
            ]
            lines.append(row("jupyter-ide JudgeGrader, notebook, 10 tests", notebooks, nb_wall))
            walls.append(("notebook", nb_wall, notebooks))
            ours_per = nb_wall / notebooks

        if c_count:
            c_subs = [
                {
                    "main.c": (
                        C_SOURCE % {"student": i, "bug": " + 1" if i % 9 == 4 else ""}
                    ).encode()
                }
                for i in range(c_count)
            ]
            cache = judge.judge.cache if judge.judge is not None else None
            misses = cache.misses if cache is not None else 0
            c_wall, c_reports = await burst(grader, c_spec(), c_subs)
            c_expected = [0.0 if i % 9 == 4 else 10.0 for i in range(c_count)]
            assert [r.score for r in c_reports] == c_expected, [r.score for r in c_reports]
            lines.append(row("jupyter-ide JudgeGrader, C, 10 stdin cases", c_count, c_wall))
            walls.append(("C", c_wall, c_count))
            compiled = (cache.misses - misses) if cache is not None else c_count
            notes.append(
                f"C: {compiled} compiles (each source differs); the 10 cases' runs used "
                f"{box_cpu_ms(c_reports):.0f} ms CPU per submission in the boxes"
            )

        python = nbgrader_python() if nbgraded else None
        nbg_per = None
        if nbgraded and python is None:
            skipped("nbgrader autograde", "not installed yet in its venv; a full run does")
        elif python is not None:
            course = await asyncio.to_thread(nbgrader_course, root, nbgraded)
            await asyncio.to_thread(run_nbgrader, python, course, "db", "assignment", "add", "hw")
            await asyncio.to_thread(run_nbgrader, python, course, "generate_assignment", "hw")
            nbg_wall = await asyncio.to_thread(
                run_nbgrader, python, course, "autograde", "hw", "--force"
            )
            scores = await asyncio.to_thread(nbgrader_scores, python, course)
            assert sorted(scores) == sorted(expected[:nbgraded]), scores
            lines.append(row("nbgrader autograde (no sandbox), notebook", nbgraded, nbg_wall))
            nbg_per = nbg_wall / nbgraded
        print(
            f"\ngrading: submissions graded in a burst, {grader.lanes.size} lanes, warm pool "
            f"{POOL_SIZE} per language; {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores, load {load_at_start:.1f} at the start, "
            f"{os.getloadavg()[0]:.1f} at the end; python {platform.python_version()}"
        )
        print(f"{'':<44} {'subs':>5} {'wall':>10} {'per sub':>12} {'rate':>10}")
        for line in lines:
            print(line)
        for note in notes:
            print(note)
        for name, wall, count in walls:
            scaled = wall / count * 200
            verdict = "met" if scaled < GOAL_BATCH_SECONDS else "NOT met"
            print(f"goal: 200 {name} submissions under 60 s: {scaled:.1f} s (scaled), {verdict}")
        if nbg_per is not None and ours_per is not None:
            ratio = nbg_per / ours_per
            verdict = "met" if ratio >= GOAL_RATIO else "NOT met"
            print(f"goal: >= 5x nbgrader per submission: {ratio:.1f}x, {verdict}")
    finally:
        await grader.close()
        await judge.stop()
        await judge.store.db.dispose()
        shutil.rmtree(root, ignore_errors=True)


def cli() -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notebooks", type=int, default=NOTEBOOKS)
    parser.add_argument("--nbgrader", type=int, default=NBGRADER)
    parser.add_argument("--c", type=int, default=C_SUBMISSIONS)
    parser.add_argument(
        "--lanes", type=int, default=0, help="gradings at once (default: the judge's workers)"
    )
    args = parser.parse_args()
    asyncio.run(main(args.notebooks, args.nbgrader, args.c, args.lanes))


if __name__ == "__main__":
    cli()
