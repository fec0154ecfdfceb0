"""Similarity: a check of 300 submissions of about 200 lines, against copydetect's command line.

In one run on this machine, on the same files:
- jupyter-ide's ``SimilarityChecker`` (classroom/similarity_manager.py) as an instructor's
  check runs: started through its API on a SQLite database holding the course, the assignment
  and every student's submission (blobs served from memory), polled until done: reading,
  fingerprinting and comparing in its worker processes, ranking, storing the pairs;
- ``copydetect`` (its own command line, from the same venv) on one folder per student and the
  starter code as boilerplate, with the same noise and guarantee thresholds, writing its HTML
  report (what an instructor gets from it).
Each submission is the statistics module of tests/test_similarity.py twice over (two sets of
twelve functions, each written one of four ways), about 240 lines; one student copied another
with every name changed and the functions reordered, which both must rank first.

Run alone: ``.venv/bin/python -m bench.similarity [--students N] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyter_ide.auth.permissions import Role
from jupyter_ide.classroom.manager import AssignmentManager
from jupyter_ide.classroom.similarity_manager import SimilarityChecker
from jupyter_ide.db import Course, Database, User, ensure_schema
from jupyter_ide.db.models import Assignment, AssignmentSubmission
from tests.test_similarity import FUNCTIONS, class_choices, program, starter

from .quick import quick
from .stats import p95, print_table

STUDENTS, ROUNDS = (40, 2) if quick() else (300, 3)
GOAL_SECONDS = 60.0
OURS = "jupyter-ide SimilarityChecker"
PEER = "copydetect CLI (its HTML report)"


def second_part(text: str) -> str:
    """Return a module's functions again under other names (the second half of a submission)."""
    body = text.split("\nimport sys\n", 1)[1].split("\ndef main", 1)[0]
    for name in FUNCTIONS:
        body = body.replace(f"def {name}(", f"def part2_{name}(").replace(
            f" {name}(", f" part2_{name}("
        )
    return body


def submissions(count: int) -> tuple[str, list[str]]:
    """Return the starter code and ``count`` students' modules (the last one a copy of #0)."""
    order = list(FUNCTIONS)
    first = class_choices(count, seed=16, alike=6)
    second = class_choices(count, seed=61, alike=6)
    texts = []
    for n in range(count - 1):
        one = program(first[n], [f"s{n}", "", "", ""], order, n)
        two = program(second[n], [f"t{n}", "", "", ""], order[::-1], n + 50_000)
        texts.append(one + second_part(two))
    one = program(first[0], ["zz", "qq", "kk", "mm"], order[::-1], 999)
    two = program(second[0], ["yy", "pp", "jj", "nn"], order, 998)
    texts.append(one + second_part(two))
    start = starter()
    return start + second_part(start), texts


class MemoryFiles:
    """Blobs by content hash, in memory (the checker's only use of the workspace door)."""

    def __init__(self) -> None:
        """Start empty."""
        self.blobs: dict[str, bytes] = {}

    def add(self, data: bytes) -> tuple[str, int]:
        """Keep a blob; return its key and size."""
        key = f"{len(self.blobs):064d}"
        self.blobs[key] = data
        return key, len(data)

    async def read(self, content_hash: str) -> bytes:
        """Return a blob's bytes."""
        return self.blobs[content_hash]


async def seed(db: Database, files: MemoryFiles, start: str, texts: list[str]) -> None:
    """Write the course, the assignment and one submission per student."""
    async with db.session() as session:
        course = Course(name="bench", title="Bench")
        session.add(course)
        await session.flush()
        assignment = Assignment(
            course_id=course.id,
            name="stats",
            title="stats",
            created_by="prof",
            source_folder="stats",
            files={"stats.py": list(files.add(start.encode()))},
            instructor_files={},
            spec={"language": "python", "tests": []},
        )
        session.add(assignment)
        users = [User(name=f"student{n:03d}") for n in range(len(texts))]
        session.add_all(users)
        await session.flush()
        session.add_all(
            AssignmentSubmission(
                assignment_id=assignment.id,
                user_id=user.id,
                files={"stats.py": list(files.add(text.encode()))},
                manual={},
                results=[],
            )
            for user, text in zip(users, texts, strict=True)
        )


async def run_ours(checker: SimilarityChecker) -> tuple[float, list[dict[str, Any]]]:
    """Start a check through the API, poll until done; return seconds and the top pairs."""
    began = time.perf_counter()
    await checker.start("bench", "stats", None, "prof", Role.ADMIN)
    while True:
        state = await checker.status("bench", "stats", "prof", Role.ADMIN)
        if state["run"]["status"] != "running":
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - began
    assert state["run"]["status"] == "done", state["run"]
    page = await checker.pairs("bench", "stats", "", "3", "prof", Role.ADMIN)
    return elapsed, page["pairs"]


def run_copydetect(root: Path, start: str, texts: list[str], noise: int, guarantee: int) -> float:
    """Run copydetect's command line on one folder per student; return its seconds."""
    work = root / "copydetect"
    if not work.exists():
        (work / "starter").mkdir(parents=True)
        (work / "starter" / "stats.py").write_text(start)
        for n, text in enumerate(texts):
            folder = work / "students" / f"student{n:03d}"
            folder.mkdir(parents=True)
            (folder / "stats.py").write_text(text)
    command = Path(sys.executable).parent / "copydetect"
    began = time.perf_counter()
    done = subprocess.run(
        [
            str(command),
            "-t",
            str(work / "students"),
            "-b",
            str(work / "starter"),
            "-e",
            "py",
            "-n",
            str(noise),
            "-g",
            str(guarantee),
            "-a",
            "-O",
            str(work / "report.html"),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    elapsed = time.perf_counter() - began
    if done.returncode != 0 or not (work / "report.html").is_file():
        raise RuntimeError(f"copydetect failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return elapsed


async def main(students: int = STUDENTS, rounds: int = ROUNDS) -> None:
    """Run the similarity benchmark and print its table."""
    root = Path(tempfile.mkdtemp(prefix="bench-similarity-"))
    url = f"sqlite:///{root / 'bench.db'}"
    await asyncio.to_thread(ensure_schema, url)
    db = Database(url)
    files = MemoryFiles()
    start, texts = submissions(students)
    lines = [len(t.splitlines()) for t in texts]
    checker = SimilarityChecker(AssignmentManager(db, files))  # type: ignore[arg-type]
    try:
        await seed(db, files, start, texts)
        ours, peer = [], []
        for _ in range(rounds):
            seconds, top = await run_ours(checker)
            students_of = {top[0]["a"]["student"], top[0]["b"]["student"]}
            assert students_of == {"student000", f"student{students - 1:03d}"}, top
            ours.append(seconds * 1000)
        for _ in range(rounds):
            seconds = await asyncio.to_thread(
                run_copydetect,
                root,
                start,
                texts,
                checker.noise_threshold,
                checker.guarantee_threshold,
            )
            peer.append(seconds * 1000)
        load = os.getloadavg()
        print(
            f"\nsimilarity: {students} submissions of {statistics.median(lines):.0f} lines "
            f"(median), {students * (students - 1) // 2} pairs, {rounds} round(s) each; "
            f"{checker.pool_size()} worker processes; "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"load {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}; python {platform.python_version()}"
        )
        operation = f"check {students} submissions"
        print_table("similarity: one whole check (ms)", {operation: {OURS: ours, PEER: peer}}, OURS)
        median = statistics.median(ours) / 1000
        verdict = "met" if median < GOAL_SECONDS else "NOT met"
        print(
            f"goal: {students} submissions under {GOAL_SECONDS:.0f} s: {median:.1f} s "
            f"(p95 {p95(ours) / 1000:.1f} s), {verdict}; copydetect CLI "
            f"{statistics.median(peer) / 1000:.1f} s"
        )
    finally:
        await checker.close()
        await db.dispose()
        shutil.rmtree(root, ignore_errors=True)


def cli() -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=STUDENTS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    asyncio.run(main(args.students, args.rounds))


if __name__ == "__main__":
    cli()
