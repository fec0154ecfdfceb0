"""HTTP for the sandbox: its limits and state, and why a kernel last died."""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..auth import requires
from .pool import WarmPool
from .sandbox import SandboxManager

AUTH_RESOURCE = "ide"


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


default_handlers: list[tuple[str, type[web.RequestHandler], dict[str, Any]]] = [
    (r"/ide/api/sandbox", SandboxHandler, {}),
    (r"/ide/api/kernels/(?P<kernel_id>[\w-]+)/sandbox", KernelSandboxHandler, {}),
]
