"""Language servers of a hub user's server: the service's, in sandboxes of the user's.

No language server runs in the user's server. jupyter-lsp's routes are passed on to the
service, which starts each server in a sandbox over the user's workspace; this server signs
each call with the user's own hub token, so the service binds it to that user.
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

PERMISSION = "lsp:use"
AUTH_RESOURCE = "lsp"
MAX_MESSAGE = 16 * 1024 * 1024


class LspStatusForward(ServiceForwardHandler):
    """GET /lsp/status: the service's status of this user's language servers."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @requires(PERMISSION)
    async def get(self, path: str = "") -> None:
        """Return the service's answer."""
        await self.forward("/lsp/status")


class LspSocketForward(WebSocketMixin, JupyterHandler, WebSocketHandler):
    """/lsp/ws/<server>: the service's socket of this user's server, frame for frame."""

    auth_resource = AUTH_RESOURCE
    upstream: WebSocketClientConnection | None = None

    @property
    def client(self) -> ServiceClient:
        """The server's client of the service."""
        client: ServiceClient = self.settings[CLIENT_SETTING]
        return client

    @property
    def max_message_size(self) -> int:
        """The largest message a browser may send."""
        return MAX_MESSAGE

    @ws_authenticated
    @requires(PERMISSION)
    async def get(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Sign the caller in, then open the socket."""
        await super().get(name, *args, **kwargs)

    async def open(self, name: str) -> None:
        """Connect to the same server at the service; relay what it sends."""
        url = self.client.connection.endpoint(f"/lsp/ws/{name}")
        request = HTTPRequest(
            "ws" + url.removeprefix("http"),
            headers=self.client.connection.headers,
            request_timeout=60,
        )
        try:
            self.upstream = await websocket_connect(request, max_message_size=64 * 1024 * 1024)
        except HTTPClientError as e:  # the service's refusal: 404 (no such server), 403 ...
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
            await self.upstream.write_message(message, binary=isinstance(message, bytes))

    def on_close(self) -> None:
        """Close the service's side too."""
        if self.upstream is not None:
            self.upstream.close()


def lsp_handlers() -> list[tuple[str, type[web.RequestHandler], dict[str, Any]]]:
    """Return jupyter-lsp's routes in a hub user's server, answered by the service."""
    return [
        (r"/lsp/status", LspStatusForward, {}),
        (r"/lsp/ws/([A-Za-z0-9_.+-]{1,64})", LspSocketForward, {}),
    ]
