"""HTTP and websocket for terminals: Jupyter's handlers, each verb behind our checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server_terminals.api_handlers import TerminalHandler, TerminalRootHandler
from jupyter_server_terminals.handlers import TermSocket
from tornado import web

from ..auth import requires
from ..contents_manager import IDEContentsManager
from .manager import CwdError, IDETerminalManager

PERMISSION = "terminals:use"


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
    def post(self) -> None:
        """Start a terminal in the workspace, or in the folder of it that ``cwd`` names."""
        body = self.get_json_body() or {}
        if not isinstance(body, dict):
            raise web.HTTPError(400, 'The body must be a JSON object such as {"cwd": "src"}')
        manager = self.terminal_manager
        if not isinstance(manager, IDETerminalManager):
            raise web.HTTPError(500, "Terminals are not managed by jupyter-ide's manager")
        try:
            model = manager.create_in(self.workspace(), body)
        except FileExistsError as e:
            raise web.HTTPError(409, str(e)) from e
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

    @ws_authenticated
    @requires(PERMISSION)
    async def get(self, *args: Any, **kwargs: Any) -> None:
        """Check Jupyter's authorizer and that the terminal exists, then open the socket."""
        await super().get(*args, **kwargs)


def default_handlers(
    term_manager: IDETerminalManager,
) -> list[tuple[str, type[web.RequestHandler], dict[str, Any]]]:
    """Return the terminal routes (Jupyter's own URLs), relative to the base URL."""
    return [
        (r"/terminals/websocket/(\w+)", IDETermSocket, {"term_manager": term_manager}),
        (r"/api/terminals", IDETerminalRootHandler, {}),
        (r"/api/terminals/(\w+)", IDETerminalHandler, {}),
    ]
