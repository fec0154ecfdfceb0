"""HTTP for the service's kernels: what Jupyter's gateway client sends, answered per caller.

Jupyter's own kernel handlers serve the rest (get, delete, interrupt, restart, channels): they
reach the caller's kernels only (kernels.py). Registered ahead of the stock routes.
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_client.jsonutil import json_default
from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from jupyter_server.services.kernelspecs.handlers import KernelSpecHandler
from jupyter_server.utils import url_escape, url_path_join, url_unescape
from tornado import web

from ..auth import requires
from ..kernels.handlers import UUID, KernelRestartHandler, KernelsHandler, SessionsHandler
from ..kernels.policy import KernelRefused
from ..kernels.sandbox import SandboxUnavailable
from ..server_extension.handlers import HealthHandler
from ..server_extension.health import collect_health
from .kernels import WORKING_DIR, start_folder

KERNELS_STATE = "jupyter_ide_service_kernels"


class GatewayKernelsHandler(KernelsHandler):
    """GET/POST /api/kernels: the caller's kernels; a start as a gateway client sends it."""

    @web.authenticated
    @authorized
    @requires("kernels:use")
    async def get(self) -> None:
        """List the caller's kernels."""
        kernels = await ensure_async(self.kernel_manager.list_kernels())
        self.finish(json.dumps(kernels, default=json_default))

    @web.authenticated
    @authorized
    @requires("kernels:use")
    async def post(self) -> None:
        """Start a kernel for the caller: ``{"name", "path"?, "env"?}``; answer 201 and its model.

        The kernel's user, workspace, image and id come from the token and the kernelspec;
        of ``env`` only KERNEL_WORKING_DIR is read, as a folder of the workspace.
        """
        km: Any = self.kernel_manager  # the caller's kernels (kernels.CallerKernels)
        body = self.get_json_body()  # its name resolved to a sandboxed kernelspec, or a 400
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise web.HTTPError(400, "The body must be a JSON object: {name, path, env}")
        name = body.get("name") or km.default_kernel_name
        if not isinstance(name, str):
            raise web.HTTPError(400, "name must be the name of a kernelspec, such as ide-python")
        name = self.resolved(name)  # the default name too: only a sandboxed kernel starts
        env = body.get("env") or {}
        if not isinstance(env, dict):
            raise web.HTTPError(400, "env must be a JSON object of variable names and values")
        path = body.get("path")
        if path is not None and not isinstance(path, str):
            raise web.HTTPError(400, "path must be a folder of your workspace, such as lab1")
        ignored = sorted(str(key) for key in env if key != WORKING_DIR)
        if ignored:
            self.log.debug("Start body variables ignored: %s", ", ".join(ignored))
        try:
            kernel_id = await km.start_kernel(kernel_name=name, path=start_folder(path, env))
        except SandboxUnavailable as e:
            raise web.HTTPError(503, str(e)) from e
        model = await ensure_async(km.kernel_model(kernel_id))
        self.set_header(
            "Location", url_path_join(self.base_url, "api", "kernels", url_escape(kernel_id))
        )
        self.set_status(201)
        self.finish(json.dumps(model, default=json_default))


class GatewayKernelSpecHandler(KernelSpecHandler):
    """GET /api/kernelspecs/<name>: a name such as python3 answers with its sandboxed kernel."""

    @web.authenticated
    @authorized
    @requires("kernels:use")
    async def get(self, kernel_name: str) -> None:
        """Return the kernelspec that starts for ``kernel_name`` (404 when none may run)."""
        ksm: Any = self.kernel_spec_manager  # the IDE's: it maps python3 & co.
        try:
            name = ksm.resolve(url_unescape(kernel_name))
        except KernelRefused as e:
            raise web.HTTPError(404, str(e)) from e
        await ensure_async(super().get(url_escape(name)))


class ServiceKernelActionHandler(KernelRestartHandler):
    """POST /api/kernels/<id>/restart also restarts a kernel a restart of the service ended."""

    @web.authenticated
    @authorized
    @requires("kernels:use")
    async def post(self, kernel_id: str, action: str) -> None:
        """Restart a lost kernel anew under its id; otherwise as Jupyter interrupts, restarts."""
        km: Any = self.kernel_manager  # the caller's kernels (kernels.CallerKernels)
        if action == "restart" and kernel_id not in km and await km.is_lost(kernel_id):
            try:
                await km.restart_kernel(kernel_id)
            except SandboxUnavailable as e:
                raise web.HTTPError(503, str(e)) from e
            model = await ensure_async(km.kernel_model(kernel_id))
            self.finish(json.dumps(model, default=json_default))
            return
        await ensure_async(super().post(kernel_id, action))


class ServiceSessionsHandler(SessionsHandler):
    """POST /api/sessions: a start the service refuses keeps its status (429, 503), not a 500."""

    @web.authenticated
    @authorized
    @requires("kernels:use")
    async def post(self) -> None:
        """Create a session of the caller's; Jupyter turns every failed start into a 500."""
        try:
            await ensure_async(super().post())
        except web.HTTPError as e:
            cause = e.__cause__
            if e.status_code == 500 and isinstance(cause, SandboxUnavailable):
                raise web.HTTPError(503, str(cause)) from cause
            if e.status_code == 500 and isinstance(cause, web.HTTPError):
                raise cause from None  # the per-user limit (429) and the like, as they were
            raise


class ServiceHealthHandler(HealthHandler):
    """GET /ide/api/health in the service: each subsystem, and how kernels start."""

    @web.authenticated
    @requires("health:read")
    async def get(self) -> None:
        """Return each subsystem's state as JSON, kernels (warm pool or cold) included."""
        health: dict[str, Any] = await collect_health(
            self.settings["jupyter_ide_settings"],
            self.settings["jupyter_ide_db"],
            self.settings["jupyter_ide_cache"],
        )
        state = self.settings.get(KERNELS_STATE)
        if state is not None:
            health["subsystems"]["kernels"] = dict(state)
        self.finish(json.dumps(health))


default_handlers: list[tuple[str, type[web.RequestHandler], dict[str, Any]]] = [
    (r"/api/kernels", GatewayKernelsHandler, {}),
    (r"/api/kernelspecs/(?P<kernel_name>[\w\.\-%]+)", GatewayKernelSpecHandler, {}),
    (
        rf"/api/kernels/(?P<kernel_id>{UUID})/(?P<action>restart|interrupt)",
        ServiceKernelActionHandler,
        {},
    ),
    (r"/api/sessions", ServiceSessionsHandler, {}),
    (r"/ide/api/health", ServiceHealthHandler, {}),
]
