"""Read a course's activity: a student's timeline, and the saved versions of a file to replay.

The timeline merges the recorder's rows (edit bursts, saves, pastes) with the records other
parts already keep: judge runs (with the judge's verdict), assignment submissions (with their
grade) and AI requests (the usage ledger). Instructors read any student of a course they
teach; a student reads their own.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.audit import record
from ..auth.courses import USER_NAME
from ..auth.permissions import Role
from ..contents_manager.index import FILE
from ..db import AIUsage, Course, CourseMember, JudgeSubmission, User
from ..db.activity_models import ActivityEvent
from ..db.models import Assignment, AssignmentSubmission, File, FileVersion, Workspace
from ..kernels.judge.statuses import DESCRIPTIONS, Status
from .helpqueue import check_path
from .manager import AssignmentManager, ClassroomError, iso, student_folder
from .workspaces import WorkspaceFiles

MAX_LIMIT = 5000
MAX_SHOW_BYTES = 2 * 1024 * 1024
# What a kernel cell run shows of its detail (run_watch.py).
RUN_FIELDS = ("kernel", "outcome", "ename", "cell_id", "cell_index", "code_hash", "code_head")


def verdict(status_id: int) -> dict[str, Any]:
    """Return a judge status as {id, description}."""
    try:
        return Status(status_id).as_json()
    except ValueError:
        return {"id": status_id, "description": DESCRIPTIONS.get(Status.INTERNAL_ERROR, "")}


def kernel_verdict(detail: dict[str, Any]) -> dict[str, Any]:
    """Return a kernel cell run's outcome as a verdict {id: None, description, ok}."""
    outcome = detail.get("outcome")
    if outcome == "ok":
        return {"id": None, "description": "Ran ok", "ok": True}
    if outcome == "aborted":
        return {"id": None, "description": "Aborted", "ok": False}
    ename = detail.get("ename") or "error"
    return {"id": None, "description": f"Error ({ename})", "ok": False}


def _limit(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LIMIT:
        raise ClassroomError(400, f"limit is a whole number from 1 to {MAX_LIMIT}")
    return int(text)


class ActivityReader:
    """Timelines and replays, with who may read whose."""

    def __init__(self, assignments: AssignmentManager, files: WorkspaceFiles) -> None:
        """Check courses with ``assignments``; read blobs with ``files``."""
        self.assignments = assignments
        self.db = assignments.db
        self.files = files

    async def _whose(
        self,
        session: AsyncSession,
        course_name: str,
        user: str,
        role: Role,
        student: str,
        audit: bool = True,
    ) -> tuple[Course, str, int]:
        """Return the course, the student read and their id; 403 for anyone else's."""
        if student and not USER_NAME.match(student):
            raise ClassroomError(400, f"{student!r} is not a valid user name")
        course = await self.assignments.course(session, course_name)
        member = await self.assignments.role_in(session, course, user, role)
        if member != "instructor":
            if student and student != user:
                raise ClassroomError(403, "Students read only their own activity")
            student = user
        if not student:
            raise ClassroomError(400, "Name a student (?student=)")
        found = (
            await session.execute(
                select(User.id)
                .join(CourseMember, CourseMember.user_id == User.id)
                .where(CourseMember.course_id == course.id, User.name == student)
            )
        ).scalar_one_or_none()
        if found is None:
            raise ClassroomError(404, f"{student} is not a member of {course.name}")
        if student != user and audit:
            record(session, "activity_read", user, course=course.name, student=student)
        return course, student, int(found)

    async def timeline(
        self, course_name: str, user: str, role: Role, student: str, path: str, limit_text: str
    ) -> dict[str, Any]:
        """Return a student's activity in a course, oldest first (one file's with ``path``)."""
        limit = _limit(limit_text)
        path = check_path(path)
        async with self.db.session() as session:
            course, student, uid = await self._whose(session, course_name, user, role, student)
            items = await self._events(session, course, uid, path, limit)
            items += await self._runs(session, course, uid, path, limit)
            items += await self._submissions(session, course, uid, path, limit)
            if not path:
                items += await self._ai(session, course, uid, limit)
        items.sort(key=lambda item: item["order"])
        for item in items:
            del item["order"]
        return {
            "course": course.name,
            "student": student,
            "path": path or None,
            "events": items[-limit:],
        }

    async def stamp(self, course_name: str, user: str, role: Role, student: str) -> str:
        """Return a tag of a student's timeline that changes whenever any of its entries do.

        One query of indexed aggregates (no entry is read), so a page that polls with
        If-None-Match costs little while nothing happens. The read is checked, not audited.
        """
        async with self.db.session() as session:
            course, _, uid = await self._whose(
                session, course_name, user, role, student, audit=False
            )
            mine = (ActivityEvent.user_id == uid) & (ActivityEvent.course_id == course.id)
            judged = (JudgeSubmission.user_id == uid) & (JudgeSubmission.course_id == course.id)
            submitted = (
                AssignmentSubmission.user_id == uid
            ) & AssignmentSubmission.assignment_id.in_(
                select(Assignment.id).where(Assignment.course_id == course.id)
            )
            asked = (AIUsage.user_id == uid) & (AIUsage.course == course.name)
            parts = [
                select(func.max(ActivityEvent.id)).where(mine),
                select(func.max(ActivityEvent.ended_at)).where(mine),
                select(func.max(JudgeSubmission.id)).where(judged),
                select(func.sum(JudgeSubmission.status_id)).where(judged),
                select(func.max(AssignmentSubmission.id)).where(submitted),
                select(func.max(AssignmentSubmission.graded_at)).where(submitted),
                select(func.count(AssignmentSubmission.id)).where(
                    submitted, AssignmentSubmission.status != "queued"
                ),
                select(func.max(AIUsage.id)).where(asked),
            ]
            row = (await session.execute(select(*(part.scalar_subquery() for part in parts)))).one()
        seen = "|".join(str(value) for value in (course.id, uid, *row))
        return hashlib.sha256(seen.encode()).hexdigest()[:32]

    async def _events(
        self, session: AsyncSession, course: Course, uid: int, path: str, limit: int
    ) -> list[dict[str, Any]]:
        query = (
            select(ActivityEvent)
            .where(
                ActivityEvent.course_id == course.id,
                ActivityEvent.user_id == uid,
                # Judge runs come with the judge's verdict below; kernel cell runs (no judge
                # token) are read here.
                or_(ActivityEvent.kind != "run", ActivityEvent.ref.is_(None)),
            )
            .order_by(ActivityEvent.started_at.desc(), ActivityEvent.id.desc())
            .limit(limit)
        )
        if path:
            query = query.where(ActivityEvent.path == path)
        found = []
        for row in (await session.execute(query)).scalars():
            item: dict[str, Any] = {
                "kind": row.kind,
                "time": iso(row.started_at),
                "order": (row.started_at, 0, row.id),
                "path": row.path,
                "size": row.size,
            }
            if row.kind == "edit":
                item.update(end=iso(row.ended_at), edits=row.count)
            elif row.kind == "paste":
                item.update(source=row.source, hash=row.text_hash)
            elif row.kind == "save":
                item.update(hash=row.text_hash)
            elif row.kind == "run":
                detail = row.detail or {}
                item.update(
                    {k: detail.get(k) for k in RUN_FIELDS},
                    via="kernel",
                    end=iso(row.ended_at),
                    verdict=kernel_verdict(detail),
                )
            found.append(item)
        return found

    async def _runs(
        self, session: AsyncSession, course: Course, uid: int, path: str, limit: int
    ) -> list[dict[str, Any]]:
        query = (
            select(JudgeSubmission, ActivityEvent.path)
            .outerjoin(
                ActivityEvent,
                (ActivityEvent.ref == JudgeSubmission.token) & (ActivityEvent.kind == "run"),
            )
            .where(JudgeSubmission.course_id == course.id, JudgeSubmission.user_id == uid)
            .order_by(JudgeSubmission.created_at.desc(), JudgeSubmission.id.desc())
            .limit(limit)
        )
        if path:
            query = query.where(ActivityEvent.path == path)
        return [
            {
                "kind": "run",
                "time": iso(row.created_at),
                "order": (row.created_at, 1, row.id),
                "path": ran or None,
                "via": "judge",
                "token": row.token,
                "language_id": row.language_id,
                "verdict": verdict(row.status_id),
                "finished": iso(row.finished_at),
            }
            for row, ran in (await session.execute(query)).all()
        ]

    async def _submissions(
        self, session: AsyncSession, course: Course, uid: int, path: str, limit: int
    ) -> list[dict[str, Any]]:
        query = (
            select(AssignmentSubmission, Assignment.name)
            .join(Assignment, Assignment.id == AssignmentSubmission.assignment_id)
            .where(Assignment.course_id == course.id, AssignmentSubmission.user_id == uid)
            .order_by(AssignmentSubmission.created_at.desc(), AssignmentSubmission.id.desc())
            .limit(limit)
        )
        found = []
        for row, name in (await session.execute(query)).all():
            folder = student_folder(course.name, name)
            if path and not (path + "/").startswith(folder + "/"):
                continue
            found.append(
                {
                    "kind": "submission",
                    "time": iso(row.created_at),
                    "order": (row.created_at, 2, row.id),
                    "path": folder,
                    "assignment": name,
                    "submission": row.id,
                    "status": row.status,
                    "score": row.score,
                    "max_score": row.max_score,
                }
            )
        return found

    async def _ai(
        self, session: AsyncSession, course: Course, uid: int, limit: int
    ) -> list[dict[str, Any]]:
        query = (
            select(AIUsage)
            .where(AIUsage.course == course.name, AIUsage.user_id == uid)
            .order_by(AIUsage.created_at.desc(), AIUsage.id.desc())
            .limit(limit)
        )
        return [
            {
                "kind": "ai",
                "time": iso(row.created_at),
                "order": (row.created_at, 3, row.id),
                "path": None,
                "model": row.model,
                "tokens": row.prompt_tokens + row.completion_tokens,
            }
            for row in (await session.execute(query)).scalars()
        ]

    # -- replay --------------------------------------------------------------------------------

    async def _replayable(
        self, course_name: str, user: str, role: Role, student: str, path: Any
    ) -> tuple[str, str, list[dict[str, Any]]]:
        """Return the student, path and saved versions (oldest first) the caller may replay.

        A student replays any file of their own; an instructor a student's file that was
        worked on in the course (activity recorded there) or lies in its assignment folders.
        """
        path = check_path(path)
        if not path:
            raise ClassroomError(400, "Name the file to replay (?path=)")
        async with self.db.session() as session:
            course, student, uid = await self._whose(session, course_name, user, role, student)
            if student != user and not path.startswith(f"assignments/{course.name}/"):
                seen = (
                    await session.execute(
                        select(ActivityEvent.id)
                        .where(
                            ActivityEvent.user_id == uid,
                            ActivityEvent.course_id == course.id,
                            or_(ActivityEvent.path == path, ActivityEvent.source == path),
                        )
                        .limit(1)
                    )
                ).scalar_one_or_none()
                if seen is None:
                    raise ClassroomError(404, f"{student} did no work on {path} in {course.name}")
            workspace = (
                await session.execute(
                    select(Workspace.id).where(
                        Workspace.user_id == uid, Workspace.name == self.files.contents.workspace
                    )
                )
            ).scalar_one_or_none()
            if workspace is None:
                raise ClassroomError(404, f"{student} has no file at {path}")
            kept = (
                await session.execute(
                    select(FileVersion)
                    .where(FileVersion.workspace_id == workspace, FileVersion.path == path)
                    .order_by(FileVersion.modified_at, FileVersion.id)
                )
            ).scalars()
            versions: list[dict[str, Any]] = [
                {
                    "hash": row.content_hash,
                    "size": row.size,
                    "time": iso(row.modified_at),
                    "reason": row.reason,
                    "current": False,
                }
                for row in kept
            ]
            now = (
                await session.execute(
                    select(File).where(
                        File.workspace_id == workspace, File.path == path, File.kind == FILE
                    )
                )
            ).scalar_one_or_none()
            if now is not None:
                versions.append(
                    {
                        "hash": now.content_hash,
                        "size": now.size,
                        "time": iso(now.updated_at),
                        "reason": "current",
                        "current": True,
                    }
                )
        if not versions:
            raise ClassroomError(404, f"{student} has no file at {path}")
        return student, path, versions

    async def versions(
        self, course_name: str, user: str, role: Role, student: str, path: Any
    ) -> dict[str, Any]:
        """Return the saved versions of a student's file, oldest first, numbered from 1."""
        student, path, found = await self._replayable(course_name, user, role, student, path)
        for n, version in enumerate(found, start=1):
            version["n"] = n
        return {"student": student, "path": path, "versions": found}

    async def version_text(
        self, course_name: str, user: str, role: Role, student: str, path: Any, content_hash: str
    ) -> str:
        """Return one saved version's text (only a version of that file)."""
        if not (len(content_hash) == 64 and all(c in "0123456789abcdef" for c in content_hash)):
            raise ClassroomError(400, "hash must be a version's sha256 (64 hex digits)")
        student, path, found = await self._replayable(course_name, user, role, student, path)
        match = next((v for v in found if v["hash"] == content_hash), None)
        if match is None:
            raise ClassroomError(404, f"{path} of {student} has no version {content_hash[:12]}")
        if int(match["size"]) > MAX_SHOW_BYTES:
            raise ClassroomError(413, f"That version is larger than {MAX_SHOW_BYTES} bytes to show")
        data = await self.files.read(content_hash)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ClassroomError(415, f"{path} is not a text file") from e
