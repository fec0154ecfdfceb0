"""HTTP for the sandbox: its limits and state, why a kernel last died, and kernel names.

Jupyter's kernel and session routes that start kernels are served here too, each name resolved
to a kernel that may run (or refused with a 400 that names those that may).
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.base.handlers import APIHandler
from jupyter_server.services.kernels.handlers import KernelActionHandler, MainKernelHandler
from jupyter_server.services.sessions.handlers import SessionHandler, SessionRootHandler
from tornado import web

from ..auth import requires
from .manager import restart_refusal
from .policy import KernelRefused
from .pool import WarmPool
from .sandbox import SandboxManager, SandboxUnavailable

AUTH_RESOURCE = "ide"
UUID = r"\w+-\w+-\w+-\w+-\w+"  # Jupyter's pattern of kernel and session ids


class SandboxHandler(APIHandler):
    """GET /ide/api/sandbox: mode, engine, runtime, limits and the warm pool."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @requires("kernels:use")
    async def get(self) -> None:
        """Describe the sandbox kernels run in."""
        manager = SandboxManager.instance()
        pool = WarmPool.current()
        state = manager.describe()
        state["pool"] = pool.describe() if pool else {}
        self.finish(json.dumps(state))


class KernelSandboxHandler(APIHandler):
    """GET /ide/api/kernels/<id>/sandbox: one kernel's sandbox, limits and last exit."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @requires("kernels:use")
    async def get(self, kernel_id: str) -> None:
        """Say whether the kernel is sandboxed, its limits, and why it last stopped."""
        if kernel_id not in self.kernel_manager:
            raise web.HTTPError(404, f"No kernel {kernel_id}")
        record = SandboxManager.instance().kernels.get(kernel_id)
        if record is None:
            self.finish(json.dumps({"kernel_id": kernel_id, "sandboxed": False}))
            return
        self.finish(
            json.dumps(
                {
                    "kernel_id": kernel_id,
                    "sandboxed": record.sandboxed,
                    "language": record.language,
                    "image": record.image if record.sandboxed else None,
                    "limits": record.limits.describe(),
                    "last_exit": record.last_exit,
                    "deaths": record.exits,
                }
            )
        )


class _ResolvesKernelNames(APIHandler):
    """Reads a request body whose kernel name is resolved to a kernel that may run here."""

    def resolved(self, name: Any) -> Any:
        """Return the kernelspec to start for ``name``; refuse one that may not run (400)."""
        resolve = getattr(self.kernel_spec_manager, "resolve", None)
        if not isinstance(name, str) or resolve is None:
            return name
        try:
            return resolve(name)
        except KernelRefused as e:
            raise web.HTTPError(400, str(e)) from e


class KernelsHandler(_ResolvesKernelNames, MainKernelHandler):
    """Jupyter's GET/POST /api/kernels; a kernel that may not run is a 400 that says why."""

    def get_json_body(self) -> dict[str, Any] | None:
        """Return the request's model, its kernel name resolved."""
        model = super().get_json_body()
        if isinstance(model, dict) and "name" in model:
            model["name"] = self.resolved(model["name"])
        return model

    @web.authenticated
    @requires("kernels:use")
    async def post(self) -> None:
        """Start a kernel; say plainly when the sandbox cannot (503)."""
        try:
            await ensure_async(super().post())
        except SandboxUnavailable as e:
            raise web.HTTPError(503, str(e)) from e


class SessionsHandler(_ResolvesKernelNames, SessionRootHandler):
    """Jupyter's GET/POST /api/sessions; a kernel that may not run is a 400 that says why."""

    def get_json_body(self) -> dict[str, Any] | None:
        """Return the request's model, its kernel name resolved."""
        model = super().get_json_body()
        kernel = model.get("kernel") if isinstance(model, dict) else None
        if isinstance(kernel, dict) and kernel.get("name") and not kernel.get("id"):
            kernel["name"] = self.resolved(kernel["name"])
        return model


class OneSessionHandler(_ResolvesKernelNames, SessionHandler):
    """Jupyter's /api/sessions/<id>; changing to a kernel that may not run is a 400."""

    def get_json_body(self) -> dict[str, Any] | None:
        """Return the request's model, its kernel name resolved."""
        model = super().get_json_body()
        kernel = model.get("kernel") if isinstance(model, dict) else None
        if isinstance(kernel, dict) and kernel.get("name") and kernel.get("id") is None:
            kernel["name"] = self.resolved(kernel["name"])
        return model


class KernelRestartHandler(KernelActionHandler):
    """Jupyter's interrupt and restart.

    Restarting an unsandboxed kernel that may no longer run (auto mode, the engine back) is a
    400 that says what to do.
    """

    @web.authenticated
    @requires("kernels:use")
    async def post(self, kernel_id: str, action: str) -> None:
        """Interrupt or restart a kernel."""
        if kernel_id not in self.kernel_manager:
            raise web.HTTPError(404, f"No kernel {kernel_id}")
        if action == "restart":
            problem = restart_refusal(self.kernel_manager.get_kernel(kernel_id))
            if problem is not None:
                raise web.HTTPError(400, problem)
        await ensure_async(super().post(kernel_id, action))


default_handlers: list[tuple[str, type[web.RequestHandler], dict[str, Any]]] = [
    (r"/ide/api/sandbox", SandboxHandler, {}),
    (r"/ide/api/kernels/(?P<kernel_id>[\w-]+)/sandbox", KernelSandboxHandler, {}),
    # Ahead of Jupyter's own routes (extension routes are matched first).
    (r"/api/kernels", KernelsHandler, {}),
    (
        rf"/api/kernels/(?P<kernel_id>{UUID})/(?P<action>restart|interrupt)",
        KernelRestartHandler,
        {},
    ),
    (r"/api/sessions", SessionsHandler, {}),
    (rf"/api/sessions/(?P<session_id>{UUID})", OneSessionHandler, {}),
]
