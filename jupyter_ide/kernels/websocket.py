"""Kernel channels websockets that send each message at once (TCP_NODELAY).

A kernel answers one request with several small messages (busy, the input, the reply, idle).
Without TCP_NODELAY, Nagle's algorithm holds each small write back until the previous one is
acknowledged, and the peer delays its acknowledgement: about 40 ms per hop on Linux. Jupyter's
own connections leave Nagle on; a hub user's server adds a hop (GatewayClient), so both ends
of every hop set it off here.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from jupyter_server.gateway.connections import GatewayWebSocketConnection
from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

from .run_watch import KernelRun, RunWatcher

log = logging.getLogger(__name__)

ACTIVITY = "jupyter_ide_activity"  # the activity timeline's parts in the web app's settings
V1 = "v1.kernel.websocket.jupyter.org"


class NoDelayChannels(ZMQChannelsWebsocketConnection):
    """Jupyter's kernel channels connection, its browser-side socket without Nagle's delay.

    Where the kernel really runs (this server, or the hub's service), each executed cell is
    also recorded on the activity timeline of the kernel's owner (run_watch.py).
    """

    watcher: RunWatcher | None = None
    _path: str | None = None
    _recording: set[asyncio.Task[None]] | None = None

    def connect(self) -> Any:
        """Send without delay, watch for cell runs, then connect as Jupyter does."""
        self.websocket_handler.set_nodelay(True)
        if self.websocket_handler.settings.get(ACTIVITY) is not None:
            self.watcher = RunWatcher(self._ran)
        return super().connect()

    def handle_incoming_message(self, incoming_msg: Any) -> None:
        """Note an execute request, then pass the message on as Jupyter does."""
        if self.watcher is not None and self.channels:
            try:
                if self.subprotocol == V1:
                    self.watcher.incoming_v1(*deserialize_msg_from_ws_v1(incoming_msg))
                else:
                    self.watcher.incoming_json(incoming_msg)
            except Exception as e:  # a run not recorded never stops the cell
                log.debug("Kernel %s: execute request not noted: %s", self.kernel_id, e)
        super().handle_incoming_message(incoming_msg)

    def _on_zmq_reply(self, stream: Any, msg_list: Any) -> None:
        """Note an execute reply, then send the message on as Jupyter does."""
        if self.watcher is not None and getattr(stream, "channel", None) == "shell":
            try:
                if isinstance(msg_list, dict):
                    self.watcher.outgoing_msg(msg_list)
                else:
                    self.watcher.outgoing_v1(list(msg_list))
            except Exception as e:
                log.debug("Kernel %s: execute reply not noted: %s", self.kernel_id, e)
        super()._on_zmq_reply(stream, msg_list)  # type: ignore[no-untyped-call]

    def _owner(self) -> str:
        """Return the kernel's owner (the service's record), else the signed-in caller."""
        owner_of = getattr(self.multi_kernel_manager, "owner_of", None)
        owner = owner_of(self.kernel_id) if owner_of is not None else None
        if owner:
            return str(owner)
        roles = self.websocket_handler.settings.get("jupyter_ide_roles")
        user = self.websocket_handler.current_user
        return str(roles.name_of(user)) if roles is not None else ""

    def _ran(self, run: KernelRun) -> None:
        """Queue a finished run on the owner's timeline (its path looked up off this call)."""
        owner = self._owner()
        if owner:
            if self._recording is None:
                self._recording = set()
            task = asyncio.ensure_future(self._record(owner, run))
            self._recording.add(task)
            task.add_done_callback(self._recording.discard)

    async def _record(self, owner: str, run: KernelRun) -> None:
        activity = self.websocket_handler.settings.get(ACTIVITY)
        if activity is None:
            return
        if self._path is None:
            self._path = await self._session_path(owner)
        kernel_name = str(getattr(self.kernel_manager, "kernel_name", "") or "")
        activity.recorder.kernel_run(owner, self._path, kernel_name, run)

    async def _session_path(self, owner: str) -> str:
        """Return the file or notebook the kernel's session is for ("" for none)."""
        sessions = self.websocket_handler.settings.get("session_manager")
        if sessions is None:
            return ""
        for_user = getattr(sessions, "for_user", None)
        if for_user is not None:
            sessions = for_user(owner)
        try:
            for model in await sessions.list_sessions():
                if (model.get("kernel") or {}).get("id") == self.kernel_id:
                    return str(model.get("path") or "")
        except Exception as e:
            log.debug("Kernel %s: no session path: %s", self.kernel_id, e)
        return ""


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
