"""Who may see whose workspace live, and what the live view reads: files, runs, options."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.audit import record
from ..auth.permissions import Role
from ..db import Course, CourseMember, User
from ..db.live_models import LiveCourseSettings
from ..db.models import File, JudgeSubmission
from ..kernels.judge.languages import JUDGE_LANGUAGES
from ..kernels.judge.store import SubmissionStore
from .helpqueue import MAX_FILE_BYTES, check_path
from .live_documents import is_notebook
from .live_pairs import LivePairs
from .manager import AssignmentManager, ClassroomError, iso
from .workspaces import WorkspaceFiles

MAX_TREE = 5000  # entries a live view lists
RUNS_SHOWN = 10
MAX_OUTPUT = 64 * 1024  # characters of each output a run shows
MAX_NOTEBOOK_BYTES = 4 * 1024 * 1024  # a saved notebook's size shown live (outputs weigh)


def _clip(data: bytes | None) -> str | None:
    """Return output as text, cut to MAX_OUTPUT characters."""
    if data is None:
        return None
    text = data.decode("utf-8", errors="replace")
    return text if len(text) <= MAX_OUTPUT else text[:MAX_OUTPUT] + "\n… (cut)"


class LiveAccess:
    """The live view's checks and reads, over the classroom's course checks and workspaces."""

    def __init__(self, assignments: AssignmentManager, files: WorkspaceFiles) -> None:
        """Use the classroom's course checks and its door to users' workspaces."""
        self.assignments = assignments
        self.db = assignments.db
        self.files = files
        self.pairs = LivePairs(assignments)

    async def _watched(
        self, session: AsyncSession, course_name: str, student: str, user: str, role: Role
    ) -> tuple[Course, str]:
        """Return the course and the student's role in it; 403 unless ``user`` teaches it.

        The student must be a member of that course (403: an instructor of another course
        sees no one here); a name nobody has is 404.
        """
        course = await self.assignments.course(session, course_name)
        await self.assignments.teaching(session, course, user, role)
        if not student or len(student) > 255:
            raise ClassroomError(400, "Name the member whose workspace to view")
        student_id = await self.assignments.user_id(session, student)
        member = (
            await session.execute(
                select(CourseMember.role).where(
                    CourseMember.course_id == course.id, CourseMember.user_id == student_id
                )
            )
        ).scalar_one_or_none()
        if member is None:
            raise ClassroomError(403, f"{student} is not a member of {course.name}")
        return course, str(member)

    async def check_viewer(
        self, course_name: str, student: str, path: str, user: str, role: Role
    ) -> bool:
        """Check ``user`` may view ``student``'s ``path`` (audited); return whether they may write.

        An instructor may write when the course has pair editing on; the student's named
        partner (live_pairs.py) always may.
        """
        path = check_path(path) if path else ""
        async with self.db.session() as session:
            course, partner = await self._viewer(session, course_name, student, user, role)
            pairing = partner or await self._pairing(session, course.id)
            record(
                session,
                "live_view_opened",
                user,
                course=course.name,
                student=student,
                path=path,
                writable=pairing,
                partner=partner,
            )
        return pairing

    async def _viewer(
        self, session: AsyncSession, course_name: str, student: str, user: str, role: Role
    ) -> tuple[Course, bool]:
        """Return the course and whether ``user`` comes as ``student``'s named partner.

        Anyone else must teach the student's course (``_watched``'s checks and refusals).
        """
        course = await self.assignments.course(session, course_name)
        if (
            student
            and student != user
            and await self.pairs.is_partner(session, course, user, student)
        ):
            return course, True
        course, _ = await self._watched(session, course_name, student, user, role)
        return course, False

    async def members(self, course_name: str, user: str, role: Role) -> list[dict[str, Any]]:
        """Return the course's members (instructors only)."""
        async with self.db.session() as session:
            course = await self.assignments.course(session, course_name)
            await self.assignments.teaching(session, course, user, role)
            rows = (
                await session.execute(
                    select(User.name, CourseMember.role)
                    .join(CourseMember, CourseMember.user_id == User.id)
                    .where(CourseMember.course_id == course.id)
                    .order_by(CourseMember.role.desc(), User.name)
                )
            ).all()
        return [{"name": str(name), "role": str(member)} for name, member in rows]

    async def tree(
        self, course_name: str, student: str, user: str, role: Role
    ) -> list[dict[str, Any]]:
        """Return the student's files and folders (read-only); the view start is audited."""
        async with self.db.session() as session:
            course, partner = await self._viewer(session, course_name, student, user, role)
            record(
                session,
                "live_view_started",
                user,
                course=course.name,
                student=student,
                partner=partner,
            )
        live = self.files._live(student)
        if live is not None:
            await live.sync_from_disk()
        index = await self.files._index(student)
        query = (
            select(File.path, File.kind, File.size, File.updated_at)
            .where(File.workspace_id == index.workspace_id)
            .order_by(File.path)
            .limit(MAX_TREE)
        )
        async with self.db.session() as session:
            rows = (await session.execute(query)).all()
        return [
            {"path": path, "kind": kind, "size": int(size), "modified": iso(modified)}
            for path, kind, size, modified in rows
            if not any(part.startswith(".") for part in path.split("/"))
        ]

    async def runs(
        self, course_name: str, student: str, user: str, role: Role
    ) -> list[dict[str, Any]]:
        """Return the student's last runs (made outside any course or in this one), outputs."""
        async with self.db.session() as session:
            course, _ = await self._watched(session, course_name, student, user, role)
            student_id = await self.assignments.user_id(session, student)
            rows = (
                (
                    await session.execute(
                        select(JudgeSubmission)
                        .where(
                            JudgeSubmission.user_id == student_id,
                            or_(
                                JudgeSubmission.course_id.is_(None),
                                JudgeSubmission.course_id == course.id,
                            ),
                        )
                        .order_by(JudgeSubmission.created_at.desc(), JudgeSubmission.id.desc())
                        .limit(RUNS_SHOWN)
                    )
                )
                .scalars()
                .all()
            )
        found = []
        for row in rows:
            sub = SubmissionStore._rebuild(row, student)
            outcome = sub.outcome
            language = JUDGE_LANGUAGES.get(row.language_id)
            found.append(
                {
                    "token": row.token,
                    "language": language.key if language else str(row.language_id),
                    "status": sub.status.description,
                    "created_at": iso(row.created_at),
                    "source": _clip(sub.texts.get("source_code")),
                    "stdin": _clip(sub.texts.get("stdin")),
                    "stdout": _clip(outcome.stdout) if outcome else None,
                    "stderr": _clip(outcome.stderr) if outcome else None,
                    "compile_output": _clip(outcome.compile_output) if outcome else None,
                    "exit_code": outcome.exit_code if outcome else None,
                }
            )
        return found

    async def _pairing(self, session: AsyncSession, course_id: int) -> bool:
        found = await session.get(LiveCourseSettings, course_id)
        return bool(found and found.pair_editing)

    async def options(self, course_name: str, user: str, role: Role) -> dict[str, Any]:
        """Return the course's live-view options (its members may read them)."""
        async with self.db.session() as session:
            course = await self.assignments.course(session, course_name)
            await self.assignments.role_in(session, course, user, role)
            return {"course": course.name, "pair_editing": await self._pairing(session, course.id)}

    async def set_options(
        self, course_name: str, body: Any, user: str, role: Role
    ) -> dict[str, Any]:
        """Turn pair editing on or off for a course one teaches (audited)."""
        if not isinstance(body, dict) or set(body) != {"pair_editing"}:
            raise ClassroomError(400, "The body is {pair_editing: true or false}")
        value = body["pair_editing"]
        if not isinstance(value, bool):
            raise ClassroomError(400, "pair_editing must be true or false")
        async with self.db.session() as session:
            course = await self.assignments.course(session, course_name)
            await self.assignments.teaching(session, course, user, role)
            found = await session.get(LiveCourseSettings, course.id)
            if found is None:
                found = LiveCourseSettings(course_id=course.id)
                session.add(found)
            found.pair_editing = value
            found.updated_by = user
            found.updated_at = datetime.now(timezone.utc)
            record(session, "live_pair_editing", user, course=course.name, enabled=value)
            return {"course": course.name, "pair_editing": value}

    async def saved_text(self, owner: str, path: str) -> str:
        """Return the saved text of ``owner``'s ``path`` ("" when no file is there yet).

        A notebook's text is its .ipynb JSON (live_documents.py lays it out), allowed larger.
        """
        found = await self.files.current(owner, [path])
        if path not in found:
            return ""
        data = await self.files.read(found[path])
        limit = MAX_NOTEBOOK_BYTES if is_notebook(path) else MAX_FILE_BYTES
        if len(data) > limit:
            raise ClassroomError(413, f"{path} is larger than {limit} bytes to view live")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ClassroomError(415, f"{path} is not a text file") from e
