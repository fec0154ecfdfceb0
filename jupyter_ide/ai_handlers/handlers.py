"""HTTP for the AI proxy: OpenAI's chat completions and models, keys, policy and usage."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from datetime import date, datetime, timedelta, timezone
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.iostream import StreamClosedError

from ..auth import requires
from .crypto import SecretsUnavailable
from .errors import AIError
from .keys import KeyError_, KeyStore
from .proxy import AIProxy, Call, Caller
from .usage import UsageQuery

AUTH_RESOURCE = "ide"
COURSE_HEADER = "X-IDE-Course"


class AIHTTPError(web.HTTPError):
    """An HTTP error that carries the AI error's code and details to the JSON body."""

    def __init__(self, error: AIError) -> None:
        """Wrap ``error``."""
        super().__init__(error.status, "%s", str(error))
        self.error = error


class _AIHandler(APIHandler):
    """Shared parts: the caller, the proxy and errors in both Jupyter's and OpenAI's shape."""

    auth_resource = AUTH_RESOURCE

    @property
    def proxy(self) -> AIProxy:
        """The server's AI proxy."""
        proxy: AIProxy = self.settings["jupyter_ide_ai"]
        return proxy

    def caller(self) -> Caller:
        """Return who calls, their role and the course they name (header or query)."""
        roles = self.settings["jupyter_ide_roles"]
        course = self.request.headers.get(COURSE_HEADER) or self.get_query_argument("course", "")
        return Caller(
            str(roles.name_of(self.current_user)),
            roles.role_of(self.current_user),
            course.strip() or None,
        )

    def body(self, default: bytes = b"") -> Any:
        """Return the parsed JSON body, or raise 400."""
        try:
            return json.loads(self.request.body or default)
        except ValueError as e:
            raise web.HTTPError(400, f"The body is not valid JSON: {e}") from e

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Answer errors as Jupyter does ({"message"}) and as OpenAI does ({"error"})."""
        exc_info = kwargs.get("exc_info")
        error = exc_info[1] if exc_info else None
        message = (
            error.log_message
            if isinstance(error, web.HTTPError) and error.log_message
            else self._reason
        )
        if isinstance(error, AIHTTPError):
            message = str(error.error)
            for name, value in error.error.headers.items():
                self.set_header(name, value)
        reply: dict[str, Any] = {"message": message, "reason": None}
        ai = error.error if isinstance(error, AIHTTPError) else None
        reply["error"] = {
            "message": message,
            "type": ai.kind if ai else "invalid_request_error",
            "code": ai.code if ai else None,
        }
        if ai:
            reply.update(ai.extra)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(reply))


class ChatCompletionsHandler(_AIHandler):
    """POST /v1/chat/completions, streaming as server-sent events when asked."""

    _client_left = False

    @web.authenticated
    @requires("ai:use")
    async def post(self) -> None:
        """Answer a chat completion request as OpenAI's API does."""
        body = self.body()
        try:
            call = await self.proxy.begin(self.caller(), body)
            for name, value in call.headers.items():
                self.set_header(name, value)
            if body.get("stream"):
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                await self._stream(call, include_usage)
            else:
                self.finish(json.dumps(await self.proxy.complete(call)))
        except AIError as e:
            raise AIHTTPError(e) from None

    def on_connection_close(self) -> None:
        """Note that the client left, so the stream stops at its next chunk."""
        self._client_left = True
        super().on_connection_close()

    async def _stream(self, call: Call, include_usage: bool) -> None:
        """Relay chunks as `data:` events, then `data: [DONE]`."""
        chunks: AsyncGenerator[dict[str, Any], None] = self.proxy.stream(call)
        started = False
        try:
            async for chunk in chunks:
                if self._client_left:
                    raise StreamClosedError()
                if not started:
                    self.set_header("Content-Type", "text/event-stream")
                    self.set_header("Cache-Control", "no-cache")
                    started = True
                if chunk.get("usage") and not chunk.get("choices") and not include_usage:
                    continue
                self.write(f"data: {json.dumps(chunk)}\n\n")
                await self.flush()
            self.write("data: [DONE]\n\n")
            self.finish()
        except StreamClosedError:
            self.log.info("AI stream: the client left; the upstream request is cancelled")
        except AIError as e:
            if not started:
                raise
            error = {"message": str(e), "type": e.kind, "code": e.code}
            self.write(f"data: {json.dumps({'error': error})}\n\n")
            self.finish()
        finally:
            await chunks.aclose()


class ModelsHandler(_AIHandler):
    """GET /v1/models."""

    @web.authenticated
    @requires("ai:use")
    async def get(self) -> None:
        """List the models the caller may use now."""
        caller = self.caller()
        try:
            state = await self.proxy.policies.effective(caller.name, caller.role, caller.course)
        except AIError as e:
            raise AIHTTPError(e) from None
        self.finish(json.dumps({"object": "list", "data": await self.proxy.models(state)}))


class KeysHandler(_AIHandler):
    """The providers the caller has stored a key for."""

    @web.authenticated
    @requires("ai:keys")
    async def get(self) -> None:
        """List providers with a stored key (never the keys)."""
        keys: KeyStore = self.proxy.keys
        self.finish(json.dumps({"keys": await keys.providers(self.caller().name)}))


class KeyHandler(_AIHandler):
    """Store or remove the caller's key for one provider."""

    @web.authenticated
    @requires("ai:keys")
    async def put(self, provider: str) -> None:
        """Store {"api_key": "…"} encrypted; answer without it."""
        body = self.body(b"{}")
        api_key = body.get("api_key") if isinstance(body, dict) else None
        try:
            await self.proxy.keys.put(self.caller().name, provider, api_key)
        except KeyError_ as e:
            raise web.HTTPError(400, str(e)) from e
        except SecretsUnavailable as e:
            raise web.HTTPError(409, str(e)) from e
        self.finish(json.dumps({"provider": provider, "stored": True}))

    @web.authenticated
    @requires("ai:keys")
    async def delete(self, provider: str) -> None:
        """Forget the caller's key for a provider."""
        if not await self.proxy.keys.remove(self.caller().name, provider):
            raise web.HTTPError(404, f"No {provider} key is stored for you")
        self.set_status(204)
        self.finish()


class KeyRotationHandler(_AIHandler):
    """Re-encrypt every stored key with the first key of JUPYTER_IDE_CRYPT_KEY."""

    @web.authenticated
    @requires("ai:keys:rotate")
    async def post(self) -> None:
        """Rotate all stored keys; answer how many."""
        try:
            count = await self.proxy.keys.rotate_all()
        except SecretsUnavailable as e:
            raise web.HTTPError(409, str(e)) from e
        self.log.info("Re-encrypted %d stored provider keys", count)
        self.finish(json.dumps({"rotated": count}))


class PolicyHandler(_AIHandler):
    """GET /policy: the caller's effective AI state (for the banner)."""

    @web.authenticated
    @requires("ai:policy:read")
    async def get(self) -> None:
        """Return mode, until, reason, course and the models usable now."""
        caller = self.caller()
        try:
            state = await self.proxy.policies.effective(caller.name, caller.role, caller.course)
        except AIError as e:
            raise AIHTTPError(e) from None
        self.finish(json.dumps(state.as_json(await self.proxy.usable_models(state))))


class CoursePolicyHandler(_AIHandler):
    """A course's stored policy, for its instructors and admins."""

    @web.authenticated
    @requires("ai:policy:manage")
    async def get(self, course: str) -> None:
        """Return the course's policy and exam windows."""
        caller = self.caller()
        try:
            await self.proxy.policies.may_manage(course, caller.name, caller.role)
            self.finish(json.dumps(await self.proxy.policies.get(course)))
        except AIError as e:
            raise AIHTTPError(e) from None

    @web.authenticated
    @requires("ai:policy:manage")
    async def put(self, course: str) -> None:
        """Change the fields given (mode, models, store_prompts, institution_keys, exam_windows)."""
        caller = self.caller()
        body = self.body()
        try:
            policy = await self.proxy.policies.put(course, body, caller.name, caller.role)
        except AIError as e:
            raise AIHTTPError(e) from None
        self.finish(json.dumps(policy))


def _day(value: str, fallback: date) -> date:
    """Parse YYYY-MM-DD, or raise 400."""
    if not value:
        return fallback
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise web.HTTPError(400, f"Days are written YYYY-MM-DD, not {value!r}") from e


class _LedgerHandler(_AIHandler):
    """Shared parts of the ledger's readers: who and which days are asked for."""

    def query(self) -> UsageQuery:
        """Return the query of ?from, to, course, user and scope=course, or raise 400."""
        today = datetime.now(timezone.utc).date()
        last = _day(self.get_query_argument("to", ""), today)
        first = _day(self.get_query_argument("from", ""), last - timedelta(days=29))
        if first > last:
            raise web.HTTPError(400, "from must not be after to")
        if (last - first).days > 366:
            raise web.HTTPError(400, "Ask for at most 366 days at once")
        return UsageQuery(
            caller=self.caller(),
            first=first,
            last=last,
            course=self.get_query_argument("course", "") or None,
            user=self.get_query_argument("user", "") or None,
            whole_course=self.get_query_argument("scope", "") == "course",
        )


class UsageHandler(_LedgerHandler):
    """GET /usage: daily usage (one's own; a course's for its instructors and admins)."""

    @web.authenticated
    @requires("ai:usage")
    async def get(self) -> None:
        """Return daily aggregates as JSON, or detailed rows as CSV with ?format=csv."""
        fmt = self.get_query_argument("format", "json")
        if fmt not in ("json", "csv"):
            raise web.HTTPError(400, "format must be json or csv")
        query = self.query()
        first, last = query.first, query.last
        try:
            if fmt == "csv":
                text = await self.proxy.usage.csv(query)
                self.set_header(
                    "Content-Disposition", f'attachment; filename="ai-usage-{first}-{last}.csv"'
                )
                self.finish(text, set_content_type="text/csv; charset=utf-8")
            else:
                self.finish(json.dumps(await self.proxy.usage.summary(query)))
        except AIError as e:
            raise AIHTTPError(e) from None


class TranscriptsHandler(_LedgerHandler):
    """GET /transcripts: kept prompts (one's own; a course's for its instructors and admins)."""

    @web.authenticated
    @requires("ai:usage")
    async def get(self) -> None:
        """Return the prompts kept under the course policy, newest first."""
        query = self.query()
        try:
            self.finish(json.dumps(await self.proxy.usage.transcripts(query)))
        except AIError as e:
            raise AIHTTPError(e) from None


default_handlers: list[tuple[str, type[web.RequestHandler], dict[str, Any]]] = [
    (r"/ide/api/ai/v1/chat/completions", ChatCompletionsHandler, {}),
    (r"/ide/api/ai/v1/models", ModelsHandler, {}),
    (r"/ide/api/ai/keys", KeysHandler, {}),
    (r"/ide/api/ai/keys/([a-z]+)", KeyHandler, {}),
    (r"/ide/api/ai/admin/rotate-keys", KeyRotationHandler, {}),
    (r"/ide/api/ai/policy", PolicyHandler, {}),
    (r"/ide/api/ai/policy/([a-z0-9][a-z0-9_.-]{0,63})", CoursePolicyHandler, {}),
    (r"/ide/api/ai/usage", UsageHandler, {}),
    (r"/ide/api/ai/transcripts", TranscriptsHandler, {}),
]
