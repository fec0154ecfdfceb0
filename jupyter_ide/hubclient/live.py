"""The live view's sockets in a hub user's server: the service's rooms, message for message.

The rooms live in the jupyter-ide service (see the README on replicas); this server opens the
same socket there, signed with the user's own hub token, and relays the binary y-websocket
messages both ways (ServiceSocketForward). The service checks who may join and drops a
viewer's changes; a refusal there (403, 404 ...) is this socket's refusal, before the upgrade.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import ws_authenticated

from ..auth import requires
from .socket_forward import ServiceSocketForward

MAX_MESSAGE = 8 * 1024 * 1024


class LiveSocketForward(ServiceSocketForward):
    """/ide/api/classroom/.../socket: the service's live room socket for this user."""

    auth_resource = "ide"
    upstream_limit = MAX_MESSAGE
    refused = "The live view refused"

    @property
    def max_message_size(self) -> int:
        """The largest document message a peer may send."""
        return MAX_MESSAGE

    def get_compression_options(self) -> dict[str, Any] | None:
        """No compression: updates are small and latency matters."""
        return None

    def upstream_path(self, rest: str, *args: Any) -> str:
        """Return the service's path of this socket, with the browser's query (path, owner)."""
        path = f"/ide/api/classroom/{rest}"
        return f"{path}?{self.request.query}" if self.request.query else path

    @ws_authenticated
    @requires("teaching:use")
    async def get(self, rest: str, *args: Any, **kwargs: Any) -> None:
        """Open the service's socket first; its refusal is ours, before the upgrade."""
        await self.connect_before_upgrade(self.upstream_path(rest))
        try:
            await super().get(rest, *args, **kwargs)
        finally:
            if self.ws_connection is None and self.upstream is not None:  # not upgraded
                self.upstream.close()


def live_handlers() -> list[tuple[str, type, dict[str, Any]]]:
    """Return the live view's socket routes of a hub user's server (before the HTTP forward)."""
    return [
        (r"/ide/api/classroom/(live/socket)", LiveSocketForward, {}),
        (r"/ide/api/classroom/([^/]+/live/[^/]+/socket)", LiveSocketForward, {}),
    ]
