"""The submissions table: record new submissions, their endings, and read them back by owner.

Each submission is tagged with the course it was made in; an instructor reads only the
submissions of the courses they teach.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ...db import Database
from ...db.models import Course, CourseMember, JudgeSubmission, User
from ...db.queries import get_or_create_user
from .statuses import Status
from .submission import Submission

UNFINISHED = (int(Status.IN_QUEUE), int(Status.PROCESSING))


class NotInCourse(Exception):
    """A submission names a course its author is not a member of."""


class SubmissionStore:
    """Reads and writes ``submissions`` rows."""

    def __init__(self, db: Database) -> None:
        """Use ``db``."""
        self.db = db
        self._user_ids: dict[str, int] = {}

    async def _user_id(self, session: AsyncSession, name: str) -> int:
        user_id = self._user_ids.get(name)
        if user_id is None:
            user, _ = await get_or_create_user(session, name)
            user_id = self._user_ids[name] = user.id
        return user_id

    async def course_for(self, user: str, requested: str | None, admin: bool = False) -> int | None:
        """Return the id of the course a submission of ``user`` is made in, or None.

        The course named (the user must be a member; admins may name any), else the user's
        only course, else none. Raise NotInCourse for a course the user is not in.
        """
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(Course.id, Course.name)
                    .join(CourseMember, CourseMember.course_id == Course.id)
                    .join(User, User.id == CourseMember.user_id)
                    .where(User.name == user)
                )
            ).all()
            mine = {str(name): int(cid) for cid, name in rows}
            if not requested:
                return next(iter(mine.values())) if len(mine) == 1 else None
            if requested in mine:
                return mine[requested]
            if admin:
                cid = (
                    await session.execute(select(Course.id).where(Course.name == requested))
                ).scalar_one_or_none()
                if cid is not None:
                    return int(cid)
        raise NotInCourse(f"You are not a member of the course {requested!r}")

    async def add(self, submissions: list[Submission]) -> None:
        """Insert new submissions (all or none)."""
        if not submissions:
            return
        async with self.db.session() as session:
            user_id = await self._user_id(session, submissions[0].user)
            for sub in submissions:
                session.add(
                    JudgeSubmission(
                        token=sub.token,
                        user_id=user_id,
                        language_id=sub.language_id,
                        status_id=int(sub.status),
                        created_at=sub.created_at,
                        detail=sub.detail_blob(),
                    )
                )

    async def tag(self, tokens: list[str], course_id: int) -> None:
        """Record the course the submissions ``tokens`` were made in."""
        if not tokens:
            return
        async with self.db.session() as session:
            await session.execute(
                update(JudgeSubmission)
                .where(JudgeSubmission.token.in_(tokens))
                .values(course_id=course_id)
            )

    async def save(self, sub: Submission) -> None:
        """Write a submission's status and outcome (see ``finish`` for a verdict)."""
        await self._write(sub, only_unfinished=False)

    async def finish(self, sub: Submission) -> bool:
        """Record a verdict once: only a queued or processing row changes; True if it did."""
        return await self._write(sub, only_unfinished=True)

    async def mark_processing(self, token: str) -> None:
        """Move a queued submission to processing (a finished one stays as it is)."""
        async with self.db.session() as session:
            await session.execute(
                update(JudgeSubmission)
                .where(
                    JudgeSubmission.token == token,
                    JudgeSubmission.status_id == int(Status.IN_QUEUE),
                )
                .values(status_id=int(Status.PROCESSING))
            )

    async def remove_queued(self, tokens: list[str]) -> None:
        """Delete submissions that never ran (their queueing was refused)."""
        if not tokens:
            return
        async with self.db.session() as session:
            await session.execute(
                delete(JudgeSubmission).where(
                    JudgeSubmission.token.in_(tokens), JudgeSubmission.status_id.in_(UNFINISHED)
                )
            )

    async def load_token(self, token: str) -> Submission | None:
        """Return one submission by token, whoever owns it (for the worker that runs it)."""
        async with self.db.session() as session:
            found = (
                await session.execute(
                    select(JudgeSubmission, User.name)
                    .join(User, User.id == JudgeSubmission.user_id)
                    .where(JudgeSubmission.token == token)
                )
            ).first()
        if found is None:
            return None
        row, name = found
        return self._rebuild(row, str(name))

    async def unfinished(self, before: datetime, limit: int = 200) -> list[tuple[str, str]]:
        """Return (token, owner) of the oldest queued or processing submissions made before."""
        async with self.db.session() as session:
            rows = await session.execute(
                select(JudgeSubmission.token, User.name)
                .join(User, User.id == JudgeSubmission.user_id)
                .where(
                    JudgeSubmission.status_id.in_(UNFINISHED),
                    JudgeSubmission.created_at < before,
                )
                .order_by(JudgeSubmission.created_at)
                .limit(limit)
            )
            return [(str(token), str(name)) for token, name in rows]

    async def _write(self, sub: Submission, only_unfinished: bool) -> bool:
        outcome = sub.outcome
        values: dict[str, Any] = {"status_id": int(sub.status), "finished_at": sub.finished_at}
        if outcome is not None:
            values.update(
                time=outcome.time,
                wall_time=outcome.wall_time,
                memory=outcome.memory,
                exit_code=outcome.exit_code,
                exit_signal=outcome.exit_signal,
                message=outcome.message,
                compile_cached=outcome.compile_cached,
                detail=sub.detail_blob(),
            )
        query = update(JudgeSubmission).where(JudgeSubmission.token == sub.token)
        if only_unfinished:
            query = query.where(JudgeSubmission.status_id.in_(UNFINISHED))
        async with self.db.session() as session:
            result = await session.execute(query.values(**values))
            return bool(getattr(result, "rowcount", 0))

    @staticmethod
    def _rebuild(row: JudgeSubmission, user: str) -> Submission:
        return Submission.from_row(
            token=row.token,
            user=user,
            language_id=row.language_id,
            status_id=row.status_id,
            created_at=row.created_at,
            finished_at=row.finished_at,
            columns={
                "message": row.message,
                "time": row.time,
                "wall_time": row.wall_time,
                "memory": row.memory,
                "exit_code": row.exit_code,
                "exit_signal": row.exit_signal,
                "compile_cached": row.compile_cached,
            },
            detail=row.detail,
        )

    async def load(self, tokens: list[str], owner: str) -> dict[str, Submission]:
        """Return the submissions among ``tokens`` that belong to ``owner``."""
        if not tokens:
            return {}
        async with self.db.session() as session:
            rows = await session.execute(
                select(JudgeSubmission)
                .join(User, User.id == JudgeSubmission.user_id)
                .where(JudgeSubmission.token.in_(tokens), User.name == owner)
            )
            return {row.token: self._rebuild(row, owner) for row in rows.scalars()}

    async def page(
        self,
        users: list[str] | None,
        page: int,
        per_page: int,
        courses: list[int] | None = None,
    ) -> tuple[list[Submission], int]:
        """Return one page of submissions of ``users`` (None: everyone), newest first.

        With ``courses``, only the submissions made in those courses.
        """
        query = select(JudgeSubmission, User.name).join(User, User.id == JudgeSubmission.user_id)
        count = select(func.count(JudgeSubmission.id)).join(
            User, User.id == JudgeSubmission.user_id
        )
        if users is not None:
            query = query.where(User.name.in_(users))
            count = count.where(User.name.in_(users))
        if courses is not None:
            query = query.where(JudgeSubmission.course_id.in_(courses))
            count = count.where(JudgeSubmission.course_id.in_(courses))
        query = (
            query.order_by(JudgeSubmission.created_at.desc(), JudgeSubmission.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        async with self.db.session() as session:
            total = int((await session.execute(count)).scalar_one())
            rows = (await session.execute(query)).all()
        return [self._rebuild(row, name) for row, name in rows], total

    @staticmethod
    def _taught(instructor: str) -> Any:
        """Return the query of the ids of the courses ``instructor`` teaches."""
        return (
            select(CourseMember.course_id)
            .join(User, User.id == CourseMember.user_id)
            .where(User.name == instructor, CourseMember.role == "instructor")
        )

    async def courses_taught(self, instructor: str) -> list[int]:
        """Return the ids of the courses ``instructor`` teaches."""
        async with self.db.session() as session:
            rows = await session.execute(self._taught(instructor))
            return sorted(int(cid) for cid in rows.scalars())

    async def students_of(self, instructor: str) -> list[str]:
        """Return the names of the members of every course ``instructor`` teaches.

        Their submissions are visible to the instructor only where made in those courses
        (``page`` with ``courses_taught``).
        """
        async with self.db.session() as session:
            taught = self._taught(instructor)
            rows = await session.execute(
                select(User.name)
                .join(CourseMember, CourseMember.user_id == User.id)
                .join(Course, Course.id == CourseMember.course_id)
                .where(CourseMember.course_id.in_(taught))
                .distinct()
            )
            return sorted(str(name) for name in rows.scalars())
