"""Terminals of a hub user's server: the service's, in a sandbox of the user's.

No student command runs in the user's server. Jupyter's terminals API and each terminal's
websocket are passed on to the service, which runs the shell in a sandbox container over the
user's workspace; this server signs each call with the user's own hub token.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketClientConnection, WebSocketHandler, websocket_connect

from ..auth import requires
from .client import ServiceClient
from .forward import CLIENT_SETTING, ServiceForwardHandler

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


class TerminalSocketForward(WebSocketMixin, JupyterHandler, WebSocketHandler):
    """/terminals/websocket/<name>: the service's terminal socket, message for message."""

    auth_resource = AUTH_RESOURCE
    upstream: WebSocketClientConnection | None = None

    @property
    def client(self) -> ServiceClient:
        """The server's client of the service."""
        client: ServiceClient = self.settings[CLIENT_SETTING]
        return client

    @ws_authenticated
    @requires(PERMISSION)
    async def get(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Sign the caller in; refuse, before the upgrade, a terminal the service has not."""
        reply = await self.client.fetch(self.client.request("GET", f"/api/terminals/{name}"))
        if reply.code != 200:
            status = reply.code if 400 <= reply.code < 500 else 502
            raise web.HTTPError(status, "No terminal %s here", name)
        await super().get(name, *args, **kwargs)

    async def open(self, name: str) -> None:
        """Connect to the same terminal at the service; relay what it sends."""
        url = self.client.connection.endpoint(f"/terminals/websocket/{name}")
        request = HTTPRequest(
            "ws" + url.removeprefix("http"),
            headers=self.client.connection.headers,
            request_timeout=60,
        )
        try:
            self.upstream = await websocket_connect(request)
        except HTTPClientError as e:  # the service's refusal: 404 (not the user's), 403 ...
            self.close(4000 + e.code if 400 <= e.code < 600 else 1011, e.message or "refused")
            return
        except OSError as e:
            self.close(1011, f"The jupyter-ide service cannot be reached: {e}")
            return
        self.set_nodelay(True)
        IOLoop.current().spawn_callback(self._relay, self.upstream)

    async def _relay(self, upstream: WebSocketClientConnection) -> None:
        """Pass the service's messages to the browser until either side closes."""
        while True:
            message = await upstream.read_message()
            if message is None:
                self.close(upstream.close_code or 1000, upstream.close_reason or "")
                return
            try:
                await self.write_message(message, binary=isinstance(message, bytes))
            except Exception:  # the browser went away
                upstream.close()
                return

    async def on_message(self, message: str | bytes) -> None:
        """Pass the browser's input on to the service (which checks it)."""
        if self.upstream is not None:
            await self.upstream.write_message(message, binary=isinstance(message, bytes))

    def on_close(self) -> None:
        """Close the service's side too."""
        if self.upstream is not None:
            self.upstream.close()


def terminal_handlers() -> list[tuple[str, type, dict[str, Any]]]:
    """Return the terminal routes of a hub user's server, answered by the service."""
    return [
        (r"/api/terminals(/\w+)?", TerminalsForwardHandler, {}),
        (r"/terminals/websocket/(\w+)", TerminalSocketForward, {}),
    ]
