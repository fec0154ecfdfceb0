"""HTTP for the judge: Judge0 CE's API under /ide/api/judge (logic lives in the manager)."""

from __future__ import annotations

import json
import math
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

from ...auth import requires
from ...auth.decorators import holds
from ...auth.permissions import is_allowed
from .manager import JudgeManager, JudgeUnavailable, RateLimited
from .queue import QueueFull
from .statuses import all_statuses
from .store import NotInCourse
from .submission import UTF8_ERROR, FieldsError, NotUTF8, Submission, parse_fields

PREFIX = r"/ide/api/judge"
MAX_PER_PAGE = 100


class JudgeError(web.HTTPError):
    """An HTTP error whose JSON body is given as is (Judge0's shapes)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """Answer ``status`` with ``body``."""
        message = body.get("error") if isinstance(body, dict) else None
        super().__init__(status, "%s", str(message or body))
        self.body = body
        self.headers = headers or {}


def _error(status: int, message: str, **headers: str) -> JudgeError:
    return JudgeError(status, {"error": message, "message": message}, headers)


class _JudgeHandler(APIHandler):
    """Shared parts: the manager, the caller's name, query flags, Judge0-shaped errors."""

    auth_resource = "ide"

    @property
    def judge(self) -> JudgeManager:
        """The server's judge."""
        manager: JudgeManager | None = self.settings.get("jupyter_ide_judge")
        if manager is None:
            raise _error(503, "The judge is not running on this server")
        return manager

    def user_name(self) -> str:
        """Return the caller's stable name."""
        return str(self.settings["jupyter_ide_roles"].name_of(self.current_user))

    def flag(self, name: str) -> bool:
        """Read a true/false query argument (Judge0 accepts true/false, 1/0)."""
        value = self.get_query_argument(name, "false").strip().lower()
        if value in ("true", "1", "yes"):
            return True
        if value in ("false", "0", "no", ""):
            return False
        raise _error(400, f"{name} must be true or false, not {value!r}")

    def fields(self) -> tuple[str, ...]:
        """Return the attributes the caller asked for."""
        try:
            return parse_fields(self.get_query_argument("fields", None))
        except FieldsError as e:
            raise _error(400, str(e)) from e

    def body(self) -> Any:
        """Return the JSON body, refusing one that is too large or not JSON."""
        limit = self.judge.settings.max_request_bytes
        if len(self.request.body or b"") > limit:
            raise _error(413, f"The request body is larger than {limit} bytes")
        try:
            return json.loads(self.request.body or b"")
        except ValueError as e:
            raise _error(400, f"The body is not valid JSON: {e}") from e

    async def checked(self, awaitable: Any) -> Any:
        """Await a manager call, turning its refusals into HTTP answers."""
        try:
            return await awaitable
        except QueueFull as e:
            retry = str(self.judge.settings.retry_after)
            raise _error(503, "queue is full", **{"Retry-After": retry}) from e
        except RateLimited as e:
            raise _error(429, str(e), **{"Retry-After": str(e.retry_after)}) from e
        except JudgeUnavailable as e:
            raise _error(503, str(e)) from e

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Answer with Judge0's body for our errors, else ``{"error", "message"}``."""
        exc_info = kwargs.get("exc_info")
        error = exc_info[1] if exc_info else None
        if isinstance(error, JudgeError):
            for name, value in error.headers.items():
                self.set_header(name, value)
            body = error.body
        else:
            message = (
                error.log_message
                if isinstance(error, web.HTTPError) and error.log_message
                else self._reason
            )
            body = {"error": message, "message": message}
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    async def course_id(self) -> int | None:
        """Return the course a submission is made in: X-IDE-Course, else the only one."""
        asked = self.request.headers.get("X-IDE-Course", "").strip() or None
        admin = is_allowed(
            self.settings["jupyter_ide_roles"].role_of(self.current_user), "judge:submissions:all"
        )
        try:
            return await self.judge.store.course_for(self.user_name(), asked, admin)
        except NotInCourse as e:
            raise _error(403, str(e)) from e

    async def tag(self, results: list[Any], course_id: int | None) -> None:
        """Record the course of the submissions created."""
        if course_id is not None:
            tokens = [r.token for r in results if isinstance(r, Submission)]
            await self.judge.store.tag(tokens, course_id)

    def render_submission(
        self, sub: Submission, fields: tuple[str, ...], base64_encoded: bool
    ) -> Any:
        """Return a submission's JSON, or raise Judge0's 400 for text that is not UTF-8."""
        try:
            return sub.as_json(fields, base64_encoded)
        except NotUTF8 as e:
            raise _error(400, UTF8_ERROR) from e


class SubmissionsHandler(_JudgeHandler):
    """POST /submissions (create, optionally wait) and GET /submissions (list)."""

    @web.authenticated
    @requires("judge:submit")
    async def post(self) -> None:
        """Create a submission; with wait=true, answer with its result."""
        b64, wait = self.flag("base64_encoded"), self.flag("wait")
        fields = self.fields()
        if wait and not self.judge.settings.enable_wait_result:
            raise _error(400, "wait not allowed")
        body = self.body()
        course_id = await self.course_id()
        (result,) = await self.checked(self.judge.submit(self.user_name(), [body], b64))
        if not isinstance(result, Submission):
            raise JudgeError(422, result)
        await self.tag([result], course_id)
        self.set_status(201)
        if not wait:
            self.finish(json.dumps({"token": result.token}))
            return
        result = await self.judge.wait(result.token) or result  # as recorded, by any process
        try:
            reply = result.as_json(fields, b64)
        except NotUTF8:
            reply = {"token": result.token, "error": UTF8_ERROR}
        self.finish(json.dumps(reply))

    @web.authenticated
    @requires("judge:submit")
    async def get(self) -> None:
        """List submissions, newest first: one's own, or (instructors, admins) others'."""
        b64, fields = self.flag("base64_encoded"), self.fields()
        try:
            page = max(1, int(self.get_query_argument("page", "1")))
            per_page = min(MAX_PER_PAGE, max(1, int(self.get_query_argument("per_page", "20"))))
        except ValueError as e:
            raise _error(400, "page and per_page must be whole numbers") from e
        users, courses = await self._visible(self.get_query_argument("user", "").strip())
        subs, total = await self.judge.store.page(users, page, per_page, courses)
        pages = max(1, math.ceil(total / per_page))
        rendered = []
        for sub in subs:
            try:
                entry = sub.as_json(fields, b64)
            except NotUTF8:
                entry = {"token": sub.token, "error": UTF8_ERROR}
            entry.setdefault("user", sub.user)
            rendered.append(entry)
        meta = {
            "current_page": page,
            "next_page": page + 1 if page < pages else None,
            "prev_page": page - 1 if page > 1 else None,
            "total_pages": pages,
            "total_count": total,
        }
        self.finish(json.dumps({"submissions": rendered, "meta": meta}))

    async def _visible(self, asked: str) -> tuple[list[str] | None, list[int] | None]:
        """Return whose submissions the caller may list, made in which courses (None: all)."""
        me = self.user_name()
        if not asked or asked == me:
            return [me], None
        role = self.settings["jupyter_ide_roles"].role_of(self.current_user)
        if is_allowed(role, "judge:submissions:all"):
            return (None if asked == "*" else [asked]), None
        if await holds(self, "judge:submissions:course"):
            # An instructor sees the submissions made in the courses they teach, no others.
            students = await self.judge.store.students_of(me)
            taught = await self.judge.store.courses_taught(me)
            if asked == "*":
                return students, taught
            if asked in students:
                return [asked], taught
        raise _error(403, f"You may not read the submissions of {asked}")


class SubmissionHandler(_JudgeHandler):
    """GET /submissions/{token}."""

    @web.authenticated
    @requires("judge:submit")
    async def get(self, token: str) -> None:
        """Return one of the caller's submissions (another user's token: 404)."""
        b64, fields = self.flag("base64_encoded"), self.fields()
        found = await self.judge.get([token], self.user_name())
        sub = found.get(token)
        if sub is None:
            raise _error(404, f"No submission with token {token}")
        self.finish(json.dumps(self.render_submission(sub, fields, b64)))


class BatchHandler(_JudgeHandler):
    """POST and GET /submissions/batch."""

    @web.authenticated
    @requires("judge:submit")
    async def post(self) -> None:
        """Create several submissions; each answers its token or its errors."""
        b64 = self.flag("base64_encoded")
        body = self.body()
        items = body.get("submissions") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise JudgeError(422, {"submissions": ["must be a non-empty list"]})
        limit = self.judge.settings.max_submission_batch_size
        if len(items) > limit:
            raise JudgeError(
                422,
                {"submissions": [f"number of submissions in a batch must be at most {limit}"]},
            )
        course_id = await self.course_id()
        results = await self.checked(self.judge.submit(self.user_name(), items, b64))
        await self.tag(results, course_id)
        self.set_status(201)
        self.finish(
            json.dumps([{"token": r.token} if isinstance(r, Submission) else r for r in results])
        )

    @web.authenticated
    @requires("judge:submit")
    async def get(self) -> None:
        """Return several of the caller's submissions (unknown or others' tokens: null)."""
        b64, fields = self.flag("base64_encoded"), self.fields()
        raw = self.get_query_argument("tokens", "")
        tokens = [t.strip() for t in raw.split(",") if t.strip()]
        if not tokens:
            raise _error(400, "tokens is required (comma-separated)")
        if len(tokens) > self.judge.settings.max_submission_batch_size * 5:
            raise _error(400, "too many tokens in one request")
        found = await self.judge.get(tokens, self.user_name())
        reply = [
            self.render_submission(found[t], fields, b64) if t in found else None for t in tokens
        ]
        self.finish(json.dumps({"submissions": reply}))


class LanguagesHandler(_JudgeHandler):
    """GET /languages."""

    @web.authenticated
    @requires("judge:read")
    async def get(self) -> None:
        """List the languages (Judge0 CE ids)."""
        judge = self.judge
        await judge.versions_known()
        self.finish(
            json.dumps([judge.describe_language(lang, False) for lang in judge.languages()])
        )


class LanguageHandler(_JudgeHandler):
    """GET /languages/{id}."""

    @web.authenticated
    @requires("judge:read")
    async def get(self, language_id: str) -> None:
        """Describe one language: source file, compile and run commands."""
        await self.judge.versions_known()
        language = self.judge.language(int(language_id)) if language_id.isdigit() else None
        if language is None:
            raise _error(404, f"No language with id {language_id}")
        self.finish(json.dumps(self.judge.describe_language(language, True)))


class StatusesHandler(_JudgeHandler):
    """GET /statuses."""

    @web.authenticated
    @requires("judge:read")
    async def get(self) -> None:
        """List the statuses."""
        self.finish(json.dumps(all_statuses()))


class AboutHandler(_JudgeHandler):
    """GET /about."""

    @web.authenticated
    @requires("judge:read")
    async def get(self) -> None:
        """Say what this server is."""
        self.finish(json.dumps(self.judge.about()))


class ConfigInfoHandler(_JudgeHandler):
    """GET /config_info."""

    @web.authenticated
    @requires("judge:read")
    async def get(self) -> None:
        """Return the defaults and maxima of the configuration variables."""
        self.finish(json.dumps(self.judge.settings.config_info()))


default_handlers: list[tuple[str, type[web.RequestHandler], dict[str, Any]]] = [
    (rf"{PREFIX}/submissions/?", SubmissionsHandler, {}),
    (rf"{PREFIX}/submissions/batch/?", BatchHandler, {}),
    (rf"{PREFIX}/submissions/([^/]+)/?", SubmissionHandler, {}),
    (rf"{PREFIX}/languages/?", LanguagesHandler, {}),
    (rf"{PREFIX}/languages/([^/]+)/?", LanguageHandler, {}),
    (rf"{PREFIX}/statuses/?", StatusesHandler, {}),
    (rf"{PREFIX}/about/?", AboutHandler, {}),
    (rf"{PREFIX}/config_info/?", ConfigInfoHandler, {}),
]
