"""A course's gradebook (students by assignments, latest graded submission) and feedback."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from ..auth.audit import record
from ..auth.permissions import Role
from ..db.models import Assignment, AssignmentSubmission
from .manager import AssignmentManager, ClassroomError, iso


class Gradebook:
    """Grades of a course for its instructors; feedback release per assignment."""

    def __init__(self, assignments: AssignmentManager) -> None:
        """Read through the assignment manager's database."""
        self.assignments = assignments
        self.db = assignments.db

    async def table(self, course_name: str, user: str, role: Role) -> dict[str, Any]:
        """Return {assignments, students: [{student, scores: {assignment: score}}]}."""
        manager = self.assignments
        async with self.db.session() as session:
            course = await manager.course(session, course_name)
            await manager.teaching(session, course, user, role)
            assignments = list(
                (
                    await session.execute(
                        select(Assignment)
                        .where(Assignment.course_id == course.id)
                        .order_by(Assignment.created_at, Assignment.id)
                    )
                ).scalars()
            )
            students = await manager.students(session, course)
            latest: dict[tuple[int, int], AssignmentSubmission] = {}
            if assignments:
                rows = (
                    await session.execute(
                        select(AssignmentSubmission)
                        .where(
                            AssignmentSubmission.assignment_id.in_([a.id for a in assignments]),
                            AssignmentSubmission.status == "graded",
                        )
                        .order_by(AssignmentSubmission.id)
                    )
                ).scalars()
                for row in rows:  # the newest graded submission counts
                    latest[(row.assignment_id, row.user_id)] = row
        names = [a.name for a in assignments]
        table = []
        for student in students:
            scores: dict[str, float | None] = {}
            for found in assignments:
                best = latest.get((found.id, student.id))
                scores[found.name] = best.score if best is not None else None
            table.append({"student": student.name, "scores": scores})
        return {
            "course": course.name,
            "assignments": names,
            "max_scores": {a.name: _possible(a) for a in assignments},
            "students": table,
        }

    async def publish(
        self, course_name: str, name: str, published: Any, user: str, role: Role
    ) -> dict[str, Any]:
        """Release (or withdraw) an assignment's feedback to its students."""
        if not isinstance(published, bool):
            raise ClassroomError(400, "Missing field: published (true or false)")
        manager = self.assignments
        async with self.db.session() as session:
            course = await manager.course(session, course_name)
            await manager.teaching(session, course, user, role)
            found = await manager.assignment(session, course, name)
            found.feedback_published_at = datetime.now(timezone.utc) if published else None
            record(session, "assignment_feedback", user, assignment=name, published=bool(published))
            return {"name": name, "feedback_published_at": iso(found.feedback_published_at)}


def _possible(found: Assignment) -> float:
    """Return an assignment's points possible: its tests and rubric items."""
    tests = sum(float(t["points"]) for t in found.spec.get("tests", []))
    return tests + sum(float(i["points"]) for i in found.rubric)
