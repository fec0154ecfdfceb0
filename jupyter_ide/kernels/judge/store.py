"""The submissions table: record new submissions, their endings, and read them back by owner."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ...db import Database
from ...db.models import Course, CourseMember, JudgeSubmission, User
from ...db.queries import get_or_create_user
from .submission import Submission


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

    async def save(self, sub: Submission) -> None:
        """Write a submission's status and outcome."""
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
        async with self.db.session() as session:
            await session.execute(
                update(JudgeSubmission).where(JudgeSubmission.token == sub.token).values(**values)
            )

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
        self, users: list[str] | None, page: int, per_page: int
    ) -> tuple[list[Submission], int]:
        """Return one page of submissions of ``users`` (None: everyone), newest first."""
        query = select(JudgeSubmission, User.name).join(User, User.id == JudgeSubmission.user_id)
        count = select(func.count(JudgeSubmission.id)).join(
            User, User.id == JudgeSubmission.user_id
        )
        if users is not None:
            query = query.where(User.name.in_(users))
            count = count.where(User.name.in_(users))
        query = (
            query.order_by(JudgeSubmission.created_at.desc(), JudgeSubmission.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        async with self.db.session() as session:
            total = int((await session.execute(count)).scalar_one())
            rows = (await session.execute(query)).all()
        return [self._rebuild(row, name) for row, name in rows], total

    async def students_of(self, instructor: str) -> list[str]:
        """Return the names of the members of every course ``instructor`` teaches."""
        async with self.db.session() as session:
            taught = (
                select(CourseMember.course_id)
                .join(User, User.id == CourseMember.user_id)
                .where(User.name == instructor, CourseMember.role == "instructor")
            )
            rows = await session.execute(
                select(User.name)
                .join(CourseMember, CourseMember.user_id == User.id)
                .join(Course, Course.id == CourseMember.course_id)
                .where(CourseMember.course_id.in_(taught))
                .distinct()
            )
            return sorted(str(name) for name in rows.scalars())
