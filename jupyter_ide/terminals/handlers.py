"""HTTP and websocket for terminals: Jupyter's handlers, each verb behind our checks."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server_terminals.api_handlers import TerminalHandler, TerminalRootHandler
from jupyter_server_terminals.handlers import TermSocket
from tornado import web
from tornado.websocket import WebSocketHandler

from ..auth import requires
from ..contents_manager import IDEContentsManager
from .manager import CwdError, IDETerminalManager, TerminalUnavailable, TooManyTerminals

PERMISSION = "terminals:use"
MAX_SIZE = 10000  # rows or columns of a terminal


class _WorkspaceMixin:
    """The folder terminals open in: the user's materialised workspace."""

    def workspace(self) -> Path:
        """Return the workspace folder (Jupyter's root dir without our contents manager)."""
        cm = self.contents_manager  # type: ignore[attr-defined]
        if isinstance(cm, IDEContentsManager):
            return cm.workspace_dir
        return Path(self.settings["server_root_dir"]).expanduser()  # type: ignore[attr-defined]


class IDETerminalRootHandler(_WorkspaceMixin, TerminalRootHandler):
    """GET /api/terminals lists the terminals; POST starts one in the workspace."""

    @web.authenticated
    @requires(PERMISSION)
    @authorized
    def get(self) -> None:
        """List the running terminals."""
        self.finish(json.dumps(self.terminal_manager.list()))

    @web.authenticated
    @requires(PERMISSION)
    @authorized
    async def post(self) -> None:
        """Start a terminal in the workspace, or in the folder of it that ``cwd`` names."""
        body = self.get_json_body() or {}
        if not isinstance(body, dict):
            raise web.HTTPError(400, 'The body must be a JSON object such as {"cwd": "src"}')
        manager = self.terminal_manager
        if not isinstance(manager, IDETerminalManager):
            raise web.HTTPError(500, "Terminals are not managed by jupyter-ide's manager")
        try:
            model = await manager.create_in(self.workspace(), body)
        except FileExistsError as e:
            raise web.HTTPError(409, str(e)) from e
        except TooManyTerminals as e:
            raise web.HTTPError(429, str(e)) from e
        except TerminalUnavailable as e:
            raise web.HTTPError(503, str(e)) from e
        except (CwdError, ValueError) as e:
            raise web.HTTPError(400, str(e)) from e
        self.finish(json.dumps(model))


class IDETerminalHandler(TerminalHandler):
    """GET /api/terminals/<name> describes a terminal; DELETE ends it."""

    @web.authenticated
    @requires(PERMISSION)
    @authorized
    def get(self, name: str) -> None:
        """Return the terminal's model."""
        self.finish(json.dumps(self.terminal_manager.get(name)))

    @web.authenticated
    @requires(PERMISSION)
    @authorized
    async def delete(self, name: str) -> None:
        """End the terminal and its processes."""
        await self.terminal_manager.terminate(name, force=True)
        self.set_status(204)
        self.finish()


class IDETermSocket(TermSocket):
    """The terminal's websocket, refused before the upgrade to anyone without the right."""

    pending_output = 0  # bytes written to the socket and not sent yet (the manager looks)

    @ws_authenticated
    @requires(PERMISSION)
    async def get(self, *args: Any, **kwargs: Any) -> None:
        """Check Jupyter's authorizer and that the terminal exists, then open the socket."""
        await super().get(*args, **kwargs)

    def open(self, *args: Any, **kwargs: Any) -> None:
        """Connect to the terminal; its input goes through the terminal's own writer thread."""
        super().open(*args, **kwargs)
        executor = getattr(self.terminal, "input_executor", None)
        if executor is not None:
            self._blocking_io_executor = executor

    def write_message(  # type: ignore[override]
        self, message: str | bytes | dict[str, Any], binary: bool = False
    ) -> asyncio.Future[None]:
        """Send a message, counting its bytes until they are sent (Jupyter's own, otherwise)."""
        if self.ws_connection is None or self.ws_connection.is_closing():
            # Closing (stalled, or its browser left): output for it is dropped, not raised
            # into the terminal's reader, which serves the other sockets too.
            dropped: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            dropped.set_result(None)
            return dropped
        if isinstance(message, dict):
            message = json.dumps(message)
        size = len(message.encode()) if isinstance(message, str) else len(message)
        sent = WebSocketHandler.write_message(self, message, binary=binary)
        self._update_activity()
        self.pending_output += size
        sent.add_done_callback(lambda done: self._sent(size, done))
        return sent

    def _sent(self, size: int, done: asyncio.Future[None]) -> None:
        """Count a message as sent (or lost with its closed socket)."""
        self.pending_output -= size
        if not done.cancelled():
            done.exception()  # a closed socket's error: nobody waits for it

    async def on_message(self, message: str | bytes) -> None:  # type: ignore[override]
        """Pass on well-formed input and sizes; close the socket on anything else."""
        problem = message_problem(message)
        if problem:
            self.log.warning("Terminal %s: closing its socket: %s", self.term_name, problem)
            self.close(1008, problem)
            return
        if self.terminal is None:
            return  # it ended: nothing reads what is typed now
        await super().on_message(message)


def message_problem(message: str | bytes) -> str:
    """Say what is wrong with a terminal socket message ("" when it is fine to pass on)."""
    try:
        command = json.loads(message)
    except ValueError:
        return "a terminal message must be JSON"
    if not isinstance(command, list) or not command or not isinstance(command[0], str):
        return 'a terminal message is a JSON array such as ["stdin", "ls\\r"]'
    kind = command[0]
    if kind == "stdin" and (len(command) < 2 or not isinstance(command[1], str)):
        return '"stdin" takes the typed text as a string'
    if kind == "set_size":
        size = command[1:3]
        if len(size) != 2 or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 < n <= MAX_SIZE for n in size
        ):
            return f'"set_size" takes rows and columns, whole numbers from 1 to {MAX_SIZE}'
    return ""


def default_handlers(
    term_manager: IDETerminalManager,
) -> list[tuple[str, type[web.RequestHandler], dict[str, Any]]]:
    """Return the terminal routes (Jupyter's own URLs), relative to the base URL."""
    return [
        (r"/terminals/websocket/(\w+)", IDETermSocket, {"term_manager": term_manager}),
        (r"/api/terminals", IDETerminalRootHandler, {}),
        (r"/api/terminals/(\w+)", IDETerminalHandler, {}),
    ]
