"""Kernel channels websockets that send each message at once (TCP_NODELAY).

A kernel answers one request with several small messages (busy, the input, the reply, idle).
Without TCP_NODELAY, Nagle's algorithm holds each small write back until the previous one is
acknowledged, and the peer delays its acknowledgement: about 40 ms per hop on Linux. Jupyter's
own connections leave Nagle on; a hub user's server adds a hop (GatewayClient), so both ends
of every hop set it off here.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.gateway.connections import GatewayWebSocketConnection
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection


class NoDelayChannels(ZMQChannelsWebsocketConnection):
    """Jupyter's kernel channels connection, its browser-side socket without Nagle's delay."""

    def connect(self) -> Any:
        """Send without delay, then connect to the kernel as Jupyter does."""
        self.websocket_handler.set_nodelay(True)
        return super().connect()


class NoDelayGatewayChannels(GatewayWebSocketConnection):
    """Jupyter's gateway channels connection, its browser-side socket without Nagle's delay.

    The other side, tornado's websocket client to the gateway, already sets TCP_NODELAY.
    """

    def connect(self) -> Any:
        """Send without delay, then connect to the gateway's kernel as Jupyter does."""
        self.websocket_handler.set_nodelay(True)
        return super().connect()  # type: ignore[no-untyped-call]
