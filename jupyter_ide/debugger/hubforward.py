"""The debug socket of a hub user's server: passed on, frame for frame, to the service.

The user's server holds only the user's hub token, so it starts no sandbox: the service does,
for the caller its token names. (Python is debugged over the kernel's own channels, which
reach the service's kernels through the gateway already.)
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import ws_authenticated
from tornado import web

from ..auth import requires
from ..hubclient.socket_forward import ServiceSocketForward
from .handlers import LANGUAGES, MAX_MESSAGE, PERMISSION


class DebugSocketForward(ServiceSocketForward):
    """/ide/api/debug/ws/<c|cpp> in a hub user's server: the service's socket, relayed."""

    auth_resource = "kernels"
    upstream_limit = MAX_MESSAGE * 4

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
        await super().get(name, *args, **kwargs)

    def upstream_path(self, name: str) -> str:
        """Return the service's debug socket of this language."""
        return f"/ide/api/debug/ws/{name}"


def debug_forward_handlers() -> list[tuple[str, type[web.RequestHandler], dict[str, Any]]]:
    """Return the debug socket's route in a hub user's server."""
    return [(r"/ide/api/debug/ws/([A-Za-z+]+)", DebugSocketForward, {})]
