"""The help queue of a course: students raise a hand, its instructors answer in order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.audit import record
from ..auth.permissions import Role
from ..db import Course, User
from ..db.teaching_models import HelpRequest
from .manager import AssignmentManager, ClassroomError, iso
from .workspaces import WorkspaceFiles

MAX_MESSAGE = 2000
MAX_NOTE = 2000
MAX_PATH = 1024
MAX_LINE = 1_000_000
MAX_FILE_BYTES = 2 * 1024 * 1024
RAISE_FIELDS = frozenset({"message", "path", "line"})
CLOSED_SHOWN = 50  # closed requests a listing includes, newest first


def check_message(value: Any, field: str, limit: int, required: bool = True) -> str:
    """Return trimmed text of at most ``limit`` characters, or raise 400."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ClassroomError(400, f"{field} must be text")
    text = value.strip()
    if required and not text:
        raise ClassroomError(400, f"{field} must not be empty: say what you need help with")
    if len(text) > limit:
        raise ClassroomError(400, f"{field} must be at most {limit} characters")
    if "\x00" in text:
        raise ClassroomError(400, f"{field} must not hold NUL characters")
    return text


def check_path(value: Any) -> str:
    """Return a workspace-relative file path ("" for none), or raise 400 for anything else."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise ClassroomError(400, "path must be text: a file of your workspace")
    if len(value) > MAX_PATH:
        raise ClassroomError(400, f"path must be at most {MAX_PATH} characters")
    if any(ord(c) < 32 for c in value) or "\\" in value:
        raise ClassroomError(400, "path must not hold control characters or backslashes")
    if value.startswith(("/", "~")):
        raise ClassroomError(400, "path must be relative to your workspace, not absolute")
    parts = value.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ClassroomError(400, "path must name a file inside your workspace (no . or ..)")
    return value


def check_line(value: Any, path: str) -> int | None:
    """Return a line number (1 and up) or None, or raise 400."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ClassroomError(400, "line must be a whole number, 1 or more")
    if not 1 <= value <= MAX_LINE:
        raise ClassroomError(400, f"line must be between 1 and {MAX_LINE}")
    if not path:
        raise ClassroomError(400, "line needs a path: the file the line is in")
    return value


def _seconds(since: datetime, now: datetime) -> int:
    return max(0, int((now - since).total_seconds()))


class HelpQueue:
    """Raise, list, resolve and return help requests; who may see what, per course."""

    def __init__(self, assignments: AssignmentManager, files: WorkspaceFiles) -> None:
        """Use the classroom's course checks and its door to users' workspaces."""
        self.assignments = assignments
        self.db = assignments.db
        self.files = files

    async def _member(
        self, session: AsyncSession, course_name: str, user: str, role: Role
    ) -> tuple[Course, str]:
        """Return the course and the caller's role in it (400/404/403 otherwise)."""
        course = await self.assignments.course(session, course_name)
        return course, await self.assignments.role_in(session, course, user, role)

    def _view(
        self, row: HelpRequest, student: str, now: datetime, position: int | None
    ) -> dict[str, Any]:
        """Return a request as JSON."""
        return {
            "id": row.id,
            "student": student,
            "message": row.message,
            "path": row.path or None,
            "line": row.line,
            "status": row.status,
            "raised_at": iso(row.raised_at),
            "updated_at": iso(row.updated_at),
            "waiting_seconds": _seconds(row.raised_at, row.closed_at or now),
            "position": position,
            "closed_at": iso(row.closed_at),
            "closed_by": row.closed_by,
            "note": row.note,
        }

    async def _position(self, session: AsyncSession, row: HelpRequest) -> int:
        """Return an open request's place in its course's queue (1: next)."""
        ahead = (
            await session.execute(
                select(func.count(HelpRequest.id)).where(
                    HelpRequest.course_id == row.course_id,
                    HelpRequest.open_slot.is_(True),
                    or_(
                        HelpRequest.raised_at < row.raised_at,
                        and_(HelpRequest.raised_at == row.raised_at, HelpRequest.id < row.id),
                    ),
                )
            )
        ).scalar_one()
        return int(ahead) + 1

    # -- students ------------------------------------------------------------------------------

    async def raise_hand(
        self, course_name: str, body: Any, user: str, role: Role
    ) -> tuple[dict[str, Any], bool]:
        """Raise (or update) the caller's one open request; return it and whether it is new.

        A second raise while one is open changes its message and link, keeping its place.
        """
        if not isinstance(body, dict):
            raise ClassroomError(400, "The body must be a JSON object {message, path, line}")
        unknown = set(body) - RAISE_FIELDS
        if unknown:
            raise ClassroomError(400, f"Unknown fields: {', '.join(sorted(unknown))}")
        message = check_message(body.get("message"), "message", MAX_MESSAGE)
        path = check_path(body.get("path"))
        line = check_line(body.get("line"), path)
        for attempt in range(5):
            try:
                return await self._raise(course_name, user, role, message, path, line)
            except IntegrityError as e:
                # Another raise of the same student's won the race: update theirs.
                if attempt == 4:
                    raise ClassroomError(409, "Your hand is being raised already; try again") from e
        raise AssertionError("unreachable")

    async def _raise(
        self, course_name: str, user: str, role: Role, message: str, path: str, line: int | None
    ) -> tuple[dict[str, Any], bool]:
        async with self.db.session() as session:
            course, member = await self._member(session, course_name, user, role)
            if member != "student":
                raise ClassroomError(403, f"Only the students of {course.name} raise hands")
            user_id = await self.assignments.user_id(session, user)
            now = datetime.now(timezone.utc)
            row = (
                await session.execute(
                    select(HelpRequest).where(
                        HelpRequest.course_id == course.id,
                        HelpRequest.user_id == user_id,
                        HelpRequest.open_slot.is_(True),
                    )
                )
            ).scalar_one_or_none()
            created = row is None
            if row is None:
                row = HelpRequest(
                    course_id=course.id,
                    user_id=user_id,
                    message=message,
                    path=path,
                    line=line,
                    status="open",
                    open_slot=True,
                    raised_at=now,
                    updated_at=now,
                )
                session.add(row)
            else:
                row.message, row.path, row.line, row.updated_at = message, path, line, now
            await session.flush()
            return self._view(row, user, now, await self._position(session, row)), created

    async def withdraw(self, course_name: str, user: str, role: Role) -> dict[str, Any]:
        """Lower the caller's raised hand (404 when none is raised)."""
        async with self.db.session() as session:
            course, _ = await self._member(session, course_name, user, role)
            user_id = await self.assignments.user_id(session, user)
            row = (
                await session.execute(
                    select(HelpRequest).where(
                        HelpRequest.course_id == course.id,
                        HelpRequest.user_id == user_id,
                        HelpRequest.open_slot.is_(True),
                    )
                )
            ).scalar_one_or_none()
            if row is None:
                raise ClassroomError(404, "Your hand is not raised in this course")
            now = datetime.now(timezone.utc)
            row.status, row.open_slot, row.closed_at, row.closed_by = "withdrawn", None, now, user
            return self._view(row, user, now, None)

    # -- listing -------------------------------------------------------------------------------

    async def listing(
        self, course_name: str, user: str, role: Role, closed: bool = False
    ) -> dict[str, Any]:
        """Return the queue (instructors) or the caller's own requests and position."""
        now = datetime.now(timezone.utc)
        async with self.db.session() as session:
            course, member = await self._member(session, course_name, user, role)
            query = (
                select(HelpRequest, User.name)
                .join(User, User.id == HelpRequest.user_id)
                .where(HelpRequest.course_id == course.id)
            )
            if member != "instructor":
                query = query.where(User.name == user)
            opened = (
                await session.execute(
                    query.where(HelpRequest.open_slot.is_(True)).order_by(
                        HelpRequest.raised_at, HelpRequest.id
                    )
                )
            ).all()
            recent: Sequence[Row[HelpRequest, str]] = []
            if closed or member != "instructor":
                recent = (
                    await session.execute(
                        query.where(HelpRequest.open_slot.is_(None))
                        .order_by(HelpRequest.closed_at.desc(), HelpRequest.id.desc())
                        .limit(CLOSED_SHOWN)
                    )
                ).all()
            if member == "instructor":
                return {
                    "course": course.name,
                    "role": "instructor",
                    "queue": [self._view(r, n, now, i + 1) for i, (r, n) in enumerate(opened)],
                    "closed": [self._view(r, n, now, None) for r, n in recent],
                }
            mine = opened[0][0] if opened else None
            position = await self._position(session, mine) if mine is not None else None
            return {
                "course": course.name,
                "role": "student",
                "open": self._view(mine, user, now, position) if mine is not None else None,
                "position": position,
                "closed": [self._view(r, n, now, None) for r, n in recent],
            }

    # -- instructors ---------------------------------------------------------------------------

    async def _request(
        self, session: AsyncSession, course: Course, request_id: str
    ) -> tuple[HelpRequest, str]:
        """Return a request of the course and its student's name, or raise 404."""
        if not (request_id.isascii() and request_id.isdigit()) or len(request_id) > 18:
            raise ClassroomError(400, "A help request id is a number")
        found = (
            await session.execute(
                select(HelpRequest, User.name)
                .join(User, User.id == HelpRequest.user_id)
                .where(HelpRequest.id == int(request_id), HelpRequest.course_id == course.id)
            )
        ).one_or_none()
        if found is None:
            raise ClassroomError(404, f"No help request {request_id} in {course.name}")
        return found[0], str(found[1])

    async def close(
        self, course_name: str, request_id: str, outcome: str, body: Any, user: str, role: Role
    ) -> dict[str, Any]:
        """Resolve or return (with a note) an open request of a course one teaches."""
        if body is None:
            body = {}
        if not isinstance(body, dict) or set(body) - {"note"}:
            raise ClassroomError(400, "The body is {note} (a note for the student)")
        note = check_message(body.get("note"), "note", MAX_NOTE, required=outcome == "returned")
        async with self.db.session() as session:
            course, _ = await self._member(session, course_name, user, role)
            await self.assignments.teaching(session, course, user, role)
            row, student = await self._request(session, course, request_id)
            if row.open_slot is None:
                raise ClassroomError(409, f"Help request {row.id} is already {row.status}")
            now = datetime.now(timezone.utc)
            row.status, row.open_slot, row.closed_at, row.closed_by = outcome, None, now, user
            row.note = note or None
            record(
                session,
                f"help_{outcome}",
                user,
                course=course.name,
                student=student,
                request=row.id,
            )
            return self._view(row, student, now, None)

    async def student_file(
        self, course_name: str, request_id: str, user: str, role: Role
    ) -> dict[str, Any]:
        """Return the linked file of a request, read-only, for the course's instructors."""
        async with self.db.session() as session:
            course, _ = await self._member(session, course_name, user, role)
            await self.assignments.teaching(session, course, user, role)
            row, student = await self._request(session, course, request_id)
            path, line = row.path, row.line
            if not path:
                raise ClassroomError(404, f"Help request {row.id} links no file")
            record(
                session, "help_file_viewed", user, course=course.name, student=student, path=path
            )
        live = self.files._live(student)
        if live is not None:
            await live.sync_from_disk()  # what code wrote there too
        found = await self.files.current(student, [path])
        if path not in found:
            raise ClassroomError(404, f"{student} has no file at {path} now")
        data = await self.files.read(found[path])
        if len(data) > MAX_FILE_BYTES:
            raise ClassroomError(413, f"{path} is larger than {MAX_FILE_BYTES} bytes to show")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ClassroomError(415, f"{path} is not a text file") from e
        return {"student": student, "path": path, "line": line, "content": text}


__all__ = ["HelpQueue", "check_path"]
