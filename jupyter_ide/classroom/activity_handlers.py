"""HTTP for the activity timeline, replay and lab dashboard (thin over the managers)."""

from __future__ import annotations

import time
from typing import Any

from tornado import web

from ..auth import requires
from .activity_setup import ACTIVITY, Activity
from .handlers import COURSE, _ClassroomHandler

COURSE_HEADER = "X-IDE-Course"
MAX_BODY = 4 * 1024 * 1024  # a paste report of max_paste characters fits


class _ActivityHandler(_ClassroomHandler):
    """Shared parts: the activity managers, the course a report names."""

    retry_after = 0  # seconds until a refused reporter may report again

    @property
    def activity(self) -> Activity:
        """The server's activity recorder, reader and dashboard."""
        activity: Activity | None = self.settings.get(ACTIVITY)
        if activity is None:
            raise web.HTTPError(503, "The activity timeline is not available on this server")
        return activity

    def header_course(self) -> str | None:
        """Return the course the request is made in (X-IDE-Course), if named."""
        return self.request.headers.get(COURSE_HEADER, "").strip() or None

    async def admit(self, user: str) -> None:
        """Count one report of ``user`` this minute; 429 past the per-user limit."""
        limit = self.activity.reports_per_minute
        cache = self.settings.get("jupyter_ide_cache")
        if cache is None:
            return
        minute = int(time.time() // 60)
        admitted, _ = await cache.incr_if_below(f"activity:reports:{user}:{minute}", 1, limit, 120)
        if not admitted:
            self.retry_after = 60 - int(time.time()) % 60
            raise web.HTTPError(
                429,
                f"Too many activity reports: at most {limit} a minute per user; "
                "try again in a minute",
            )

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Answer as the API does; a 429 says when the next minute starts (Retry-After)."""
        if status_code == 429 and self.retry_after:
            self.set_header("Retry-After", str(self.retry_after))
        super().write_error(status_code, **kwargs)

    def small_body(self) -> Any:
        """Return the parsed body, refusing oversized ones before parsing (413)."""
        if len(self.request.body or b"") > MAX_BODY:
            raise web.HTTPError(413, f"A report is at most {MAX_BODY} bytes")
        return self.body()


class EventsHandler(_ActivityHandler):
    """POST {kind: edit|paste|run, path, ...}: what /ide reports of the caller's work."""

    @web.authenticated
    @requires("teaching:use")
    async def post(self) -> None:
        """Record an edit burst, a paste (its source found here) or a run's file."""
        user, role = self.who()
        await self.admit(user)
        body = self.small_body()
        found = await self.activity.recorder.report(body, self.header_course(), user, role)
        self.reply(found, 201 if found["recorded"] == "paste" else 200)


class PresenceHandler(_ActivityHandler):
    """POST {course, path}: the caller is in /ide, with this file open."""

    @web.authenticated
    @requires("teaching:use")
    async def post(self) -> None:
        """Mark the caller online in the course."""
        user, role = self.who()
        await self.admit(user)
        await self.activity.recorder.presence(self.small_body(), self.header_course(), user, role)
        self.set_status(204)
        self.finish()


class TimelineHandler(_ActivityHandler):
    """GET ?student=&path=&limit=: a student's activity in the course, oldest first.

    The answer carries an ETag; asked again with If-None-Match, an unchanged timeline is a
    304 that cost one query, so a page may poll it for live updates.
    """

    @web.authenticated
    @requires("teaching:use")
    async def get(self, course: str) -> None:
        """Instructors: any student's; students: their own."""
        user, role = self.who()
        await self.activity.recorder.flush()
        student = self.get_query_argument("student", "")
        tag = f'"{await self.activity.reader.stamp(course, user, role, student)}"'
        self.set_header("ETag", tag)
        asked = self.request.headers.get("If-None-Match", "")
        if tag in (t.strip().removeprefix("W/") for t in asked.split(",")):
            self.set_status(304)
            self.finish()
            return
        self.reply(
            await self.activity.reader.timeline(
                course,
                user,
                role,
                self.get_query_argument("student", ""),
                self.get_query_argument("path", ""),
                self.get_query_argument("limit", "1000"),
            )
        )


class VersionsHandler(_ActivityHandler):
    """GET ?student=&path=: the saved versions of a file, to replay (?hash=: one's text)."""

    @web.authenticated
    @requires("teaching:use")
    async def get(self, course: str) -> None:
        """Return the versions, or with ?hash= that version's text."""
        user, role = self.who()
        reader = self.activity.reader
        student = self.get_query_argument("student", "")
        path = self.get_query_argument("path", "")
        content_hash = self.get_query_argument("hash", "")
        if not content_hash:
            self.reply(await reader.versions(course, user, role, student, path))
            return
        text = await reader.version_text(course, user, role, student, path, content_hash)
        self.reply({"path": path, "hash": content_hash, "content": text})


class DashboardHandler(_ActivityHandler):
    """GET ?assignment=: the course's lab dashboard (instructors)."""

    @web.authenticated
    @requires("teaching:manage")
    async def get(self, course: str) -> None:
        """Return each student's figures; the page polls this every few seconds."""
        user, role = self.who()
        await self.activity.recorder.flush()
        assignment = self.get_query_argument("assignment", "")
        self.reply(await self.activity.dashboard.figures(course, user, role, assignment))


default_handlers: list[tuple[str, type[web.RequestHandler], dict[str, Any]]] = [
    (r"/ide/api/activity/events", EventsHandler, {}),
    (r"/ide/api/activity/presence", PresenceHandler, {}),
    (rf"/ide/api/courses/{COURSE}/activity", TimelineHandler, {}),
    (rf"/ide/api/courses/{COURSE}/activity/versions", VersionsHandler, {}),
    (rf"/ide/api/courses/{COURSE}/dashboard", DashboardHandler, {}),
]
