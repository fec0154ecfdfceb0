"""Assignments of a course: create from a folder, change, release to students, extensions."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from tornado import web
from traitlets import Int
from traitlets.config import LoggingConfigurable

from ..auth.audit import record
from ..auth.courses import USER_NAME, check_name
from ..auth.permissions import Role
from ..db import Course, CourseMember, Database, User
from ..db.models import Assignment, AssignmentCopy, AssignmentExtension
from .release import NAME as TEST_NAME
from .release import ReleaseError, prepare_file
from .scoring import shown
from .spec import VISIBILITIES, GradingSpec, TestCase, TestLimits
from .workspaces import WorkspaceFiles

ASSIGNMENT = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
RESERVED = frozenset({"gradebook"})
LANGUAGE_NAMES = ("python", "c", "cpp", "java", "javascript", "go", "rust", "bash")
POLICY_FIELDS = (
    "title",
    "due_at",
    "late_penalty_percent",
    "cutoff_hours",
    "max_submissions",
    "window_seconds",
    "rubric",
)


class ClassroomError(web.HTTPError):
    """A classroom request that cannot be carried out: its status and a clear message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        """Keep the message (shown to the caller) and headers (Retry-After)."""
        super().__init__(status, message.replace("%", "%%"))  # logged as a format
        self.message = message
        self.headers = headers or {}


def student_folder(course: str, name: str) -> str:
    """Return where a student's copy of an assignment lives in their workspace."""
    return f"assignments/{course}/{name}"


def parse_time(value: Any, field: str) -> datetime | None:
    """Return an aware UTC time from ISO 8601 text (None stays None), or raise 400."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ClassroomError(400, f"{field} must be an ISO 8601 time, e.g. 2026-12-01T23:59:00Z")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise ClassroomError(400, f"{field} is not an ISO 8601 time: {value!r}") from e
    if parsed.tzinfo is None:
        raise ClassroomError(400, f"{field} needs a time zone (e.g. Z or +01:00)")
    return parsed.astimezone(timezone.utc)


def iso(value: datetime | None) -> str | None:
    """Return a time as ISO 8601 text."""
    return value.isoformat() if value is not None else None


def _number(body: dict[str, Any], key: str, low: float, high: float, whole: bool = False) -> Any:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ClassroomError(400, f"{key} must be a number")
    if whole and int(value) != value:
        raise ClassroomError(400, f"{key} must be a whole number")
    if not low <= value <= high:
        raise ClassroomError(400, f"{key} must be between {low:g} and {high:g}")
    return int(value) if whole else float(value)


def check_policy(body: dict[str, Any]) -> dict[str, Any]:
    """Validate the policy fields present in ``body``; return them ready to store."""
    out: dict[str, Any] = {}
    if "title" in body:
        if not isinstance(body["title"], str) or len(body["title"]) > 255:
            raise ClassroomError(400, "title must be text of at most 255 characters")
        out["title"] = body["title"]
    if "due_at" in body:
        out["due_at"] = parse_time(body["due_at"], "due_at")
    if "late_penalty_percent" in body:
        out["late_penalty_percent"] = _number(body, "late_penalty_percent", 0, 100)
    if "cutoff_hours" in body:
        out["cutoff_hours"] = (
            None if body["cutoff_hours"] is None else _number(body, "cutoff_hours", 0, 24 * 365)
        )
    if "max_submissions" in body:
        out["max_submissions"] = _number(body, "max_submissions", 0, 10_000, whole=True)
    if "window_seconds" in body:
        out["window_seconds"] = _number(body, "window_seconds", 1, 366 * 86400, whole=True)
    if "rubric" in body:
        out["rubric"] = check_rubric(body["rubric"])
    return out


def check_rubric(rubric: Any) -> list[dict[str, Any]]:
    """Return a valid rubric: a list of {name, points} with unique names."""
    if not isinstance(rubric, list) or len(rubric) > 100:
        raise ClassroomError(400, "rubric must be a list of at most 100 {name, points} items")
    items, names = [], set()
    for item in rubric:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ClassroomError(400, "each rubric item is {name, points}")
        if not TEST_NAME.match(item["name"]) or item["name"] in names:
            raise ClassroomError(400, f"rubric item name {item['name']!r} is invalid or repeated")
        names.add(item["name"])
        items.append({"name": item["name"], "points": _number(item, "points", 0, 10_000)})
    return items


def _limits(value: Any, where: str) -> TestLimits:
    if value is None:
        return TestLimits()
    if not isinstance(value, dict) or set(value) - {"cpu_seconds", "memory_kb"}:
        raise ClassroomError(400, f"{where}: limits is {{cpu_seconds, memory_kb}}")
    defaults = TestLimits()
    cpu = _number(value, "cpu_seconds", 0.1, 60) if "cpu_seconds" in value else defaults.cpu_seconds
    memory = (
        _number(value, "memory_kb", 16384, 2097152, whole=True)
        if "memory_kb" in value
        else defaults.memory_kb
    )
    return TestLimits(cpu_seconds=cpu, memory_kb=memory)


def check_tests(tests: Any, files: dict[str, Any]) -> list[TestCase]:
    """Return the stdin and file tests of a create request (notebook tests come from cells)."""
    if tests is None:
        return []
    if not isinstance(tests, list) or len(tests) > 200:
        raise ClassroomError(400, "tests must be a list of at most 200 tests")
    found = []
    for number, test in enumerate(tests):
        where = f"tests[{number}]"
        if not isinstance(test, dict):
            raise ClassroomError(400, f"{where} must be an object")
        kind, name = test.get("kind"), test.get("name")
        if kind not in ("stdin", "file"):
            raise ClassroomError(400, f"{where}: kind must be stdin or file")
        if not isinstance(name, str) or not TEST_NAME.match(name):
            raise ClassroomError(400, f"{where}: name is 1-128 letters, digits, ' _.:-'")
        visibility = test.get("visibility", "visible")
        if visibility not in VISIBILITIES:
            raise ClassroomError(400, f"{where}: visibility is one of {', '.join(VISIBILITIES)}")
        points = _number({"points": test.get("points", 1)}, "points", 0, 10_000)
        texts = {k: test.get(k, "") for k in ("program", "stdin", "expected_output", "path")}
        if any(not isinstance(v, str) or len(v) > 1_000_000 for v in texts.values()):
            raise ClassroomError(400, f"{where}: program, stdin, expected_output, path are text")
        command = test.get("command", [])
        if not isinstance(command, list) or not all(isinstance(c, str) for c in command):
            raise ClassroomError(400, f"{where}: command is a list of strings")
        if kind == "stdin" and not texts["program"]:
            raise ClassroomError(400, f"{where}: a stdin test names its program (a file path)")
        if kind == "file" and texts["path"] not in files:
            raise ClassroomError(400, f"{where}: test file {texts['path']!r} is not in the folder")
        found.append(
            TestCase(
                name=name,
                kind=kind,
                points=points,
                visibility=visibility,
                limits=_limits(test.get("limits"), where),
                command=tuple(command),
                **texts,
            )
        )
    return found


async def deadline_in_force(session: AsyncSession, found: Assignment, user_id: int) -> Any:
    """Return the deadline in force for a student (their extension, else the assignment's)."""
    row = await session.get(AssignmentExtension, (found.id, user_id))
    return row.due_at if row is not None else found.due_at


class AssignmentManager(LoggingConfigurable):
    """Create, change and release a course's assignments; who may do what, per course."""

    max_files = Int(200, help="Most files an assignment (or a submission) may hold.").tag(
        config=True
    )
    max_bytes = Int(
        20 * 1024 * 1024, help="Most bytes an assignment's files (or a submission) may hold."
    ).tag(config=True)

    def __init__(self, db: Database, files: WorkspaceFiles, **kwargs: Any) -> None:
        """Work on ``db`` and users' workspaces through ``files``."""
        super().__init__(**kwargs)
        self.db = db
        self.files = files

    # -- who may do what ---------------------------------------------------------------------

    async def course(self, session: AsyncSession, name: str) -> Course:
        """Return a course or raise 404 (400 for a name no course can have)."""
        try:
            check_name(name)
        except Exception as e:
            raise ClassroomError(400, str(e)) from e
        found = (
            await session.execute(select(Course).where(Course.name == name))
        ).scalar_one_or_none()
        if found is None:
            raise ClassroomError(404, f"No course named {name!r}")
        return found

    async def role_in(self, session: AsyncSession, course: Course, user: str, role: Role) -> str:
        """Return "instructor" or "student" for a member (admins teach every course); 403 else."""
        if role is Role.ADMIN:
            return "instructor"
        member = (
            await session.execute(
                select(CourseMember.role)
                .join(User, User.id == CourseMember.user_id)
                .where(CourseMember.course_id == course.id, User.name == user)
            )
        ).scalar_one_or_none()
        if member is None:
            raise ClassroomError(403, f"You are not a member of {course.name}")
        return str(member)

    async def teaching(self, session: AsyncSession, course: Course, user: str, role: Role) -> None:
        """Raise 403 unless ``user`` teaches ``course`` (or is an admin)."""
        if await self.role_in(session, course, user, role) != "instructor":
            raise ClassroomError(403, f"Only the instructors of {course.name} may do this")

    async def assignment(self, session: AsyncSession, course: Course, name: str) -> Assignment:
        """Return an assignment of the course or raise 404."""
        if not ASSIGNMENT.match(name):
            raise ClassroomError(400, "An assignment name is 1-64 lowercase letters, digits, '.-_'")
        found = (
            await session.execute(
                select(Assignment).where(Assignment.course_id == course.id, Assignment.name == name)
            )
        ).scalar_one_or_none()
        if found is None:
            raise ClassroomError(404, f"No assignment {name!r} in {course.name}")
        return found

    async def open_for(
        self, session: AsyncSession, course_name: str, name: str, user: str, role: Role
    ) -> tuple[Course, Assignment, str]:
        """Return the course, the assignment and the caller's role in it.

        Students reach only released assignments of their courses (404 otherwise).
        """
        course = await self.course(session, course_name)
        member = await self.role_in(session, course, user, role)
        found = await self.assignment(session, course, name)
        if member != "instructor" and found.released_at is None:
            raise ClassroomError(404, f"No assignment {name!r} in {course.name}")
        return course, found, member

    async def students(self, session: AsyncSession, course: Course) -> list[User]:
        """Return the course's students, by name."""
        query = (
            select(User)
            .join(CourseMember, CourseMember.user_id == User.id)
            .where(CourseMember.course_id == course.id, CourseMember.role == "student")
            .order_by(User.name)
        )
        return list((await session.execute(query)).scalars())

    async def user_id(self, session: AsyncSession, name: str) -> int:
        """Return a user's id or raise 404."""
        found = (
            await session.execute(select(User.id).where(User.name == name))
        ).scalar_one_or_none()
        if found is None:
            raise ClassroomError(404, f"No user named {name!r}")
        return int(found)

    # -- creating and changing ----------------------------------------------------------------

    async def _from_folder(
        self, instructor: str, folder: str, body: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any], GradingSpec]:
        """Read the instructor's folder: the student copy, instructor-only files, the spec."""
        found = await self.files.folder(instructor, folder)
        if not found:
            raise ClassroomError(400, f"Your folder {folder!r} holds no files")
        if len(found) > self.max_files or sum(s for _, s in found.values()) > self.max_bytes:
            raise ClassroomError(
                413, f"An assignment holds at most {self.max_files} files, {self.max_bytes} bytes"
            )
        extra = check_tests(body.get("tests"), found)
        test_files = {t.path for t in extra if t.kind == "file"}
        student: dict[str, Any] = {}
        private: dict[str, Any] = {}
        notebook_tests: list[TestCase] = []
        for path, (content_hash, size) in sorted(found.items()):
            if path in test_files:
                private[path] = [content_hash, size]
                continue
            data = await self.files.read(content_hash)
            try:
                prepared = prepare_file(data, path)
            except ReleaseError as e:
                raise ClassroomError(400, str(e)) from e
            if path.endswith(".ipynb"):
                private[path] = [content_hash, size]
            notebook_tests += prepared.tests
            if prepared.student is not None:
                student[path] = list(await self.files.put(prepared.student, instructor))
        tests = notebook_tests + extra
        names = [t.name for t in tests]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ClassroomError(400, f"Test names must be unique: {', '.join(repeated)}")
        for test in tests:
            if test.kind == "stdin" and test.program not in student:
                raise ClassroomError(400, f"Test {test.name!r}: no file {test.program!r} to run")
        spec = GradingSpec(language=str(body.get("language")), tests=tuple(tests))
        return student, private, spec

    def _language(self, value: Any) -> str:
        if value not in LANGUAGE_NAMES:
            raise ClassroomError(400, f"language must be one of {', '.join(LANGUAGE_NAMES)}")
        return str(value)

    async def create(self, course_name: str, body: Any, user: str, role: Role) -> dict[str, Any]:
        """Make an assignment from a folder of the instructor's workspace (not yet released)."""
        if not isinstance(body, dict):
            raise ClassroomError(400, "The body must be a JSON object")
        name, folder = body.get("name"), body.get("folder")
        if not isinstance(name, str) or not ASSIGNMENT.match(name) or name in RESERVED:
            raise ClassroomError(
                400, "name is 1-64 lowercase letters, digits, '.', '_' or '-' (not 'gradebook')"
            )
        if not isinstance(folder, str) or not folder.strip("/") or ".." in folder.split("/"):
            raise ClassroomError(400, "folder is a folder of your workspace, e.g. hw1")
        self._language(body.get("language"))
        policy = check_policy(body)
        async with self.db.session() as session:
            course = await self.course(session, course_name)
            await self.teaching(session, course, user, role)
            exists = (
                await session.execute(
                    select(Assignment.id).where(
                        Assignment.course_id == course.id, Assignment.name == name
                    )
                )
            ).first()
            if exists:
                raise ClassroomError(409, f"{course.name} already has an assignment {name!r}")
        student, private, spec = await self._from_folder(user, folder.strip("/"), body)
        async with self.db.session() as session:
            course = await self.course(session, course_name)
            row = Assignment(
                course_id=course.id,
                name=name,
                title=policy.pop("title", name),
                created_by=user,
                source_folder=folder.strip("/"),
                files=student,
                instructor_files=private,
                spec=spec.to_json(),
                **policy,
            )
            session.add(row)
            await session.flush()
            record(session, "assignment_created", user, course=course.name, assignment=name)
            return self.instructor_view(course, row, [])

    async def update(
        self, course_name: str, name: str, body: Any, user: str, role: Role
    ) -> dict[str, Any]:
        """Change policy fields; ``refresh: true`` re-reads the folder (a new version)."""
        if not isinstance(body, dict):
            raise ClassroomError(400, "The body must be a JSON object")
        unknown = set(body) - set(POLICY_FIELDS) - {"refresh", "tests", "language"}
        if unknown:
            raise ClassroomError(400, f"Unknown fields: {', '.join(sorted(unknown))}")
        policy = check_policy(body)
        async with self.db.session() as session:
            course = await self.course(session, course_name)
            await self.teaching(session, course, user, role)
            found = await self.assignment(session, course, name)
            folder, language = found.source_folder, body.get("language", found.spec["language"])
        rebuilt = None
        if body.get("refresh"):
            self._language(language)
            tests = body.get("tests")
            if tests is None:  # keep the stdin/file tests given at creation
                spec = GradingSpec.from_json(found.spec)
                tests = [_test_json(t) for t in spec.tests if t.kind != "notebook"]
            rebuilt = await self._from_folder(
                found.created_by, folder, {"tests": tests, "language": language}
            )
        async with self.db.session() as session:
            course = await self.course(session, course_name)
            found = await self.assignment(session, course, name)
            moved = any(
                k in policy for k in ("due_at", "late_penalty_percent", "cutoff_hours", "rubric")
            )
            for key, value in policy.items():
                setattr(found, key, value)
            if rebuilt is not None:
                student, private, spec = rebuilt
                if student != found.files:
                    found.version += 1
                found.files, found.instructor_files, found.spec = student, private, spec.to_json()
            record(session, "assignment_changed", user, course=course.name, assignment=name)
            view = self.instructor_view(course, found, await self._extensions(session, found))
        if moved:
            view["rescored"] = await self.rescore(found.id)
        return view

    async def rescore(self, assignment_id: int) -> int:
        """Recompute scores under the deadlines now in force (set by the grading part)."""
        hook = getattr(self, "rescore_hook", None)
        return int(await hook(assignment_id)) if hook is not None else 0

    async def _extensions(self, session: AsyncSession, found: Assignment) -> dict[str, str]:
        rows = (
            await session.execute(
                select(User.name, AssignmentExtension.due_at)
                .join(User, User.id == AssignmentExtension.user_id)
                .where(AssignmentExtension.assignment_id == found.id)
            )
        ).all()
        return {n: due.isoformat() for n, due in rows}

    async def set_extension(
        self, course_name: str, name: str, student: str, body: Any, user: str, role: Role
    ) -> dict[str, Any]:
        """Give a student their own deadline (PUT) and rescore their submissions."""
        if not isinstance(body, dict) or "due_at" not in body:
            raise ClassroomError(400, "Missing field: due_at")
        due = parse_time(body["due_at"], "due_at")
        if due is None:
            raise ClassroomError(400, "due_at must be a time; DELETE removes an extension")
        if not USER_NAME.match(student):
            raise ClassroomError(400, f"{student!r} is not a valid user name")
        async with self.db.session() as session:
            course = await self.course(session, course_name)
            await self.teaching(session, course, user, role)
            found = await self.assignment(session, course, name)
            student_id = await self.user_id(session, student)
            if student_id not in {s.id for s in await self.students(session, course)}:
                raise ClassroomError(404, f"{student!r} is not a student of {course.name}")
            row = await session.get(AssignmentExtension, (found.id, student_id))
            if row is None:
                session.add(
                    AssignmentExtension(
                        assignment_id=found.id, user_id=student_id, due_at=due, granted_by=user
                    )
                )
            else:
                row.due_at, row.granted_by = due, user
            record(
                session,
                "assignment_extension",
                user,
                assignment=name,
                student=student,
                due=iso(due),
            )
            assignment_id = found.id
        return {
            "student": student,
            "due_at": iso(due),
            "rescored": await self.rescore(assignment_id),
        }

    async def drop_extension(
        self, course_name: str, name: str, student: str, user: str, role: Role
    ) -> dict[str, Any]:
        """Remove a student's extension (the assignment's deadline holds again)."""
        async with self.db.session() as session:
            course = await self.course(session, course_name)
            await self.teaching(session, course, user, role)
            found = await self.assignment(session, course, name)
            student_id = await self.user_id(session, student)
            row = await session.get(AssignmentExtension, (found.id, student_id))
            if row is None:
                raise ClassroomError(404, f"{student!r} has no extension for {name}")
            await session.delete(row)
            assignment_id = found.id
        return {"student": student, "rescored": await self.rescore(assignment_id)}

    # -- release ------------------------------------------------------------------------------

    async def release(self, course_name: str, name: str, user: str, role: Role) -> dict[str, Any]:
        """Give every student of the course the current version (edits never overwritten)."""
        async with self.db.session() as session:
            course = await self.course(session, course_name)
            await self.teaching(session, course, user, role)
            found = await self.assignment(session, course, name)
            if found.released_at is None:
                found.released_at = datetime.now(timezone.utc)
            students = [s.name for s in await self.students(session, course)]
            record(session, "assignment_released", user, course=course.name, assignment=name)
        report: dict[str, Any] = {}
        for student in students:
            try:
                report[student] = await self.give(found, course.name, student)
            except web.HTTPError as e:  # one student's full quota must not stop the class
                self.log.warning("Release of %s to %s failed: %s", name, student, e.log_message)
                report[student] = {"error": e.log_message or str(e)}
        return {"version": found.version, "students": report}

    async def fetch(self, course_name: str, name: str, user: str, role: Role) -> dict[str, Any]:
        """Give the calling student the current version of a released assignment."""
        async with self.db.session() as session:
            course, found, _ = await self.open_for(session, course_name, name, user, role)
        return await self.give(found, course.name, user)

    async def give(self, found: Assignment, course: str, student: str) -> dict[str, Any]:
        """Write the released files into one student's workspace.

        A file the student never got, or left as it was given, gets the new version; a file
        they changed is kept, listed in the notice, and the new version stays reachable.
        """
        folder = student_folder(course, found.name)
        async with self.db.session() as session:
            student_id = await self.user_id(session, student)
            copy = await session.get(AssignmentCopy, (found.id, student_id))
            given: dict[str, str] = dict(copy.files) if copy is not None else {}
        paths = [f"{folder}/{p}" for p in found.files]
        current = await self.files.current(student, paths)
        written, kept = [], {}
        for path, (content_hash, size) in found.files.items():
            full = f"{folder}/{path}"
            now, base = current.get(full), given.get(path)
            if now == content_hash:
                given[path] = content_hash
                continue
            if now is None and base is not None:
                continue  # the student deleted it: their choice stands
            if base == content_hash:
                continue  # they had this version (or merged with it): their edits stand
            if now is not None and now != base:
                kept[path] = found.version  # their edits win; the new version is reachable
                continue
            await self.files.write(student, full, content_hash, size, "release")
            given[path] = content_hash
            written.append(path)
        async with self.db.session() as session:
            copy = await session.get(AssignmentCopy, (found.id, student_id))
            if copy is None:
                copy = AssignmentCopy(assignment_id=found.id, user_id=student_id, files={})
                session.add(copy)
            copy.version, copy.files, copy.kept = found.version, given, kept
            copy.released_at = datetime.now(timezone.utc)
        return {"folder": folder, "version": found.version, "written": written, "kept": kept}

    async def starter_file(
        self, course_name: str, name: str, path: str, user: str, role: Role
    ) -> bytes:
        """Return the released version of one starter file (to merge with one's edits)."""
        async with self.db.session() as session:
            _, found, _ = await self.open_for(session, course_name, name, user, role)
        entry = found.files.get(path)
        if entry is None:
            # The path is not echoed: a payload scan for hidden names stays meaningful.
            raise ClassroomError(404, f"{name} has no released file at that path")
        return await self.files.read(entry[0])

    # -- views ----------------------------------------------------------------------------------

    def instructor_view(self, course: Course, found: Assignment, extensions: Any) -> dict[str, Any]:
        """Return everything about an assignment, for its instructors."""
        view = self._common(course, found)
        view.update(
            source_folder=found.source_folder,
            created_by=found.created_by,
            spec=found.spec,
            instructor_files=sorted(found.instructor_files),
            rubric=found.rubric,
            due_at=iso(found.due_at),
            extensions=extensions,
        )
        return view

    def _common(self, course: Course, found: Assignment) -> dict[str, Any]:
        return {
            "course": course.name,
            "name": found.name,
            "title": found.title,
            "language": found.spec.get("language"),
            "folder": student_folder(course.name, found.name),
            "files": sorted(found.files),
            "version": found.version,
            "late_penalty_percent": found.late_penalty_percent,
            "cutoff_hours": found.cutoff_hours,
            "max_submissions": found.max_submissions,
            "window_seconds": found.window_seconds,
            "released_at": iso(found.released_at),
            "feedback_published": found.feedback_published_at is not None,
        }

    def student_view(
        self,
        course: Course,
        found: Assignment,
        deadline: datetime | None,
        copy: AssignmentCopy | None,
    ) -> dict[str, Any]:
        """Return what a student may know: their deadline, the tests they may see, notices."""
        now = datetime.now(timezone.utc)
        published = found.feedback_published_at is not None
        tests = [
            {"name": t["name"], "points": t["points"], "visibility": t["visibility"]}
            for t in found.spec.get("tests", [])
            if shown(t["visibility"], now, deadline, published)
        ]
        view = self._common(course, found)
        view.update(
            due_at=iso(deadline),
            extended=deadline != found.due_at,
            tests=tests,
            fetched_version=copy.version if copy is not None else None,
            notice=(
                {
                    "kept": sorted(copy.kept),
                    "message": "These files were changed by you and kept; compare each with "
                    "the new version and merge them (merge?path=), or keep yours.",
                }
                if copy is not None and copy.kept
                else None
            ),
        )
        return view

    async def deadline_of(self, session: AsyncSession, found: Assignment, user_id: int) -> Any:
        """Return the deadline in force for a student (their extension, else the assignment's)."""
        return await deadline_in_force(session, found, user_id)

    async def listing(self, course_name: str, user: str, role: Role) -> list[dict[str, Any]]:
        """Return the course's assignments (students: released ones, as they see them)."""
        async with self.db.session() as session:
            course = await self.course(session, course_name)
            member = await self.role_in(session, course, user, role)
            rows = (
                await session.execute(
                    select(Assignment)
                    .where(Assignment.course_id == course.id)
                    .order_by(Assignment.created_at, Assignment.id)
                )
            ).scalars()
            if member == "instructor":
                return [self.instructor_view(course, a, None) for a in rows]
            uid = await self.user_id(session, user)
            views = []
            for found in rows:
                if found.released_at is None:
                    continue
                deadline = await self.deadline_of(session, found, uid)
                copy = await session.get(AssignmentCopy, (found.id, uid))
                views.append(self.student_view(course, found, deadline, copy))
            return views

    async def get(self, course_name: str, name: str, user: str, role: Role) -> dict[str, Any]:
        """Return one assignment as the caller may see it."""
        async with self.db.session() as session:
            course, found, member = await self.open_for(session, course_name, name, user, role)
            if member == "instructor":
                return self.instructor_view(course, found, await self._extensions(session, found))
            uid = await self.user_id(session, user)
            deadline = await self.deadline_of(session, found, uid)
            copy = await session.get(AssignmentCopy, (found.id, uid))
            return self.student_view(course, found, deadline, copy)


def _test_json(test: TestCase) -> dict[str, Any]:
    """Return a stdin/file test as the create request gives it."""
    data = replace(test).__dict__.copy()
    data["limits"] = {"cpu_seconds": test.limits.cpu_seconds, "memory_kb": test.limits.memory_kb}
    data["command"] = list(test.command)
    data.pop("source", None)
    return data
