"""Culling idle kernels by what clients do, never by what the kernel says.

Jupyter's culler counts a kernel active whenever its IOPub carries a message: a student's
program printing in a background thread (or claiming "busy" forever) keeps its sandbox
container forever. Here a kernel's ``last_activity`` moves only with its clients: a start,
an interrupt or restart over the REST API, a websocket that opens or closes, and every culler
pass while a websocket is open. ``cull_idle_timeout`` (Jupyter's setting, off by default)
then measures how long nobody has been there; ``cull_disconnected_timeout`` is the hard
limit, which also ends a busy kernel once no client has been connected for that long.
"""

from __future__ import annotations

import time
from typing import Any

from jupyter_client.session import Session
from jupyter_core.utils import ensure_async
from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado.ioloop import PeriodicCallback
from traitlets import Int


class ClientActivityCulling(AsyncMappingKernelManager):
    """Jupyter's mapping kernel manager, its idleness counted from the clients' side."""

    cull_disconnected_timeout = Int(
        3600,
        help="Seconds a kernel may run with no client connected (no open websocket, no "
        "interrupt or restart call) before it is shut down, even while busy or printing: "
        "what its own code sends never counts. 0: never. Checked every cull_interval seconds.",
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        """Start with no kernel left alone."""
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        self._alone_since: dict[str, float] = {}

    # -- what clients do ------------------------------------------------------------------

    def _client_activity(self, kernel_id: str) -> None:
        """Note that a client acted on ``kernel_id`` now."""
        kernel = self._kernels.get(kernel_id)
        if kernel is None:
            return
        kernel.last_activity = self.last_kernel_activity = utcnow()
        if self._kernel_connections.get(kernel_id, 0) <= 0:
            self._alone_since[kernel_id] = time.monotonic()
        else:
            self._alone_since.pop(kernel_id, None)

    def notify_connect(self, kernel_id: str) -> None:
        """Count a client's websocket that opened on the kernel."""
        super().notify_connect(kernel_id)  # type: ignore[no-untyped-call]
        self._client_activity(kernel_id)

    def notify_disconnect(self, kernel_id: str) -> None:
        """Count a websocket that closed; the kernel is alone from now on if it was the last."""
        super().notify_disconnect(kernel_id)  # type: ignore[no-untyped-call]
        self._client_activity(kernel_id)

    async def interrupt_kernel(self, kernel_id: str) -> None:  # type: ignore[override]
        """Interrupt the kernel (a client asked)."""
        self._client_activity(kernel_id)
        await ensure_async(super().interrupt_kernel(kernel_id))

    async def restart_kernel(self, kernel_id: str, now: bool = False) -> Any:  # type: ignore[override]
        """Restart the kernel (a client asked)."""
        self._client_activity(kernel_id)
        return await super().restart_kernel(kernel_id, now=now)  # type: ignore[no-untyped-call]

    def start_watching_activity(self, kernel_id: str) -> None:
        """Follow the kernel's execution state on IOPub; its messages are not activity."""
        kernel = self._kernels[kernel_id]
        kernel.reason = ""
        kernel.last_activity = utcnow()
        if kernel_id not in self._alone_since and not self._kernel_connections.get(kernel_id):
            self._alone_since[kernel_id] = time.monotonic()
        kernel._activity_stream = kernel.connect_iopub()
        session = Session(config=kernel.session.config, key=kernel.session.key)

        def record_state(msg_list: Any) -> None:
            """Take the execution state from a status message (Jupyter's rules)."""
            _, fed = session.feed_identities(msg_list)
            msg = session.deserialize(fed, content=False)
            if msg["header"]["msg_type"] != "status":
                return
            parent = msg.get("parent_header") or {}
            state = session.deserialize(fed)["content"].get("execution_state")
            if self.track_message_type(parent.get("msg_type")):  # type: ignore[no-untyped-call]
                kernel.execution_state = state
            elif kernel.execution_state == "starting" and state != "starting":
                kernel.execution_state = "idle"

        kernel._activity_stream.on_recv(record_state)

    # -- culling --------------------------------------------------------------------------

    def initialize_culler(self) -> None:
        """Start Jupyter's culler, or ours alone when only the hard limit is set."""
        if (
            not self._initialized_culler
            and self.cull_idle_timeout <= 0
            and self.cull_disconnected_timeout > 0
            and self._culler_callback is None
        ):
            interval = self.cull_interval if self.cull_interval > 0 else self.cull_interval_default
            self._culler_callback = PeriodicCallback(self.cull_kernels, 1000 * interval)
            self.log.info(
                "Culling kernels without a client for > %s seconds at %s second intervals",
                self.cull_disconnected_timeout,
                interval,
            )
            self._culler_callback.start()
        super().initialize_culler()  # type: ignore[no-untyped-call]

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        """Cull a kernel alone past the hard limit; else Jupyter's check, on clients' time."""
        kernel = self._kernels.get(kernel_id)
        if kernel is None:
            return
        if self._kernel_connections.get(kernel_id, 0) > 0:
            kernel.last_activity = utcnow()  # a client is there: that is activity
            self._alone_since.pop(kernel_id, None)
        else:
            alone = time.monotonic() - self._alone_since.setdefault(kernel_id, time.monotonic())
            if 0 < self.cull_disconnected_timeout < alone:
                self.log.warning(
                    "Culling %s kernel %s (%s): no client for %d seconds",
                    getattr(kernel, "execution_state", "?"),
                    kernel.kernel_name,
                    kernel_id,
                    alone,
                )
                await ensure_async(self.shutdown_kernel(kernel_id))  # type: ignore[no-untyped-call]
                return
        if self.cull_idle_timeout > 0:
            await super().cull_kernel_if_idle(kernel_id)  # type: ignore[no-untyped-call]

    async def cull_kernels(self) -> None:
        """Forget the kernels that are gone, then look at each running one."""
        for kernel_id in [k for k in self._alone_since if k not in self._kernels]:
            del self._alone_since[kernel_id]
        await super().cull_kernels()  # type: ignore[no-untyped-call]
