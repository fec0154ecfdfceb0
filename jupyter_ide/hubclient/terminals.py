"""Terminals of a hub user's server: the service's, in a sandbox of the user's.

No student command runs in the user's server. Jupyter's terminals API and each terminal's
websocket are passed on to the service, which runs the shell in a sandbox container over the
user's workspace; this server signs each call with the user's own hub token.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import ws_authenticated
from tornado import web

from ..auth import requires
from .forward import ServiceForwardHandler
from .socket_forward import ServiceSocketForward

PERMISSION = "terminals:use"
AUTH_RESOURCE = "terminals"


class TerminalsForwardHandler(ServiceForwardHandler):
    """/api/terminals[/<name>]: the service's answer for this user's terminals."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @requires(PERMISSION)
    async def get(self, rest: str | None) -> None:
        """List the user's terminals, or describe one."""
        await self.forward("/api/terminals" + (rest or ""))

    @web.authenticated
    @requires(PERMISSION)
    async def post(self, rest: str | None) -> None:
        """Open a terminal (in a sandbox the service starts)."""
        await self.forward("/api/terminals" + (rest or ""))

    @web.authenticated
    @requires(PERMISSION)
    async def delete(self, rest: str | None) -> None:
        """End a terminal."""
        await self.forward("/api/terminals" + (rest or ""))


class TerminalSocketForward(ServiceSocketForward):
    """/terminals/websocket/<name>: the service's terminal socket, message for message."""

    auth_resource = AUTH_RESOURCE

    @ws_authenticated
    @requires(PERMISSION)
    async def get(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Sign the caller in; refuse, before the upgrade, a terminal the service has not."""
        reply = await self.client.fetch(self.client.request("GET", f"/api/terminals/{name}"))
        if reply.code != 200:
            status = reply.code if 400 <= reply.code < 500 else 502
            raise web.HTTPError(status, "No terminal %s here", name)
        await super().get(name, *args, **kwargs)

    def upstream_path(self, name: str) -> str:
        """Return the same terminal's socket at the service."""
        return f"/terminals/websocket/{name}"


def terminal_handlers() -> list[tuple[str, type, dict[str, Any]]]:
    """Return the terminal routes of a hub user's server, answered by the service."""
    return [
        (r"/api/terminals(/\w+)?", TerminalsForwardHandler, {}),
        (r"/terminals/websocket/(\w+)", TerminalSocketForward, {}),
    ]
