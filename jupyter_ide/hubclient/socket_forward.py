"""A websocket of a hub user's server passed on, frame for frame, to the same socket at the service.

The user's server signs the upstream socket with the user's own hub token; the service decides
what that user may reach. Subclasses name the service's path; refusals close the browser's
socket with 4000 + the service's status, or (with :meth:`connect_before_upgrade`) answer the
browser's upgrade request with that status before its socket opens.
"""

from __future__ import annotations

from typing import Any

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

from .client import ServiceClient
from .forward import CLIENT_SETTING


class ServiceSocketForward(WebSocketMixin, JupyterHandler, WebSocketHandler):
    """The browser's socket here, relayed to the service's socket at :meth:`upstream_path`."""

    upstream: WebSocketClientConnection | None = None
    # The largest message the service's side may send.
    upstream_limit = 64 * 1024 * 1024
    # How a refusal before the upgrade starts its message (followed by the service's reason).
    refused = "The jupyter-ide service refused"

    @property
    def client(self) -> ServiceClient:
        """The server's client of the service."""
        client: ServiceClient = self.settings[CLIENT_SETTING]
        return client

    def upstream_path(self, *args: Any) -> str:
        """Return the service's path of this socket (route arguments given)."""
        raise NotImplementedError

    async def connect_upstream(self, path: str) -> WebSocketClientConnection:
        """Open the service's socket at ``path`` as this user."""
        url = self.client.connection.endpoint(path)
        request = HTTPRequest(
            "ws" + url.removeprefix("http"),
            headers=self.client.connection.headers,
            request_timeout=60,
        )
        return await websocket_connect(request, max_message_size=self.upstream_limit)

    async def connect_before_upgrade(self, path: str) -> None:
        """Open the service's socket at ``path`` now: its refusal is an HTTP error here.

        Call it from ``get`` before the upgrade; a 4xx of the service's is answered with the
        same status, anything else with 502. The upgrade then relays this socket.
        """
        try:
            self.upstream = await self.connect_upstream(path)
        except HTTPClientError as e:
            status = e.code if 400 <= e.code < 500 else 502
            raise web.HTTPError(status, "%s: %s", self.refused, e.message) from e
        except OSError as e:
            raise web.HTTPError(502, "The jupyter-ide service cannot be reached: %s", e) from e

    async def open(self, *args: Any, **kwargs: Any) -> None:
        """Connect to the service's socket (unless done before the upgrade); relay it."""
        if self.upstream is None:
            try:
                self.upstream = await self.connect_upstream(self.upstream_path(*args))
            except HTTPClientError as e:  # the service's refusal: 404, 403 ...
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
        """Pass the browser's message on to the service (which checks it)."""
        if self.upstream is not None:
            try:
                await self.upstream.write_message(message, binary=isinstance(message, bytes))
            except WebSocketClosedError:
                self.close(1011, "The jupyter-ide service closed the socket")

    def on_close(self) -> None:
        """Close the service's side too."""
        if self.upstream is not None:
            self.upstream.close()
