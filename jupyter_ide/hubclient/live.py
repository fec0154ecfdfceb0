"""The live view's sockets in a hub user's server: the service's rooms, message for message.

The rooms live in the jupyter-ide service (one process per room: see the README on replicas);
this server opens the same socket there, signed with the user's own hub token, and relays the
binary y-websocket messages both ways. The service checks who may join and drops a viewer's
changes; a refusal there (403, 404 ...) is this socket's refusal, before the upgrade.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.ioloop import IOLoop
from tornado.websocket import (
    WebSocketClientConnection,
    WebSocketClosedError,
    WebSocketHandler,
    websocket_connect,
)

from ..auth import requires
from .client import ServiceClient
from .forward import CLIENT_SETTING

MAX_MESSAGE = 8 * 1024 * 1024


class LiveSocketForward(WebSocketMixin, JupyterHandler, WebSocketHandler):
    """/ide/api/classroom/.../socket: the service's live room socket for this user."""

    auth_resource = "ide"
    upstream: WebSocketClientConnection | None = None

    @property
    def client(self) -> ServiceClient:
        """The server's client of the service."""
        client: ServiceClient = self.settings[CLIENT_SETTING]
        return client

    @property
    def max_message_size(self) -> int:
        """The largest document message a peer may send."""
        return MAX_MESSAGE

    def get_compression_options(self) -> dict[str, Any] | None:
        """No compression: updates are small and latency matters."""
        return None

    @ws_authenticated
    @requires("teaching:use")
    async def get(self, rest: str, *args: Any, **kwargs: Any) -> None:
        """Open the service's socket first; its refusal is ours, before the upgrade."""
        url = self.client.connection.endpoint(f"/ide/api/classroom/{rest}")
        if self.request.query:
            url += f"?{self.request.query}"
        request = HTTPRequest(
            "ws" + url.removeprefix("http"),
            headers=self.client.connection.headers,
            request_timeout=60,
        )
        try:
            self.upstream = await websocket_connect(request, max_message_size=MAX_MESSAGE)
        except HTTPClientError as e:
            status = e.code if 400 <= e.code < 500 else 502
            raise web.HTTPError(status, "The live view refused: %s", e.message) from e
        except OSError as e:
            raise web.HTTPError(502, "The jupyter-ide service cannot be reached: %s", e) from e
        await super().get(rest, *args, **kwargs)

    def open(self, *args: Any, **kwargs: Any) -> None:
        """Relay what the service sends."""
        self.set_nodelay(True)
        if self.upstream is not None:
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
            except WebSocketClosedError:
                upstream.close()
                return

    async def on_message(self, message: str | bytes) -> None:
        """Pass the browser's message on (the service checks it)."""
        if self.upstream is not None:
            try:
                await self.upstream.write_message(message, binary=isinstance(message, bytes))
            except WebSocketClosedError:
                self.close(1011, "The jupyter-ide service closed the live room")

    def on_close(self) -> None:
        """Close the service's side too."""
        if self.upstream is not None:
            self.upstream.close()


def live_handlers() -> list[tuple[str, type, dict[str, Any]]]:
    """Return the live view's socket routes of a hub user's server (before the HTTP forward)."""
    return [
        (r"/ide/api/classroom/(live/socket)", LiveSocketForward, {}),
        (r"/ide/api/classroom/([^/]+/live/[^/]+/socket)", LiveSocketForward, {}),
    ]
