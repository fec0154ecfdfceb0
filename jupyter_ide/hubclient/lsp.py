"""Language servers of a hub user's server: the service's, in sandboxes of the user's.

No language server runs in the user's server. jupyter-lsp's routes are passed on to the
service, which starts each server in a sandbox over the user's workspace; this server signs
each call with the user's own hub token, so the service binds it to that user.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import ws_authenticated
from tornado import web

from ..auth import requires
from .forward import ServiceForwardHandler
from .socket_forward import ServiceSocketForward

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


class LspWarmForward(ServiceForwardHandler):
    """POST /lsp/warm: the service starts this user's servers ahead of use."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @requires(PERMISSION)
    async def post(self, path: str = "") -> None:
        """Return the service's answer."""
        await self.forward("/lsp/warm")


class LspSocketForward(ServiceSocketForward):
    """/lsp/ws/<server>: the service's socket of this user's server, frame for frame."""

    auth_resource = AUTH_RESOURCE

    @property
    def max_message_size(self) -> int:
        """The largest message a browser may send."""
        return MAX_MESSAGE

    @ws_authenticated
    @requires(PERMISSION)
    async def get(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Sign the caller in, then open the socket."""
        await super().get(name, *args, **kwargs)

    def upstream_path(self, name: str) -> str:
        """Return the same language server's socket at the service."""
        return f"/lsp/ws/{name}"


def lsp_handlers() -> list[tuple[str, type[web.RequestHandler], dict[str, Any]]]:
    """Return jupyter-lsp's routes in a hub user's server, answered by the service."""
    return [
        (r"/lsp/status", LspStatusForward, {}),
        (r"/lsp/warm", LspWarmForward, {}),
        (r"/lsp/ws/([A-Za-z0-9_.+-]{1,64})", LspSocketForward, {}),
    ]
