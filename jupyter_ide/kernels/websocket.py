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
    """Jupyter's gateway channels connection, without Nagle's delay and without stale sockets.

    - The browser-side socket sends at once (tornado's websocket client to the gateway already
      sets TCP_NODELAY).
    - Each connection to the gateway is a session of its own: the browser's session id is not
      passed on. A browser that reconnects with its session id while the previous gateway
      socket is still closing made the gateway replace that "stale" session and buffer the new
      one's replies (the cell never answered). This server keeps no replay buffer for gateway
      kernels either way.
    - A browser socket that closes while its gateway socket is still being opened closes that
      socket once it is open, instead of leaving it open at the gateway.
    """

    @property
    def session_id(self) -> None:
        """No session id for the gateway: each connection is its own session there."""
        return None

    def connect(self) -> Any:
        """Send without delay, then connect to the gateway's kernel as Jupyter does."""
        self.websocket_handler.set_nodelay(True)
        return super().connect()  # type: ignore[no-untyped-call]

    def disconnect(self) -> None:  # type: ignore[override]
        """Close the gateway socket, now or (still connecting) as soon as it is open."""
        self.disconnected = True
        if self.ws is not None:
            self.ws.close()

    def _connection_done(self, fut: Any) -> None:
        """Keep the gateway socket, or close it when the browser has gone meanwhile."""
        if self.disconnected and not fut.cancelled() and fut.exception() is None:
            fut.result().close()
            return
        super()._connection_done(fut)  # type: ignore[no-untyped-call]
