"""jupyter-lsp's routes, answered by sandboxed servers: GET /lsp/status, /lsp/ws/<server>.

Same URLs, JSON and framing as jupyter-lsp (one JSON-RPC message per text frame), so its
clients (JupyterLab's LSP, the /ide editor) work unchanged. Each connection is bound to the
signed-in caller: it reaches that caller's own server of that kind, whose sandbox mounts
that caller's workspace, and nobody else's.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..auth import requires
from ..kernels.sandbox import SandboxManager
from ..service.caller import CALLER
from .manager import LspManager, WarmLimited
from .session import LspSession, ServerUnavailable
from .uris import RootMap

PERMISSION = "lsp:use"
AUTH_RESOURCE = "lsp"  # jupyter-lsp's resource name for Jupyter's authorizer
MANAGER_SETTING = "jupyter_ide_lsp"
SANDBOX_SETTING = "jupyter_ide_sandbox"
MAX_MESSAGE = 16 * 1024 * 1024  # bytes of one message from a browser
CLOSE_INVALID = 1007  # the message was not JSON-RPC
MAX_WARM = 8  # languages in one POST /lsp/warm
_LEAVING: set[asyncio.Future[None]] = set()  # sockets leaving their session (held till done)


def lsp_manager(settings: dict[str, Any], parent: Any = None) -> LspManager:
    """Return the server's language-server manager (made on first use)."""
    manager = settings.get(MANAGER_SETTING)
    if not isinstance(manager, LspManager):
        sandbox = settings.get(SANDBOX_SETTING)
        if not isinstance(sandbox, SandboxManager):
            raise web.HTTPError(503, "Language servers need jupyter-ide's sandbox, not set up")
        manager = LspManager(sandbox, parent=parent or settings.get("serverapp"))
        settings[MANAGER_SETTING] = manager
    return manager


class _LspMixin:
    """The manager, and whose servers a request reaches."""

    settings: dict[str, Any]

    @property
    def manager(self) -> LspManager:
        """The server's language-server manager."""
        return lsp_manager(self.settings)

    def owner(self) -> str:
        """Return the caller whose servers this request reaches."""
        sandbox = self.manager.sandbox
        if not sandbox.multi_user:
            return sandbox.owner
        name = CALLER.get()
        if not name:
            raise web.HTTPError(403, "Sign in first")
        return name


def message_problem(message: str | bytes) -> tuple[dict[str, Any] | None, str]:
    """Return the parsed message, or None and what is wrong with it."""
    if isinstance(message, bytes):
        return None, "language server messages are text frames of JSON, not binary"
    try:
        parsed = json.loads(message)
    except ValueError:
        return None, "a language server message must be JSON"
    if not isinstance(parsed, dict) or parsed.get("jsonrpc") != "2.0":
        return None, 'a language server message is a JSON-RPC 2.0 object ({"jsonrpc": "2.0"})'
    if "method" in parsed and not isinstance(parsed["method"], str):
        return None, "a JSON-RPC method must be a string"
    if "method" not in parsed and "id" not in parsed:
        return None, "a JSON-RPC message has a method, an id or both"
    return parsed, ""


class LspStatusHandler(_LspMixin, APIHandler):
    """GET /lsp/status: jupyter-lsp's status of the caller's servers and the specs."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @requires(PERMISSION)
    @authorized
    async def get(self) -> None:
        """Return version, sessions and specs (jupyter-lsp's keys) and the root URI."""
        owner = self.owner()
        try:
            root = await self.manager.root_uri(owner)
        except ServerUnavailable as e:
            raise web.HTTPError(503, str(e)) from e
        self.finish(json.dumps(self.manager.status(owner, root)))


def warm_languages(body: bytes) -> list[str]:
    """Return the languages a POST /lsp/warm body names (ValueError says what is wrong)."""
    try:
        parsed = json.loads(body or b"null")
    except ValueError as e:
        raise ValueError('The body must be JSON: {"languages": ["python", ...]}') from e
    languages = parsed.get("languages") if isinstance(parsed, dict) else None
    if not isinstance(languages, list) or not languages:
        raise ValueError('Missing field: languages (a list such as ["python"])')
    if len(languages) > MAX_WARM:
        raise ValueError(f"At most {MAX_WARM} languages at once")
    if not all(isinstance(x, str) and 0 < len(x) <= 64 for x in languages):
        raise ValueError("Each language is a name such as python, c or go")
    return [str(x) for x in languages]


class LspWarmHandler(_LspMixin, APIHandler):
    """POST /lsp/warm: start the caller's servers of some languages before a file is opened."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @requires(PERMISSION)
    @authorized
    async def post(self) -> None:
        """Start each language's server of the caller's, unless it runs: key -> what was done."""
        try:
            languages = warm_languages(self.request.body)
        except ValueError as e:
            raise web.HTTPError(400, str(e)) from e
        keys: list[str] = []
        for language in languages:
            key = self.manager.server_for(language)
            if key is None:
                known = ", ".join(
                    sorted({x for s in self.manager.specs.values() for x in s.languages})
                )
                raise web.HTTPError(
                    400, f"No language server for {language!r} here (known: {known})"
                )
            if key not in keys:
                keys.append(key)
        owner = self.owner()
        servers: dict[str, str] = {}
        for key in keys:
            try:
                servers[key] = await self.manager.warm(owner, key)
            except WarmLimited as e:
                raise web.HTTPError(429, str(e)) from e
            except ServerUnavailable as e:
                raise web.HTTPError(503, str(e)) from e
        self.finish(json.dumps({"servers": servers}))


class LspSocketHandler(_LspMixin, WebSocketMixin, JupyterHandler, WebSocketHandler):
    """/lsp/ws/<server>: one JSON-RPC message per text frame, to the caller's own server."""

    auth_resource = AUTH_RESOURCE
    session: LspSession | None = None
    root: RootMap | None = None

    def get_compression_options(self) -> dict[str, Any] | None:
        """No compression (messages are small and many)."""
        return None

    @property
    def max_message_size(self) -> int:
        """The largest message a browser may send."""
        return MAX_MESSAGE

    @ws_authenticated
    @requires(PERMISSION)
    async def get(self, language_server: str, *args: Any, **kwargs: Any) -> None:
        """Check the caller and the server's name before the upgrade, then open the socket."""
        authorizer = self.settings.get("authorizer")
        if authorizer is not None and not await ensure_async(
            authorizer.is_authorized(self, self.current_user, "execute", AUTH_RESOURCE)
        ):
            raise web.HTTPError(403, "Jupyter's authorizer refuses language servers to you")
        if language_server not in self.manager.specs:
            known = ", ".join(sorted(self.manager.specs))
            raise web.HTTPError(
                404, f"No language server {language_server!r} here (known: {known})"
            )
        self._owner = self.owner()
        try:
            root = await self.manager.root_uri(self._owner)
        except ServerUnavailable as e:
            raise web.HTTPError(503, str(e)) from e
        self.root = RootMap(root)
        await super().get(language_server, *args, **kwargs)

    async def open(self, language_server: str, *args: Any, **kwargs: Any) -> None:
        """Join the caller's session of that server (it starts on the first message)."""
        self.session = self.manager.session(self._owner, language_server)
        self.session.subscribe(self)
        self.set_nodelay(True)

    async def on_message(self, message: str | bytes) -> None:
        """Pass one well-formed message to the server; close the socket on anything else."""
        parsed, problem = message_problem(message)
        if parsed is None:
            self.log.warning("Language server socket: closing it: %s", problem)
            self.close(CLOSE_INVALID, problem)
            return
        if self.session is None or self.root is None:
            return
        if parsed.get("method") == "initialize":
            self._learn_root(parsed)
        try:
            await self.session.from_client(self, self.root.to_inside(parsed))
        except ServerUnavailable as e:
            self.log.warning("Language server socket: %s", e)
            if "id" in parsed:
                await self.deliver(
                    {
                        "jsonrpc": "2.0",
                        "id": parsed["id"],
                        "error": {"code": -32603, "message": str(e)},
                    }
                )
            self.close(1011, str(e)[:120])

    def _learn_root(self, message: dict[str, Any]) -> None:
        """Map the client's own root (its initialize's rootUri) to the container's."""
        params = message.get("params")
        root = params.get("rootUri") if isinstance(params, dict) else None
        if isinstance(root, str) and root.startswith("file:///"):
            self.root = RootMap(root)

    async def deliver(self, message: dict[str, Any], text: str | None = None) -> None:
        """Send one server message to the browser, in the browser's URIs."""
        if text is None:
            text = json.dumps(message, ensure_ascii=False)
        if self.root is not None:
            text = self.root.text_to_outside(text)
        try:
            await self.write_message(text)
        except WebSocketClosedError:
            pass

    def on_close(self) -> None:
        """Leave the session (documents only this socket had open are closed)."""
        if self.session is not None:
            task = asyncio.ensure_future(self.session.unsubscribe(self))
            _LEAVING.add(task)
            task.add_done_callback(_LEAVING.discard)


def default_handlers() -> list[tuple[str, type[web.RequestHandler], dict[str, Any]]]:
    """Return jupyter-lsp's routes, relative to the base URL."""
    return [
        (r"/lsp/status", LspStatusHandler, {}),
        (r"/lsp/warm", LspWarmHandler, {}),
        (r"/lsp/ws/([A-Za-z0-9_.+-]{1,64})", LspSocketHandler, {}),
    ]
