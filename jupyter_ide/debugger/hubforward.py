"""The debug socket of a hub user's server: passed on, frame for frame, to the service.

The user's server holds only the user's hub token, so it starts no sandbox: the service does,
for the caller its token names. (Python is debugged over the kernel's own channels, which
reach the service's kernels through the gateway already.)
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import ws_authenticated
from tornado import web
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.ioloop import IOLoop
from tornado.websocket import websocket_connect

from ..auth import requires
from ..hubclient.lsp import LspSocketForward
from .handlers import LANGUAGES, MAX_MESSAGE, PERMISSION


class DebugSocketForward(LspSocketForward):
    """/ide/api/debug/ws/<c|cpp> in a hub user's server: the service's socket, relayed."""

    auth_resource = "kernels"

    @property
    def max_message_size(self) -> int:
        """The largest message a browser may send."""
        return MAX_MESSAGE

    @ws_authenticated
    @requires(PERMISSION)
    async def get(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Check the language (``name``), then open the socket."""
        if name not in LANGUAGES:
            raise web.HTTPError(404, f"No debugger for {name!r} (there are: c, cpp)")
        await super(LspSocketForward, self).get(name, *args, **kwargs)

    async def open(self, name: str) -> None:
        """Connect to the service's debug socket as this user; relay what it sends."""
        url = self.client.connection.endpoint(f"/ide/api/debug/ws/{name}")
        request = HTTPRequest(
            "ws" + url.removeprefix("http"),
            headers=self.client.connection.headers,
            request_timeout=60,
        )
        try:
            self.upstream = await websocket_connect(request, max_message_size=MAX_MESSAGE * 4)
        except HTTPClientError as e:
            self.close(4000 + e.code if 400 <= e.code < 600 else 1011, e.message or "refused")
            return
        except OSError as e:
            self.close(1011, f"The jupyter-ide service cannot be reached: {e}")
            return
        self.set_nodelay(True)
        IOLoop.current().spawn_callback(self._relay, self.upstream)


def debug_forward_handlers() -> list[tuple[str, type[web.RequestHandler], dict[str, Any]]]:
    """Return the debug socket's route in a hub user's server."""
    return [(r"/ide/api/debug/ws/([A-Za-z+]+)", DebugSocketForward, {})]
