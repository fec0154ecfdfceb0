"""Grade one submission: claim it in the database, grade it, record its grade once.

A claim moves the row to ``grading`` and counts the run (``grade_runs``); the run's number
fences the write: a grade (or an error) is written only while the row is still ``grading``
under that same run. So when a grading is taken over (its worker died, or looked dead) and
the first one ends after all, only one of them records anything.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, or_, update

from ..db import Database, User
from ..db.models import Assignment, AssignmentSubmission
from .manager import deadline_in_force
from .spec import Grader, GradeReport, GradingSpec
from .submissions import Submissions

Reader = Callable[[str], Awaitable[bytes]]  # content hash -> the blob's bytes


class FilesUnreadable(RuntimeError):
    """A submission's files cannot be read here (this blob store is not the servers')."""


def result_rows(report: GradeReport) -> list[dict[str, Any]]:
    """Return a report's results as the submission row keeps them."""
    return [
        {
            "name": r.name,
            "score": r.score,
            "max_score": r.max_score,
            "status": r.status,
            "output": r.output,
            "visibility": r.visibility,
            "cpu_seconds": r.cpu_seconds,
            "memory_kb": r.memory_kb,
        }
        for r in report.results
    ]


class GradingRun:
    """Claims, grades and records submissions in one database with one Grader."""

    def __init__(
        self, db: Database, read: Reader, grader: Grader, log: logging.Logger | Any
    ) -> None:
        """Read blobs with ``read``, grade with ``grader``."""
        self.db = db
        self.read = read
        self.grader = grader
        self.log = log

    async def claim(
        self, submission_id: int, *, stale: timedelta | None = None, takeover: bool = False
    ) -> int | None:
        """Claim a queued submission; return its run number, or None when not claimable.

        ``stale``: a claim older than that (its server died) may be taken again.
        ``takeover``: any unfinished claim may be taken (the queue says its worker is gone).
        """
        claimable = [AssignmentSubmission.status == "queued"]
        if takeover:
            claimable.append(AssignmentSubmission.status == "grading")
        elif stale is not None:
            claimable.append(
                and_(
                    AssignmentSubmission.status == "grading",
                    AssignmentSubmission.graded_at < datetime.now(timezone.utc) - stale,
                )
            )
        async with self.db.session() as session:
            run = (
                await session.execute(
                    update(AssignmentSubmission)
                    .where(AssignmentSubmission.id == submission_id, or_(*claimable))
                    .values(
                        status="grading",
                        grade_runs=AssignmentSubmission.grade_runs + 1,
                        graded_at=datetime.now(timezone.utc),  # while grading: when claimed
                    )
                    .returning(AssignmentSubmission.grade_runs)
                )
            ).scalar_one_or_none()
        return None if run is None else int(run)

    async def grade(self, submission_id: int, run: int, *, unreadable_fails: bool = True) -> bool:
        """Grade a submission claimed as ``run``; False when the grade was not recorded.

        Not recorded: the row is gone, or another run took it over meanwhile. Files that
        cannot be read are the grade's error, or (``unreadable_fails`` False) FilesUnreadable.
        """
        async with self.db.session() as session:
            row = await session.get(AssignmentSubmission, submission_id)
            found = await session.get(Assignment, row.assignment_id) if row else None
            owner = await session.get(User, row.user_id) if row else None
        if row is None or found is None or owner is None:
            return False
        try:
            submitted = {p: await self.read(h) for p, (h, _) in row.files.items()}
            private = {p: await self.read(h) for p, (h, _) in found.instructor_files.items()}
        except Exception as e:
            if not unreadable_fails:
                raise FilesUnreadable(f"{type(e).__name__}: {e}") from e
            self.log.warning("Grading submission %s failed: %s", submission_id, e)
            return await self.record(submission_id, run, None, f"{type(e).__name__}: {e}")
        try:
            report = await self.grader.grade(
                GradingSpec.from_json(found.spec), submitted, private, owner.name
            )
        except Exception as e:
            self.log.warning("Grading submission %s failed: %s", submission_id, e)
            return await self.record(submission_id, run, None, f"{type(e).__name__}: {e}")
        return await self.record(submission_id, run, report)

    async def record(
        self, submission_id: int, run: int, report: GradeReport | None, error: str = ""
    ) -> bool:
        """Write run ``run``'s grade (or ``error``) if it still holds the claim; True if so."""
        values: dict[str, Any] = {"graded_at": datetime.now(timezone.utc)}
        if report is None:
            values.update(status="error", error=error or "grading failed")
        else:
            values.update(status="graded", error=None, results=result_rows(report))
        async with self.db.session() as session:
            written = await session.execute(
                update(AssignmentSubmission)
                .where(
                    AssignmentSubmission.id == submission_id,
                    AssignmentSubmission.status == "grading",
                    AssignmentSubmission.grade_runs == run,
                )
                .values(**values)
            )
            if not written.rowcount:  # type: ignore[attr-defined]
                self.log.info(
                    "Submission %s: run %s lost its claim; not recorded", submission_id, run
                )
                return False
            if report is not None:  # the score, in the same transaction
                row = await session.get(AssignmentSubmission, submission_id)
                found = await session.get(Assignment, row.assignment_id) if row else None
                if row is not None and found is not None:
                    deadline = await deadline_in_force(session, found, row.user_id)
                    Submissions.apply_score(row, found, deadline)
        return True
