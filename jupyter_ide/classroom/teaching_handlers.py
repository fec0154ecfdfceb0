"""HTTP for live teaching: /ide/api/courses/<course>/help... and .../ai-transcripts."""

from __future__ import annotations

from typing import Any

from tornado import web

from ..auth import requires
from .handlers import COURSE, _ClassroomHandler
from .teaching_setup import TEACHING, Teaching
from .transcripts import FORMATS, as_csv, as_jsonl

HELP = rf"/ide/api/courses/{COURSE}/help"
REQUEST = r"(?P<request>[^/]+)"


class _TeachingHandler(_ClassroomHandler):
    """Shared parts: live teaching's managers."""

    @property
    def teaching(self) -> Teaching:
        """The server's help queue and transcripts."""
        teaching: Teaching | None = self.settings.get(TEACHING)
        if teaching is None:
            raise web.HTTPError(503, "Live teaching is not available on this server")
        return teaching


class HelpQueueHandler(_TeachingHandler):
    """The course's help queue: read (GET), raise a hand (POST), lower it (DELETE)."""

    @web.authenticated
    @requires("teaching:use")
    async def get(self, course: str) -> None:
        """Instructors: the queue in order, with waiting times; students: their own and place."""
        user, role = self.who()
        closed = self.get_query_argument("closed", "") in ("1", "true", "yes")
        self.reply(await self.teaching.help.listing(course, user, role, closed))

    @web.authenticated
    @requires("teaching:use")
    async def post(self, course: str) -> None:
        """Raise a hand {message, path, line}; a second raise updates the open one."""
        user, role = self.who()
        found, created = await self.teaching.help.raise_hand(course, self.body(), user, role)
        self.reply(found, 201 if created else 200)

    @web.authenticated
    @requires("teaching:use")
    async def delete(self, course: str) -> None:
        """Lower the caller's raised hand."""
        user, role = self.who()
        self.reply(await self.teaching.help.withdraw(course, user, role))


class ResolveHandler(_TeachingHandler):
    """POST {note?}: an instructor resolved the request."""

    @web.authenticated
    @requires("teaching:manage")
    async def post(self, course: str, request: str) -> None:
        """Close the request as resolved."""
        user, role = self.who()
        help_queue = self.teaching.help
        self.reply(await help_queue.close(course, request, "resolved", self.body(), user, role))


class ReturnHandler(_TeachingHandler):
    """POST {note}: an instructor returns the request to the student with a note."""

    @web.authenticated
    @requires("teaching:manage")
    async def post(self, course: str, request: str) -> None:
        """Close the request as returned, with the note the student reads."""
        user, role = self.who()
        help_queue = self.teaching.help
        self.reply(await help_queue.close(course, request, "returned", self.body(), user, role))


class HelpFileHandler(_TeachingHandler):
    """GET: the file a request links to, read-only, with its line (instructors)."""

    @web.authenticated
    @requires("teaching:manage")
    async def get(self, course: str, request: str) -> None:
        """Return {student, path, line, content}."""
        user, role = self.who()
        self.reply(await self.teaching.help.student_file(course, request, user, role))


class TranscriptsHandler(_TeachingHandler):
    """GET: the course's AI transcripts as JSON, CSV or JSON Lines (?format=)."""

    @web.authenticated
    @requires("teaching:use")
    async def get(self, course: str) -> None:
        """Instructors: every member's (or ?student=); students: their own."""
        user, role = self.who()
        fmt = self.get_query_argument("format", "json")
        if fmt not in FORMATS:
            raise web.HTTPError(400, f"format is one of {', '.join(FORMATS)}")
        student = self.get_query_argument("student", "")
        limit_text = self.get_query_argument("limit", "500" if fmt == "json" else "50000")
        if not (limit_text.isascii() and limit_text.isdigit()) or len(limit_text) > 6:
            raise web.HTTPError(400, "limit is a whole number")
        found = await self.teaching.transcripts.read(course, user, role, student, int(limit_text))
        items = found["transcripts"]
        if fmt == "json":
            self.reply(found)
            return
        who = f"-{found['student']}" if found["student"] else ""
        name = f"{found['course']}{who}-ai-transcripts.{fmt}"
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        if fmt == "csv":
            self.finish(as_csv(items), set_content_type="text/csv; charset=utf-8")
        else:
            self.finish(as_jsonl(items), set_content_type="application/x-ndjson; charset=utf-8")


default_handlers: list[tuple[str, type[web.RequestHandler], dict[str, Any]]] = [
    (rf"{HELP}/?", HelpQueueHandler, {}),
    (rf"{HELP}/{REQUEST}/resolve", ResolveHandler, {}),
    (rf"{HELP}/{REQUEST}/return", ReturnHandler, {}),
    (rf"{HELP}/{REQUEST}/file", HelpFileHandler, {}),
    (rf"/ide/api/courses/{COURSE}/ai-transcripts", TranscriptsHandler, {}),
]
