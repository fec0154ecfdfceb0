"""Activity timeline and lab dashboard: what recording costs a save, what a dashboard costs.

In one run on this machine, on PostgreSQL:
- saves of a 4 KB file through jupyter-ide's contents manager (local blob store), with the
  activity recorder's post-save hook and without it, in alternating pairs (two users' managers
  on the same database); the recorder's queued events are then written and counted;
- the lab dashboard of a class of 200 students (presence, 5 judge runs, a graded submission
  with 10 tests, AI requests, hands each): ``Dashboard.figures`` (one query per figure for the
  whole class) against the same figures read student by student (five queries per student),
  the way a naive dashboard reads them.

Run alone: ``.venv/bin/python -m bench.activity [--rounds N]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import uuid
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, insert, select

from jupyter_ide.auth.permissions import Role
from jupyter_ide.classroom.activity import ActivityLimits, ActivityRecorder
from jupyter_ide.classroom.dashboard import Dashboard
from jupyter_ide.classroom.manager import AssignmentManager
from jupyter_ide.db import (
    AIUsage,
    Course,
    CourseMember,
    Database,
    JudgeSubmission,
    User,
    ensure_schema,
)
from jupyter_ide.db.activity_models import ActivityEvent, Presence
from jupyter_ide.db.models import Assignment, AssignmentSubmission
from jupyter_ide.db.teaching_models import HelpRequest

from .quick import quick
from .stats import print_table

PG_ADMIN = os.environ.get("JUPYTER_IDE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
STUDENTS = 40 if quick() else 200
TEXT = "x = 1\n" * 700  # about 4 KB


async def populate(db: Database, students: int) -> None:
    """A course of ``students`` with a lab's worth of records each."""
    now = datetime.now(timezone.utc)
    async with db.session() as session:
        course = Course(name="bench", title="Bench")
        session.add(course)
        await session.flush()
        users = [User(name=f"student{i:04d}", role="student") for i in range(students)]
        session.add_all(users)
        await session.flush()
        session.add_all(
            CourseMember(course_id=course.id, user_id=u.id, role="student") for u in users
        )
        lab = Assignment(
            course_id=course.id,
            name="lab",
            created_by="bench",
            source_folder="lab",
            released_at=now,
        )
        session.add(lab)
        await session.flush()
        detail = zlib.compress(b"{}")
        await session.execute(
            insert(Presence),
            [
                {"user_id": u.id, "course_id": course.id, "path": "lab/main.py", "seen_at": now}
                for u in users
            ],
        )
        await session.execute(
            insert(JudgeSubmission),
            [
                {
                    "token": str(uuid.uuid4()),
                    "user_id": u.id,
                    "course_id": course.id,
                    "language_id": 71,
                    "status_id": 3 + (k + i) % 2,
                    "detail": detail,
                    "created_at": now - timedelta(seconds=k),
                }
                for i, u in enumerate(users)
                for k in range(5)
            ],
        )
        results = [{"name": f"t{k}", "status": "passed" if k % 3 else "failed"} for k in range(10)]
        await session.execute(
            insert(AssignmentSubmission),
            [
                {
                    "assignment_id": lab.id,
                    "user_id": u.id,
                    "files": {},
                    "status": "graded",
                    "results": results,
                    "manual": {},
                }
                for u in users
            ],
        )
        await session.execute(
            insert(AIUsage),
            [
                {
                    "user_id": u.id,
                    "course": "bench",
                    "provider": "openai",
                    "model": "m",
                    "created_at": now - timedelta(minutes=k * 4),
                }
                for u in users
                for k in range(4)
            ],
        )
        await session.execute(
            insert(HelpRequest),
            [
                {
                    "course_id": course.id,
                    "user_id": u.id,
                    "message": "help",
                    "path": "",
                    "status": "open",
                    "open_slot": True,
                    "raised_at": now,
                    "updated_at": now,
                }
                for u in users[::10]
            ],
        )


async def per_student(db: Database, window: timedelta) -> list[dict[str, Any]]:
    """The dashboard's figures read student by student (the naive way)."""
    now = datetime.now(timezone.utc)
    rows = []
    async with db.session() as session:
        course = (await session.execute(select(Course).where(Course.name == "bench"))).scalar_one()
        lab = (
            await session.execute(select(Assignment).where(Assignment.course_id == course.id))
        ).scalar_one()
        students = (
            await session.execute(
                select(User.id, User.name)
                .join(CourseMember, CourseMember.user_id == User.id)
                .where(CourseMember.course_id == course.id)
            )
        ).all()
        for uid, name in students:
            seen = await session.get(Presence, (uid, course.id))
            run = (
                await session.execute(
                    select(JudgeSubmission.status_id)
                    .where(JudgeSubmission.user_id == uid, JudgeSubmission.course_id == course.id)
                    .order_by(JudgeSubmission.id.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
            results = (
                await session.execute(
                    select(AssignmentSubmission.results)
                    .where(
                        AssignmentSubmission.user_id == uid,
                        AssignmentSubmission.assignment_id == lab.id,
                    )
                    .order_by(AssignmentSubmission.id.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
            hand = (
                await session.execute(
                    select(HelpRequest.id).where(
                        HelpRequest.user_id == uid,
                        HelpRequest.course_id == course.id,
                        HelpRequest.open_slot.is_(True),
                    )
                )
            ).scalar_one_or_none()
            ai = (
                await session.execute(
                    select(func.count(AIUsage.id)).where(
                        AIUsage.user_id == uid,
                        AIUsage.course == "bench",
                        AIUsage.created_at >= now - window,
                    )
                )
            ).scalar_one()
            rows.append(
                {
                    "student": name,
                    "online": seen is not None,
                    "run": run,
                    "failing": sum(1 for r in results or [] if r["status"] != "passed"),
                    "hand": hand is not None,
                    "ai": ai,
                }
            )
    return rows


async def saves(db: Database, work: Path, rounds: int) -> dict[str, list[float]]:
    """Time saves with and without the recorder's hook, in alternating pairs."""
    from jupyter_ide.contents_manager import IDEContentsManager
    from jupyter_ide.server_extension.settings import IDESettings

    settings = IDESettings(storage_url=(work / "blobs").as_uri())
    managers = {}
    for owner in ("plain", "recorded"):
        cm = IDEContentsManager(
            sync_interval=0.0,
            gc_interval=0.0,
            quota_bytes=0,
            quota_files=0,
            workspaces_root=str(work / "ws"),
            owner=owner,
        )
        cm.db = db
        cm.settings_ = lambda: settings  # type: ignore[method-assign]
        managers[owner] = cm
    manager = AssignmentManager(db, None)  # type: ignore[arg-type]
    recorder = ActivityRecorder(db, manager, None, ActivityLimits())  # type: ignore[arg-type]
    managers["recorded"].register_post_save_hook(recorder.saved)  # type: ignore[no-untyped-call]
    timings: dict[str, list[float]] = {"plain": [], "recorded": []}
    for i in range(rounds):
        order = ("plain", "recorded") if i % 2 else ("recorded", "plain")
        for owner in order:
            body = {"type": "file", "format": "text", "content": f"# {i}\n{TEXT}"}
            started = time.perf_counter()
            await managers[owner].save(body, "main.py")
            timings[owner].append((time.perf_counter() - started) * 1000)
    await recorder.flush()
    async with db.session() as session:
        written = (
            await session.execute(
                select(func.count(ActivityEvent.id)).where(ActivityEvent.kind == "save")
            )
        ).scalar_one()
    assert written == rounds, (written, rounds)
    for cm in managers.values():
        await cm.close()
    return timings


async def main(argv: list[str] | None = None) -> None:
    """Build the class, time saves and dashboards, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10 if quick() else 100)
    args = parser.parse_args(argv if argv is not None else [])
    name = f"jupyter_ide_bench_act_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(PG_ADMIN, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    db = Database(url)
    try:
        ensure_schema(url)
        with tempfile.TemporaryDirectory() as work:
            save_times = await saves(db, Path(work), args.rounds)
        await populate(db, STUDENTS)
        dashboard = Dashboard(AssignmentManager(db, None), 60.0)  # type: ignore[arg-type]
        ours = await dashboard.figures("bench", "bench", Role.ADMIN)
        naive = await per_student(db, timedelta(minutes=10))
        assert len(ours["students"]) == len(naive) == STUDENTS
        by_name = {r["student"]: r for r in naive}
        for row in ours["students"]:  # both read the same figures
            other = by_name[row["student"]]
            assert (
                row["failing_tests"] == other["failing"] and row["ai_requests_10m"] == other["ai"]
            )
            assert row["hand_raised"] == other["hand"] and row["last_run"]["id"] == other["run"]
        board: dict[str, list[float]] = {"one query per figure": [], "per student": []}
        for i in range(max(3, args.rounds // 5)):
            for label in ("one query per figure", "per student")[:: 1 if i % 2 else -1]:
                started = time.perf_counter()
                if label == "per student":
                    await per_student(db, timedelta(minutes=10))
                else:
                    await dashboard.figures("bench", "bench", Role.ADMIN)
                board[label].append((time.perf_counter() - started) * 1000)
    finally:
        await db.dispose()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    load = os.getloadavg()[0]
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, load {load:.1f}")
    print_table(
        f"activity: a 4 KB save, with and without the recorder ({args.rounds} pairs)",
        {
            "save main.py": {
                "jupyter-ide save, no recorder": save_times["plain"],
                "jupyter-ide save + activity hook": save_times["recorded"],
            }
        },
        "jupyter-ide save, no recorder",
    )
    print_table(
        f"activity: lab dashboard of {STUDENTS} students on PostgreSQL",
        {
            "dashboard": {
                "per student (5 queries each)": board["per student"],
                "Dashboard.figures": board["one query per figure"],
            }
        },
        "per student (5 queries each)",
    )


if __name__ == "__main__":
    import asyncio

    asyncio.run(main())
