"""Wire the sandbox into a running server: manager, start-up sweep, warm pool, workspace sync."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from tornado.ioloop import IOLoop

from .image_names import image_for
from .kernelspecs import LANGUAGES, sandbox_argv, spec_name
from .manager import CLASS_NAME, DEFAULT_CLASS
from .pool import PoolSpec, WarmPool
from .sandbox import SandboxManager

log = logging.getLogger(__name__)


def _workspace_dir(serverapp: Any) -> Path:
    """Return the folder mounted into the user's sandboxes: the contents manager's workspace."""
    workspace = getattr(serverapp.contents_manager, "workspace_dir", None)
    return Path(workspace or serverapp.root_dir).resolve()


def pool_specs(manager: SandboxManager) -> dict[str, PoolSpec]:
    """Return a pool spec for each ide-* kernelspec, with the server's default limits."""
    limits = manager.limits_for({})
    return {
        spec_name(lang.key): PoolSpec(
            spec_name(lang.key), image_for(lang.key), lang.key, sandbox_argv(lang.key), limits
        )
        for lang in LANGUAGES
    }


def start_sandbox(app: Any, mode: str, owner: str, redis_url: str = "") -> SandboxManager:
    """Create the server's SandboxManager; sweep orphans and fill the pool once the loop runs.

    With ``redis_url`` the run also beats in Redis and reaps the boxes of dead runs there.
    """
    SandboxManager.clear_instance()
    manager = SandboxManager.instance(parent=app, mode=mode, owner=owner)
    manager.instances.hold()  # from now on, no other run's sweep takes this run's containers
    if redis_url and mode != "local":
        manager.share_liveness(redis_url)  # before any container is labelled
    serverapp = app.serverapp
    manager.workspace_dir = lambda: _workspace_dir(serverapp)
    opener = getattr(serverapp.contents_manager, "ready", None)
    if opener is not None:
        manager.workspace_opener = opener
    sync = getattr(serverapp.contents_manager, "sync_from_disk", None)
    if sync is not None:
        manager.after_run = sync
    kernels = serverapp.kernel_manager
    if mode != "local" and "ide-python" in serverapp.kernel_spec_manager.find_kernel_specs():
        # New notebooks get the sandboxed Python, not the host's python3.
        kernels.default_kernel_name = "ide-python"
    if mode != "local" and getattr(kernels, "kernel_manager_class", None) == DEFAULT_CLASS:
        # Each kernel's manager refuses to start or restart unsandboxed while it must not.
        kernels.kernel_manager_class = CLASS_NAME
    IOLoop.current().add_callback(_start_pool, manager)
    return manager


async def _start_pool(manager: SandboxManager) -> None:
    """Sweep what a crashed run left, then start the warm pool when Docker is used."""
    try:
        if await asyncio.to_thread(manager.effective_mode) != "docker":
            return
    except RuntimeError as e:
        log.error("%s", e)
        return
    await manager.asweep()
    if manager.handoff is not None:  # after the containers that used them are gone
        await asyncio.to_thread(manager.handoff.sweep)
    WarmPool(manager, pool_specs(manager)).install()


async def stop_sandbox() -> None:
    """Remove the warm kernels, stop beating, close the engine client, give the lock up.

    Running kernels are shut down by the server itself afterwards; the client reconnects
    for them if it must.
    """
    pool = WarmPool.current()
    if pool is not None:
        await pool.close()
    if SandboxManager.initialized():
        manager = SandboxManager.instance()
        await asyncio.to_thread(manager.stop_sharing_liveness)
        manager.close_client()
        manager.release_socket_root()
        manager.instances.release()
