"""Courses: groups of users with instructors, from JupyterHub groups or the API."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from traitlets import Unicode
from traitlets.config import LoggingConfigurable

from ..db import Course, CourseMember, Database, User
from ..db.queries import get_or_create_user
from .audit import record
from .permissions import Role

NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
USER_NAME = re.compile(r"^[^\s/\\\x00-\x1f]{1,255}$")
MEMBER_ROLES = ("student", "instructor")
# Sign-ins racing to create the same hub-group course: each loser tries again and joins it.
SYNC_ATTEMPTS = 3


class CourseError(Exception):
    """A request about courses that cannot be carried out, with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        """Keep the status for the handler."""
        super().__init__(message)
        self.status = status


def check_name(name: Any) -> str:
    """Return a valid course name or raise 400."""
    if not isinstance(name, str) or not NAME.match(name):
        raise CourseError(
            400, "A course name is 1-64 lowercase letters, digits, '.', '_' or '-', e.g. cs101"
        )
    return name


class CourseDirectory(LoggingConfigurable):
    """Create courses, manage their members, and follow JupyterHub groups."""

    group_prefix = Unicode(
        "course-", help="JupyterHub groups named <prefix><course> make their members students."
    ).tag(config=True)

    instructor_suffix = Unicode(
        "-instructors",
        help="Groups named <prefix><course><suffix> make their members the course's instructors.",
    ).tag(config=True)

    def __init__(self, db: Database, **kwargs: Any) -> None:
        """Work on ``db``."""
        super().__init__(**kwargs)
        self.db = db

    def courses_in_groups(self, groups: list[str]) -> dict[str, str]:
        """Map each course named by hub groups to the member's role in it (instructor wins)."""
        found: dict[str, str] = {}
        for group in groups:
            if not group.startswith(self.group_prefix):
                continue
            name, role = group[len(self.group_prefix) :], "student"
            if self.instructor_suffix and name.endswith(self.instructor_suffix):
                name, role = name[: -len(self.instructor_suffix)], "instructor"
            if NAME.match(name) and found.get(name) != "instructor":
                found[name] = role
        return found

    async def _user(self, session: AsyncSession, name: str) -> User:
        """Return the user's row, creating it; refuse names that cannot be user names."""
        if not USER_NAME.match(name):
            raise CourseError(400, f"{name!r} is not a valid user name")
        user, _ = await get_or_create_user(session, name)
        return user

    async def _known_user(self, session: AsyncSession, name: str) -> User:
        """Return the row of a user who has signed in, or refuse (400 bad name, 404)."""
        if not USER_NAME.match(name):
            raise CourseError(400, f"{name!r} is not a valid user name")
        user = (await session.execute(select(User).where(User.name == name))).scalar_one_or_none()
        if user is None:
            raise CourseError(
                404,
                f"No user named {name!r}: people can be enrolled once they have signed in "
                "(or through the hub's course groups)",
            )
        return user

    async def _course(self, session: AsyncSession, name: str) -> Course:
        """Return a course or raise 404."""
        course = (
            await session.execute(select(Course).where(Course.name == check_name(name)))
        ).scalar_one_or_none()
        if course is None:
            raise CourseError(404, f"No course named {name!r}")
        return course

    async def list_for(self, user_name: str, role: Role) -> list[dict[str, Any]]:
        """Return the courses a user belongs to (every course for admins)."""
        async with self.db.session() as session:
            mine = (
                select(Course.name, CourseMember.role)
                .join(CourseMember, CourseMember.course_id == Course.id)
                .join(User, User.id == CourseMember.user_id)
                .where(User.name == user_name)
            )
            my_roles = {name: r for name, r in (await session.execute(mine)).all()}
            query = (
                select(Course, func.count(CourseMember.user_id))
                .outerjoin(CourseMember, CourseMember.course_id == Course.id)
                .group_by(Course.id)
                .order_by(Course.name)
            )
            rows = (await session.execute(query)).all()
        return [
            {"name": c.name, "title": c.title, "members": count, "my_role": my_roles.get(c.name)}
            for c, count in rows
            if role is Role.ADMIN or c.name in my_roles
        ]

    async def teaches_any(self, user_name: str) -> bool:
        """Return True when ``user_name`` is an instructor member of at least one course."""
        async with self.db.session() as session:
            found = (
                await session.execute(
                    select(CourseMember.course_id)
                    .join(User, User.id == CourseMember.user_id)
                    .where(User.name == user_name, CourseMember.role == "instructor")
                    .limit(1)
                )
            ).first()
        return found is not None

    async def create(self, name: Any, title: Any, by: str) -> dict[str, Any]:
        """Create a course (admins only, checked by the handler)."""
        name = check_name(name)
        if not isinstance(title, str) or len(title) > 255:
            raise CourseError(400, "title must be text of at most 255 characters")
        async with self.db.session() as session:
            exists = (await session.execute(select(Course.id).where(Course.name == name))).first()
            if exists:
                raise CourseError(409, f"A course named {name!r} already exists")
            session.add(Course(name=name, title=title))
            record(session, "course_created", by, course=name)
        return {"name": name, "title": title, "members": 0, "my_role": None}

    async def _may_manage(
        self, session: AsyncSession, course: Course, by: str, by_role: Role
    ) -> None:
        """Raise 403 unless ``by`` is an admin or an instructor of ``course``."""
        if by_role is Role.ADMIN:
            return
        member = (
            await session.execute(
                select(CourseMember.role)
                .join(User, User.id == CourseMember.user_id)
                .where(CourseMember.course_id == course.id, User.name == by)
            )
        ).scalar_one_or_none()
        if member != "instructor":
            raise CourseError(403, f"Only the instructors of {course.name} may change its members")

    async def set_member(
        self, course_name: str, user_name: str, member_role: Any, by: str, by_role: Role
    ) -> dict[str, str]:
        """Add a member or change their role (admins only; the user must have signed in).

        An instructor who could enrol anyone would reach that person's records and put
        them under the course's exam windows; courses get members from admins or from the
        hub's course groups.
        """
        if by_role is not Role.ADMIN:
            raise CourseError(
                403,
                "Only admins add members to a course or change their roles "
                "(or the hub's course groups)",
            )
        if member_role not in MEMBER_ROLES:
            raise CourseError(400, f"role must be one of {', '.join(MEMBER_ROLES)}")
        async with self.db.session() as session:
            course = await self._course(session, course_name)
            user = await self._known_user(session, user_name)
            member = await session.get(CourseMember, (course.id, user.id))
            if member is None:
                session.add(CourseMember(course_id=course.id, user_id=user.id, role=member_role))
            else:
                member.role, member.source = member_role, "api"
            record(
                session,
                "course_member_set",
                by,
                course=course.name,
                member=user_name,
                role=member_role,
            )
        return {"course": course_name, "user": user_name, "role": str(member_role)}

    async def remove_member(self, course_name: str, user_name: str, by: str, by_role: Role) -> None:
        """Remove a member from a course."""
        async with self.db.session() as session:
            course = await self._course(session, course_name)
            await self._may_manage(session, course, by, by_role)
            user = (
                await session.execute(select(User).where(User.name == user_name))
            ).scalar_one_or_none()
            member = None if user is None else await session.get(CourseMember, (course.id, user.id))
            if member is None or user is None:
                raise CourseError(404, f"{user_name!r} is not a member of {course_name}")
            await session.delete(member)
            record(session, "course_member_removed", by, course=course.name, member=user_name)

    async def sync_groups(self, user_name: str, groups: list[str]) -> None:
        """Make the user's hub-sourced memberships match their hub groups."""
        wanted = self.courses_in_groups(groups)
        for attempt in range(1, SYNC_ATTEMPTS + 1):
            try:
                await self._sync_memberships(user_name, wanted)
                return
            except IntegrityError:
                # Another sign-in created one of these courses (or this membership) first:
                # the next attempt finds it and joins it.
                if attempt == SYNC_ATTEMPTS:
                    raise
                self.log.info("Course sync of %s raced another sign-in; again", user_name)

    async def _sync_memberships(self, user_name: str, wanted: dict[str, str]) -> None:
        """One transaction of :meth:`sync_groups`: create missing courses, fix memberships."""
        async with self.db.session() as session:
            user = await self._user(session, user_name)
            current = {
                c.name: m
                for m, c in (
                    await session.execute(
                        select(CourseMember, Course)
                        .join(Course, Course.id == CourseMember.course_id)
                        .where(CourseMember.user_id == user.id)
                    )
                ).all()
            }
            for name, role in wanted.items():
                course = (
                    await session.execute(select(Course).where(Course.name == name))
                ).scalar_one_or_none()
                if course is None:
                    course = Course(name=name, title=name)
                    session.add(course)
                    await session.flush()
                    record(session, "course_created", user_name, course=name, source="hub")
                member = current.get(name)
                if member is None:
                    session.add(
                        CourseMember(course_id=course.id, user_id=user.id, role=role, source="hub")
                    )
                elif member.source == "hub" and member.role != role:
                    member.role = role
            stale = [m for name, m in current.items() if m.source == "hub" and name not in wanted]
            for member in stale:
                await session.execute(
                    delete(CourseMember).where(
                        CourseMember.course_id == member.course_id,
                        CourseMember.user_id == member.user_id,
                    )
                )
