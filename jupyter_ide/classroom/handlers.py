"""HTTP for assignments: /ide/api/courses/<course>/assignments/..., thin over the managers."""

from __future__ import annotations

import json
from typing import Any

from tornado import web

from ..auth import requires
from ..server_extension.json_handler import JSONAPIHandler
from . import merge
from .autograde import GradingQueue
from .gradebook import Gradebook
from .manager import AssignmentManager, ClassroomError
from .submissions import Submissions

AUTH_RESOURCE = "ide"
CLASSROOM = "jupyter_ide_classroom"
COURSE = r"(?P<course>[^/]+)"
NAME = r"(?P<name>[^/]+)"
SUBMISSION = r"(?P<submission>[^/]+)"
BASE = rf"/ide/api/courses/{COURSE}/assignments"


class Classroom:
    """The classroom's parts, as handlers reach them from the web app's settings."""

    def __init__(
        self,
        assignments: AssignmentManager,
        submissions: Submissions,
        queue: GradingQueue,
        gradebook: Gradebook,
    ) -> None:
        """Keep the parts."""
        self.assignments = assignments
        self.submissions = submissions
        self.queue = queue
        self.gradebook = gradebook


class _ClassroomHandler(JSONAPIHandler):
    """Shared parts: the caller, the JSON body, the classroom."""

    auth_resource = AUTH_RESOURCE

    @property
    def classroom(self) -> Classroom:
        """The server's classroom."""
        classroom: Classroom | None = self.settings.get(CLASSROOM)
        if classroom is None:
            raise web.HTTPError(503, "Assignments are not available on this server")
        return classroom

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Add a refusal's headers (Retry-After) to Jupyter's JSON error."""
        exc_info = kwargs.get("exc_info")
        error = exc_info[1] if exc_info else None
        if isinstance(error, ClassroomError):
            for header, value in error.headers.items():
                self.set_header(header, value)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"message": error.message, "reason": None}))
            return
        super().write_error(status_code, **kwargs)


class AssignmentsHandler(_ClassroomHandler):
    """The course's assignments: list (GET), create from a folder (POST)."""

    @web.authenticated
    @requires("assignments:use")
    async def get(self, course: str) -> None:
        """List the assignments the caller may see."""
        user, role = self.who()
        self.reply({"assignments": await self.classroom.assignments.listing(course, user, role)})

    @web.authenticated
    @requires("assignments:manage")
    async def post(self, course: str) -> None:
        """Create an assignment from a folder of the instructor's workspace."""
        user, role = self.who()
        self.reply(await self.classroom.assignments.create(course, self.body(), user, role), 201)


class AssignmentHandler(_ClassroomHandler):
    """One assignment: read (as the caller may see it), change its policy or files."""

    @web.authenticated
    @requires("assignments:use")
    async def get(self, course: str, name: str) -> None:
        """Return the assignment as the caller may see it."""
        user, role = self.who()
        self.reply(await self.classroom.assignments.get(course, name, user, role))

    @web.authenticated
    @requires("assignments:manage")
    async def patch(self, course: str, name: str) -> None:
        """Change the deadline, late policy, limits, rubric; refresh the files."""
        user, role = self.who()
        self.reply(await self.classroom.assignments.update(course, name, self.body(), user, role))


class ReleaseHandler(_ClassroomHandler):
    """POST: give every student the current version."""

    @web.authenticated
    @requires("assignments:manage")
    async def post(self, course: str, name: str) -> None:
        """Release the assignment to the course's students."""
        user, role = self.who()
        self.reply(await self.classroom.assignments.release(course, name, user, role))


class FetchHandler(_ClassroomHandler):
    """POST: the calling student gets (or updates) their copy."""

    @web.authenticated
    @requires("assignments:use")
    async def post(self, course: str, name: str) -> None:
        """Write the released version into the caller's workspace."""
        user, role = self.who()
        self.reply(await self.classroom.assignments.fetch(course, name, user, role))


class StarterHandler(_ClassroomHandler):
    """GET ?path=: the released version of a starter file (to merge with one's edits)."""

    @web.authenticated
    @requires("assignments:use")
    async def get(self, course: str, name: str) -> None:
        """Return the file's bytes."""
        user, role = self.who()
        path = self.get_query_argument("path", "")
        data = await self.classroom.assignments.starter_file(course, name, path, user, role)
        self.finish(data, set_content_type="application/octet-stream")


class MergeHandler(_ClassroomHandler):
    """A re-released starter file the caller had changed: its versions (GET), settled (POST).

    GET ?path= gives base, theirs and new; POST {path, choice, content?, theirs_hash?} keeps
    theirs, takes the new one or saves the merged text.
    """

    @web.authenticated
    @requires("assignments:use")
    async def get(self, course: str, name: str) -> None:
        """Return the base, the caller's and the new version of a kept file."""
        user, role = self.who()
        path = self.get_query_argument("path", "")
        manager = self.classroom.assignments
        self.reply(await merge.merge_view(manager, course, name, path, user, role))

    @web.authenticated
    @requires("assignments:use")
    async def post(self, course: str, name: str) -> None:
        """Settle a kept file; it leaves the notice."""
        user, role = self.who()
        manager = self.classroom.assignments
        self.reply(await merge.resolve(manager, course, name, self.body(), user, role))


class ExtensionHandler(_ClassroomHandler):
    """A student's own deadline: PUT {due_at}, DELETE."""

    @web.authenticated
    @requires("assignments:manage")
    async def put(self, course: str, name: str, student: str) -> None:
        """Set the student's deadline; their scores are recomputed."""
        user, role = self.who()
        manager = self.classroom.assignments
        self.reply(await manager.set_extension(course, name, student, self.body(), user, role))

    @web.authenticated
    @requires("assignments:manage")
    async def delete(self, course: str, name: str, student: str) -> None:
        """Remove the student's extension."""
        user, role = self.who()
        self.reply(
            await self.classroom.assignments.drop_extension(course, name, student, user, role)
        )


class SubmissionsHandler(_ClassroomHandler):
    """Submissions: list (own, or everyone's for instructors), submit (POST)."""

    @web.authenticated
    @requires("assignments:use")
    async def get(self, course: str, name: str) -> None:
        """List submissions, newest first (?student= for instructors)."""
        user, role = self.who()
        student = self.get_query_argument("student", "")
        found = await self.classroom.submissions.listing(course, name, user, role, student)
        self.reply({"submissions": found})

    @web.authenticated
    @requires("assignments:use")
    async def post(self, course: str, name: str) -> None:
        """Submit the caller's copy as it is now."""
        user, role = self.who()
        self.reply(await self.classroom.submissions.submit(course, name, user, role), 201)


class SubmissionHandler(_ClassroomHandler):
    """One submission, as the caller may see it."""

    @web.authenticated
    @requires("assignments:use")
    async def get(self, course: str, name: str, submission: str) -> None:
        """Return the submission (students: their own, results as visibility allows)."""
        user, role = self.who()
        self.reply(await self.classroom.submissions.get(course, name, submission, user, role))


class SubmissionFileHandler(_ClassroomHandler):
    """GET ?path=: one submitted file."""

    @web.authenticated
    @requires("assignments:use")
    async def get(self, course: str, name: str, submission: str) -> None:
        """Return the file's bytes."""
        user, role = self.who()
        path = self.get_query_argument("path", "")
        data = await self.classroom.submissions.file(course, name, submission, path, user, role)
        self.finish(data, set_content_type="application/octet-stream")


class ReopenHandler(_ClassroomHandler):
    """POST: put one's own submission back into one's copy."""

    @web.authenticated
    @requires("assignments:use")
    async def post(self, course: str, name: str, submission: str) -> None:
        """Restore the submission's files into the caller's workspace."""
        user, role = self.who()
        self.reply(await self.classroom.submissions.reopen(course, name, submission, user, role))


class RegradeHandler(_ClassroomHandler):
    """POST: grade a submission (or "all") again; manual points stay."""

    @web.authenticated
    @requires("assignments:manage")
    async def post(self, course: str, name: str, submission: str) -> None:
        """Queue the regrade."""
        user, role = self.who()
        self.reply(await self.classroom.queue.regrade(course, name, submission, user, role), 202)


class ManualGradeHandler(_ClassroomHandler):
    """PUT {points, comments}: manual points per rubric item or test, line comments."""

    @web.authenticated
    @requires("assignments:manage")
    async def put(self, course: str, name: str, submission: str) -> None:
        """Store the manual grade; the score is recomputed."""
        user, role = self.who()
        subs = self.classroom.submissions
        self.reply(await subs.set_manual(course, name, submission, self.body(), user, role))


class ResultsJSONHandler(_ClassroomHandler):
    """GET: the submission's grade as Gradescope's results.json."""

    @web.authenticated
    @requires("assignments:manage")
    async def get(self, course: str, name: str, submission: str) -> None:
        """Return results.json."""
        user, role = self.who()
        subs = self.classroom.submissions
        self.reply(await subs.results_json(course, name, submission, user, role))


class FeedbackHandler(_ClassroomHandler):
    """PUT {published}: release or withdraw an assignment's feedback."""

    @web.authenticated
    @requires("assignments:manage")
    async def put(self, course: str, name: str) -> None:
        """Set whether students see feedback."""
        user, role = self.who()
        body = self.body()
        published = body.get("published") if isinstance(body, dict) else None
        self.reply(await self.classroom.gradebook.publish(course, name, published, user, role))


class GradebookHandler(_ClassroomHandler):
    """GET: the course's gradebook as JSON, or CSV with ?format=csv."""

    @web.authenticated
    @requires("assignments:manage")
    async def get(self, course: str) -> None:
        """Return the gradebook."""
        from .export import gradebook_csv

        user, role = self.who()
        table = await self.classroom.gradebook.table(course, user, role)
        fmt = self.get_query_argument("format", "json")
        if fmt == "csv":
            self.set_header("Content-Disposition", f'attachment; filename="{course}-grades.csv"')
            csv_text = gradebook_csv(table["assignments"], table["students"])
            self.finish(csv_text, set_content_type="text/csv; charset=utf-8")
        elif fmt == "json":
            self.reply(table)
        else:
            raise web.HTTPError(400, "format is json or csv")


ONE = rf"{BASE}/{NAME}"
SUB = rf"{ONE}/submissions/{SUBMISSION}"
default_handlers: list[tuple[str, type[web.RequestHandler], dict[str, Any]]] = [
    (rf"{BASE}/gradebook", GradebookHandler, {}),
    (rf"{BASE}/?", AssignmentsHandler, {}),
    (rf"{ONE}/?", AssignmentHandler, {}),
    (rf"{ONE}/release", ReleaseHandler, {}),
    (rf"{ONE}/fetch", FetchHandler, {}),
    (rf"{ONE}/starter", StarterHandler, {}),
    (rf"{ONE}/merge", MergeHandler, {}),
    (rf"{ONE}/feedback", FeedbackHandler, {}),
    (rf"{ONE}/extensions/(?P<student>[^/]+)", ExtensionHandler, {}),
    (rf"{ONE}/submissions/?", SubmissionsHandler, {}),
    (rf"{SUB}/?", SubmissionHandler, {}),
    (rf"{SUB}/file", SubmissionFileHandler, {}),
    (rf"{SUB}/reopen", ReopenHandler, {}),
    (rf"{SUB}/regrade", RegradeHandler, {}),
    (rf"{SUB}/grade", ManualGradeHandler, {}),
    (rf"{SUB}/results.json", ResultsJSONHandler, {}),
]
