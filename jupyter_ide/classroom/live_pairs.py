"""Named pair-editing partners: an instructor pairs two students of a course (and unpairs them).

A paired student opens the partner's files in the live view as a writable peer of the same
room the partner edits in. A pair is two rows (one per student), so a student has at most one
partner in a course; pairing and unpairing are audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ..auth.audit import record
from ..auth.courses import USER_NAME
from ..auth.permissions import Role
from ..db import Course, CourseMember, User
from ..db.live_models import LivePair
from .manager import AssignmentManager, ClassroomError, iso


class LivePairs:
    """List, make and end a course's pairs; say whether one student is another's partner."""

    def __init__(self, assignments: AssignmentManager) -> None:
        """Use the classroom's course checks."""
        self.assignments = assignments
        self.db = assignments.db

    async def is_partner(
        self, session: AsyncSession, course: Course, user: str, student: str
    ) -> bool:
        """Whether ``user`` is ``student``'s named partner in ``course``."""
        me, them = aliased(User), aliased(User)
        found = (
            await session.execute(
                select(LivePair.user_id)
                .join(me, me.id == LivePair.user_id)
                .join(them, them.id == LivePair.partner_id)
                .where(LivePair.course_id == course.id, me.name == user, them.name == student)
            )
        ).scalar_one_or_none()
        return found is not None

    async def _student(self, session: AsyncSession, course: Course, name: Any) -> int:
        """Return the id of a student of ``course`` named ``name``; 400/403 otherwise."""
        if not isinstance(name, str) or not USER_NAME.match(name):
            raise ClassroomError(400, "students must be two user names")
        found = (
            await session.execute(
                select(User.id, CourseMember.role)
                .join(CourseMember, CourseMember.user_id == User.id)
                .where(CourseMember.course_id == course.id, User.name == name)
            )
        ).one_or_none()
        if found is None:
            raise ClassroomError(403, f"{name} is not a member of {course.name}")
        if found[1] != "student":
            raise ClassroomError(400, f"{name} is not a student of {course.name}: pair students")
        return int(found[0])

    async def listing(self, course_name: str, user: str, role: Role) -> dict[str, Any]:
        """Return the course's pairs (instructors), or the caller's own partner (students)."""
        async with self.db.session() as session:
            course = await self.assignments.course(session, course_name)
            member = await self.assignments.role_in(session, course, user, role)
            me, them = aliased(User), aliased(User)
            query = (
                select(me.name, them.name, LivePair.created_by, LivePair.created_at)
                .join(me, me.id == LivePair.user_id)
                .join(them, them.id == LivePair.partner_id)
                .where(LivePair.course_id == course.id)
                .order_by(me.name)
            )
            if member != "instructor":
                query = query.where(me.name == user)
            rows = (await session.execute(query)).all()
        pairs = [
            {"students": [a, b], "created_by": by, "created_at": iso(at)}
            for a, b, by, at in rows
            if member != "instructor" or a < b  # each pair once
        ]
        found: dict[str, Any] = {"course": course.name, "pairs": pairs}
        if member != "instructor":
            found["partner"] = rows[0][1] if rows else None
        return found

    async def pair(self, course_name: str, body: Any, user: str, role: Role) -> dict[str, Any]:
        """Pair two students of a course one teaches ({students: [a, b]}), audited."""
        if not isinstance(body, dict) or set(body) != {"students"}:
            raise ClassroomError(400, "The body is {students: [name, name]}")
        names = body["students"]
        if not isinstance(names, list) or len(names) != 2:
            raise ClassroomError(400, "students must be two user names")
        if names[0] == names[1]:
            raise ClassroomError(400, "A student cannot be paired with themself")
        async with self.db.session() as session:
            course = await self.assignments.course(session, course_name)
            await self.assignments.teaching(session, course, user, role)
            a, b = [await self._student(session, course, name) for name in names]
            taken = (
                (
                    await session.execute(
                        select(User.name)
                        .join(LivePair, LivePair.user_id == User.id)
                        .where(LivePair.course_id == course.id, LivePair.user_id.in_([a, b]))
                    )
                )
                .scalars()
                .all()
            )
            if taken:
                raise ClassroomError(
                    409, f"{', '.join(sorted(taken))} already has a partner in {course.name}"
                )
            session.add_all(
                [
                    LivePair(course_id=course.id, user_id=a, partner_id=b, created_by=user),
                    LivePair(course_id=course.id, user_id=b, partner_id=a, created_by=user),
                ]
            )
            try:
                await session.flush()
            except IntegrityError as e:  # paired meanwhile by another request
                raise ClassroomError(409, "One of them was paired meanwhile") from e
            record(session, "live_pair_added", user, course=course.name, students=sorted(names))
        return {"course": course.name, "students": sorted(names)}

    async def unpair(self, course_name: str, student: str, user: str, role: Role) -> None:
        """End the pair ``student`` is in (both sides), audited; 404 when they have none."""
        async with self.db.session() as session:
            course = await self.assignments.course(session, course_name)
            await self.assignments.teaching(session, course, user, role)
            if not USER_NAME.match(student):
                raise ClassroomError(400, f"{student!r} is not a valid user name")
            uid = (
                await session.execute(select(User.id).where(User.name == student))
            ).scalar_one_or_none()
            partner = None
            if uid is not None:
                partner = (
                    await session.execute(
                        select(LivePair.partner_id).where(
                            LivePair.course_id == course.id, LivePair.user_id == uid
                        )
                    )
                ).scalar_one_or_none()
            if partner is None:
                raise ClassroomError(404, f"{student} has no partner in {course.name}")
            await session.execute(
                delete(LivePair).where(
                    LivePair.course_id == course.id, LivePair.user_id.in_([uid, partner])
                )
            )
            record(session, "live_pair_removed", user, course=course.name, student=student)
