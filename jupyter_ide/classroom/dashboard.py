"""The lab dashboard: per course, each student's presence, file, last run, tests, hand, AI use.

One query per figure for the whole class (never one per student), so a class of 200 costs
the same six queries as a class of 2.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.permissions import Role
from ..db import AIUsage, Course, CourseMember, JudgeSubmission, User
from ..db.activity_models import ActivityEvent, Presence
from ..db.models import Assignment, AssignmentSubmission
from ..db.teaching_models import HelpRequest
from .activity_timeline import kernel_verdict, verdict
from .manager import ASSIGNMENT, AssignmentManager, ClassroomError, iso

AI_WINDOW = timedelta(minutes=10)


def _aware(at: datetime) -> datetime:
    """Return ``at`` with a time zone (SQLite hands back naive UTC times)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


class Dashboard:
    """Compute a course's lab dashboard for its instructors."""

    def __init__(self, assignments: AssignmentManager, online_seconds: float) -> None:
        """Check courses with ``assignments``; online means seen within ``online_seconds``."""
        self.assignments = assignments
        self.db = assignments.db
        self.online_seconds = online_seconds

    async def figures(
        self, course_name: str, user: str, role: Role, assignment: str = ""
    ) -> dict[str, Any]:
        """Return every student's row and the class totals."""
        now = datetime.now(timezone.utc)
        async with self.db.session() as session:
            course = await self.assignments.course(session, course_name)
            await self.assignments.teaching(session, course, user, role)
            current = await self._assignment(session, course, assignment)
            students = (
                await session.execute(
                    select(User.id, User.name)
                    .join(CourseMember, CourseMember.user_id == User.id)
                    .where(CourseMember.course_id == course.id, CourseMember.role == "student")
                    .order_by(User.name)
                )
            ).all()
            seen = {
                uid: (path, at)
                for uid, path, at in await session.execute(
                    select(Presence.user_id, Presence.path, Presence.seen_at).where(
                        Presence.course_id == course.id
                    )
                )
            }
            runs = await self._last_runs(session, course)
            tests = await self._tests(session, current)
            hands = set(
                (
                    await session.execute(
                        select(HelpRequest.user_id).where(
                            HelpRequest.course_id == course.id, HelpRequest.open_slot.is_(True)
                        )
                    )
                ).scalars()
            )
            ai: dict[int, int] = {
                uid: int(n)
                for uid, n in await session.execute(
                    select(AIUsage.user_id, func.count(AIUsage.id))
                    .where(AIUsage.course == course.name, AIUsage.created_at >= now - AI_WINDOW)
                    .group_by(AIUsage.user_id)
                )
            }
        online_since = now - timedelta(seconds=self.online_seconds)
        rows = []
        for uid, name in students:
            path, at = seen.get(uid, ("", None))
            online = at is not None and at >= online_since
            failing, total, status = tests.get(uid, (None, None, None))
            rows.append(
                {
                    "student": name,
                    "online": online,
                    "seen_at": iso(at),
                    "path": (path or None) if at is not None else None,
                    "last_run": runs.get(uid),
                    "failing_tests": failing,
                    "tests": total,
                    "submission_status": status,
                    "hand_raised": uid in hands,
                    "ai_requests_10m": ai.get(uid, 0),
                }
            )
        return {
            "course": course.name,
            "assignment": current.name if current is not None else None,
            "now": iso(now),
            "online_seconds": self.online_seconds,
            "students": rows,
            "totals": {
                "students": len(rows),
                "online": sum(1 for r in rows if r["online"]),
                "hands": sum(1 for r in rows if r["hand_raised"]),
                "failing": sum(1 for r in rows if r["failing_tests"]),
                "ai_requests_10m": sum(ai.get(uid, 0) for uid, _ in students),
            },
        }

    async def _assignment(
        self, session: AsyncSession, course: Course, name: str
    ) -> Assignment | None:
        """Return the named assignment, else the course's latest released one (or None)."""
        if name:
            if not ASSIGNMENT.match(name):
                raise ClassroomError(400, "An assignment name is 1-64 lowercase letters, digits")
            return await self.assignments.assignment(session, course, name)
        return (
            await session.execute(
                select(Assignment)
                .where(Assignment.course_id == course.id, Assignment.released_at.is_not(None))
                .order_by(Assignment.released_at.desc(), Assignment.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()

    async def _last_runs(self, session: AsyncSession, course: Course) -> dict[int, Any]:
        """Return each student's latest judge run in the course: verdict and time."""
        latest = (
            select(func.max(JudgeSubmission.id).label("id"))
            .where(JudgeSubmission.course_id == course.id)
            .group_by(JudgeSubmission.user_id)
            .subquery()
        )
        found = await session.execute(
            select(
                JudgeSubmission.user_id, JudgeSubmission.status_id, JudgeSubmission.created_at
            ).join(latest, latest.c.id == JudgeSubmission.id)
        )
        judged = {uid: (at, verdict(status)) for uid, status, at in found.all()}
        # Kernel cell runs (no judge token): each student's latest, the later of the two wins.
        cells = (
            select(func.max(ActivityEvent.id).label("id"))
            .where(
                ActivityEvent.course_id == course.id,
                ActivityEvent.kind == "run",
                ActivityEvent.ref.is_(None),
            )
            .group_by(ActivityEvent.user_id)
            .subquery()
        )
        ran = await session.execute(
            select(ActivityEvent.user_id, ActivityEvent.detail, ActivityEvent.started_at).join(
                cells, cells.c.id == ActivityEvent.id
            )
        )
        for uid, detail, at in ran.all():
            seen = judged.get(uid)
            if seen is None or _aware(at) >= _aware(seen[0]):
                judged[uid] = (at, {**kernel_verdict(detail or {}), "via": "kernel"})
        return {uid: {**found, "time": iso(at)} for uid, (at, found) in judged.items()}

    async def _tests(
        self, session: AsyncSession, current: Assignment | None
    ) -> dict[int, tuple[int | None, int | None, str]]:
        """Return each student's failing and total tests in their latest submission."""
        if current is None:
            return {}
        latest = (
            select(func.max(AssignmentSubmission.id).label("id"))
            .where(AssignmentSubmission.assignment_id == current.id)
            .group_by(AssignmentSubmission.user_id)
            .subquery()
        )
        found = await session.execute(
            select(
                AssignmentSubmission.user_id,
                AssignmentSubmission.status,
                AssignmentSubmission.results,
            ).join(latest, latest.c.id == AssignmentSubmission.id)
        )
        tests: dict[int, tuple[int | None, int | None, str]] = {}
        for uid, status, results in found.all():
            if status != "graded":
                tests[uid] = (None, None, status)
                continue
            items = [r for r in results or [] if isinstance(r, dict)]
            failing = sum(1 for r in items if r.get("status") != "passed")
            tests[uid] = (failing, len(items), status)
        return tests
