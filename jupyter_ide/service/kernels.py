"""Kernels for every hub user, through Jupyter's kernel gateway protocol.

User servers set ``c.GatewayClient.url`` to the service and sign each call with their own hub
token; the service answers Jupyter's kernel API (``/api/kernels``, ``/api/kernels/<id>``,
``/interrupt``, ``/restart``, ``/channels``) and starts each kernel in a sandbox with the
caller's workspace at /workspace. A kernel belongs to whoever started it, as the token says:
nothing a client sends (``KERNEL_USERNAME``, ``KERNEL_VOLUMES``, ``KERNEL_UID``,
``KERNEL_IMAGE``, ...) names a user, a folder, an image or an id.

Handlers reach the kernel manager through the web app's settings; in the service that lookup
answers with ``CallerKernels``, a view holding only the caller's kernels (others are 404, as if
they did not exist), so Jupyter's own handlers and jupyter-ide's work unchanged. The server's
manager itself (``ServiceKernelManager``) records who owns each kernel and how many a user
may run.
"""

from __future__ import annotations

import asyncio
import posixpath
import uuid
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from jupyter_core.utils import ensure_async
from redis.exceptions import RedisError
from tornado import web
from traitlets import Int

from ..kernels.containers import WORKSPACE_INSIDE
from ..kernels.culling import ClientActivityCulling
from ..kernels.handoff import HandOffMounts
from ..kernels.sandbox import AfterRun, SandboxManager
from ..server_extension.settings import data_dir
from .caller import CALLER
from .kernel_records import KernelRecord, KernelRecords

if TYPE_CHECKING:
    from .contents import UserContentsManagers

# Of the variables a gateway client sends in a start body, the one read: the folder the kernel
# starts in, taken only as a folder of the workspace as the kernel sees it (/workspace/...).
WORKING_DIR = "KERNEL_WORKING_DIR"


def _not_found(kernel_id: str) -> web.HTTPError:
    """Jupyter's own answer for a kernel id it does not know."""
    return web.HTTPError(404, f"Kernel does not exist: {kernel_id}")


def _elsewhere(record: KernelRecord) -> web.HTTPError:
    """Return the answer for a kernel that another live replica of the service holds."""
    return web.HTTPError(
        421,
        f"Kernel {record.kernel_id} runs on another replica of the jupyter-ide service "
        f"(run {record.replica}); the load balancer sends each user's kernel calls to one "
        "replica, so call it again through it (its affinity rule is in the README).",
    )


class ServiceKernelManager(ClientActivityCulling):
    """Jupyter's kernel manager, with an owner for each kernel and a limit per user.

    Idle kernels are culled by what their clients do, never by what they print (culling.py).
    """

    max_kernels_per_user = Int(
        4,
        help="Kernels one user may run at once in the jupyter-ide service (each is a "
        "sandbox container); a start past it is refused with a 429 that says so. 0: no limit.",
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        """Start with no kernels and nobody's workspaces (the service sets them)."""
        super().__init__(**kwargs)
        self.owners: dict[str, str] = {}
        self.workspaces: ServiceWorkspaces | None = None
        # Kept in the database, so that a restart of the service shows kernels dead, not gone.
        self.records: KernelRecords | None = None
        # This replica's run, and which runs of the given ones are alive (shared liveness):
        # a record of another live replica's kernel is that replica's, not a dead kernel.
        self.replica = ""
        self.replicas_alive: Callable[[Iterable[str]], set[str]] | None = None

    def owner_of(self, kernel_id: str) -> str | None:
        """Return the hub user who started a kernel (None for an id nobody started)."""
        return self.owners.get(kernel_id)

    def kernels_of(self, owner: str) -> list[str]:
        """Return the ids of ``owner``'s kernels, those still starting included."""
        return [kid for kid, who in self.owners.items() if who == owner]

    def for_caller(self) -> CallerKernels:
        """Return the kernels of the signed-in caller (none outside a request)."""
        return CallerKernels(self, CALLER.get() or "")

    def for_user(self, owner: str) -> CallerKernels:
        """Return ``owner``'s kernels (for what acts on behalf of one user)."""
        return CallerKernels(self, owner)

    async def start_kernel_for(
        self,
        owner: str,
        kernel_name: str | None,
        folder: str,
        lost: KernelRecord | None = None,
    ) -> str:
        """Start a kernel for ``owner`` in ``folder`` (relative to their workspace); its id.

        The id is a fresh one, or that of ``lost``, the owner's kernel that a restart of the
        service ended; the owner is recorded before the start, so the provisioner mounts that
        user's workspace and nobody else's.
        """
        if not owner:
            raise web.HTTPError(403, "Sign in first")
        # Other live replicas' kernels of this owner count too (their records are shared; two
        # starts on two replicas at the same instant could still pass together).
        elsewhere = await self._running_elsewhere(owner)
        running = len(self.kernels_of(owner)) + elsewhere
        if 0 < self.max_kernels_per_user <= running:
            raise web.HTTPError(
                429,
                f"You already run {running} kernels, the most one person may run at once "
                f"here ({self.max_kernels_per_user}): shut one down before starting another.",
            )
        # Counted from here on: starts on this replica at the same time cannot pass together.
        kernel_id = lost.kernel_id if lost is not None else str(uuid.uuid4())
        if kernel_id in self.owners:
            raise web.HTTPError(409, f"Kernel {kernel_id} is already being started")
        self.owners[kernel_id] = owner
        try:
            if self.workspaces is None:
                raise web.HTTPError(503, "The jupyter-ide service has no workspaces set up yet.")
            workspace = await self.workspaces.open(owner)
            cwd = await asyncio.to_thread(folder_in, workspace, folder)
            started: str = await super().start_kernel(
                kernel_id=kernel_id, kernel_name=kernel_name, cwd=str(cwd)
            )
        except BaseException:
            self.owners.pop(kernel_id, None)
            if kernel_id in self._kernels:  # it got as far as the mapping: take it out
                await self._forget(kernel_id)
            raise
        if self.records is not None:
            name = str(self.get_kernel(started).kernel_name)
            await self.records.add(started, owner, name, folder, self.replica)
        self.log.info("Kernel %s (%s) started for %s", started, kernel_name, owner)
        return started

    async def shutdown_kernel(  # type: ignore[override]
        self, kernel_id: str, now: bool = False, restart: bool = False
    ) -> None:
        """Shut a kernel down as its owner (or the culler) asked: its record goes too.

        The service's own stop (``shutdown_all``) keeps the records: its users' kernels are
        then shown dead, and can be restarted, once it runs again.
        """
        await super().shutdown_kernel(kernel_id, now=now, restart=restart)  # type: ignore[no-untyped-call]
        if not restart and self.records is not None:
            await self.records.remove(kernel_id)

    async def lost_kernel(self, owner: str, kernel_id: str) -> KernelRecord | None:
        """Return ``owner``'s record of ``kernel_id`` when that kernel is not running.

        A kernel another live replica holds is not lost: asking for it is a 421.
        """
        if self.records is None or kernel_id in self._kernels or kernel_id in self.owners:
            return None
        record = await self.records.get(kernel_id)
        if record is None or record.owner != owner:
            return None
        if await self._held_elsewhere([record]):
            raise _elsewhere(record)
        return record

    async def lost_kernels(self, owner: str) -> list[KernelRecord]:
        """Return ``owner``'s recorded kernels that no live replica runs (their run ended)."""
        if self.records is None or not owner:
            return []
        records = [
            record
            for record in await self.records.of(owner)
            if record.kernel_id not in self._kernels and record.kernel_id not in self.owners
        ]
        elsewhere = await self._held_elsewhere(records)
        return [record for record in records if record.replica not in elsewhere]

    async def _running_elsewhere(self, owner: str) -> int:
        """Return how many of ``owner``'s kernels other live replicas run (from the records)."""
        if self.records is None or self.replicas_alive is None or self.max_kernels_per_user <= 0:
            return 0
        records = [
            record
            for record in await self.records.of(owner)
            if record.replica != self.replica and record.kernel_id not in self.owners
        ]
        alive = await self._held_elsewhere(records)
        return sum(1 for record in records if record.replica in alive)

    async def _held_elsewhere(self, records: list[KernelRecord]) -> set[str]:
        """Return the runs of other replicas, among those of ``records``, that are alive."""
        others = {r.replica for r in records if r.replica and r.replica != self.replica}
        if not others or self.replicas_alive is None:
            return set()
        return await asyncio.to_thread(self.replicas_alive, others)

    async def _forget(self, kernel_id: str) -> None:
        """Shut a kernel down that failed to start (its container, sockets), quietly."""
        try:
            await super().shutdown_kernel(kernel_id, now=True)  # type: ignore[no-untyped-call]
        except Exception as e:
            self.log.warning("Could not clean up kernel %s: %s", kernel_id, e)
            self.remove_kernel(kernel_id)

    def remove_kernel(self, kernel_id: str) -> Any:
        """Forget a kernel, and its owner with it."""
        km = super().remove_kernel(kernel_id)
        self.owners.pop(kernel_id, None)
        return km


class CallerKernels:
    """The service's kernels as one user sees them: only those they started.

    Deny by default: besides the kernel operations below, only a few plain settings of the
    manager are readable; anything else is an AttributeError, not another user's kernel.
    """

    SHARED = frozenset(
        {
            "default_kernel_name",
            "kernel_spec_manager",
            "last_kernel_activity",
            "kernel_info_timeout",
        }
    )

    def __init__(self, manager: ServiceKernelManager, owner: str) -> None:
        """View ``manager``'s kernels of ``owner`` ("" sees none)."""
        self._manager: Any = manager  # Jupyter's kernel manager methods are untyped
        self.owner = owner

    def __getattr__(self, name: str) -> Any:
        """Read a plain setting of the manager; refuse everything else."""
        if name in CallerKernels.SHARED:
            return getattr(self._manager, name)
        raise AttributeError(f"{name!r} is not served to a caller of the jupyter-ide service")

    def _check(self, kernel_id: str) -> str:
        """Return ``kernel_id`` when it is one of the owner's kernels; else Jupyter's 404."""
        if not self.owner or self._manager.owner_of(kernel_id) != self.owner:
            raise _not_found(kernel_id)
        return kernel_id

    def __contains__(self, kernel_id: object) -> bool:
        """Whether ``kernel_id`` is one of the owner's running kernels."""
        return (
            isinstance(kernel_id, str)
            and bool(self.owner)
            and self._manager.owner_of(kernel_id) == self.owner
            and kernel_id in self._manager
        )

    def __len__(self) -> int:
        """How many kernels the owner runs."""
        return len(self.list_kernel_ids())

    def list_kernel_ids(self) -> list[str]:
        """Return the ids of the owner's running kernels."""
        return [kid for kid in self._manager.list_kernel_ids() if kid in self]

    async def list_kernels(self) -> list[dict[str, Any]]:
        """Return Jupyter's model of each of the owner's kernels, dead ones included."""
        models = []
        for kernel_id in self.list_kernel_ids():
            try:
                models.append(self._manager.kernel_model(kernel_id))
            except (web.HTTPError, KeyError):
                continue  # gone since it was listed
        lost = await self._manager.lost_kernels(self.owner)
        return models + [record.dead_model() for record in lost]

    def get_kernel(self, kernel_id: str) -> Any:
        """Return the owner's kernel manager for ``kernel_id``."""
        if kernel_id not in self:
            raise _not_found(kernel_id)
        return self._manager.get_kernel(kernel_id)

    async def kernel_model(self, kernel_id: str) -> dict[str, Any]:
        """Return Jupyter's model of one of the owner's kernels (dead: what a restart ended)."""
        lost = await self._lost(kernel_id)
        if lost is not None:
            return lost.dead_model()
        model: dict[str, Any] = self._manager.kernel_model(self._check(kernel_id))
        return model

    async def is_lost(self, kernel_id: str) -> bool:
        """Whether ``kernel_id`` is the owner's kernel that a restart of the service ended."""
        return (await self._lost(kernel_id)) is not None

    async def _lost(self, kernel_id: str) -> KernelRecord | None:
        """Return the owner's record of ``kernel_id`` when a restart of the service ended it."""
        if not self.owner:
            return None
        lost: KernelRecord | None = await self._manager.lost_kernel(self.owner, kernel_id)
        return lost

    async def start_kernel(
        self, *, kernel_name: str | None = None, path: str | None = None, **ignored: Any
    ) -> str:
        """Start a kernel for the owner in the workspace folder ``path``.

        A client's ``kernel_id`` (which could name another user's kernel), ``env`` and the
        rest are ignored.
        """
        kernel_id: str = await self._manager.start_kernel_for(self.owner, kernel_name, path or "")
        return kernel_id

    async def shutdown_kernel(
        self, kernel_id: str, now: bool = False, restart: bool = False
    ) -> None:
        """Shut one of the owner's kernels down (a dead one: forget it)."""
        lost = await self._lost(kernel_id)
        if lost is not None and not restart:
            await self._manager.records.remove(kernel_id)
            return
        await self._manager.shutdown_kernel(self._check(kernel_id), now=now, restart=restart)

    async def interrupt_kernel(self, kernel_id: str) -> None:
        """Interrupt one of the owner's kernels."""
        await ensure_async(self._manager.interrupt_kernel(self._check(kernel_id)))

    async def restart_kernel(self, kernel_id: str, now: bool = False) -> Any:
        """Restart one of the owner's kernels (in their workspace again).

        A kernel a restart of the service ended starts anew under its id, in its folder.
        """
        lost = await self._lost(kernel_id)
        if lost is not None:
            await self._manager.start_kernel_for(self.owner, lost.kernel_name, lost.folder, lost)
            return None
        return await self._manager.restart_kernel(self._check(kernel_id), now=now)


class ServiceWorkspaces:
    """Each hub user's workspace folder, from their own contents manager (UserWorkspaces)."""

    def __init__(self, contents: UserContentsManagers, kernels: ServiceKernelManager) -> None:
        """Use the users' contents managers; their size caps stop their own kernels."""
        self.contents = contents
        self.kernels = kernels

    async def open(self, owner: str) -> Path:
        """Open ``owner``'s workspace (materialised, claimed, capped) and return its folder."""
        manager = self.contents.for_user(owner)
        # A folder grown past its cap (measured, not capped by a volume) stops their kernels.
        manager.volume.kernel_manager = self.kernels.for_user(owner)
        await manager.refresh_folder()  # with what other replicas saved since it was opened
        return manager.workspace_dir

    def after_run(self, owner: str) -> AfterRun:
        """Return what pulls the changes code made in ``owner``'s folder into their index."""
        sync: AfterRun = self.contents.for_user(owner).sync_from_disk
        return sync


def start_folder(path: Any, env: Any) -> str:
    """Return the workspace folder (relative, '/'-separated) a start body asks for.

    ``path`` is Jupyter's API path; a gateway client sends KERNEL_WORKING_DIR instead, read
    only as a folder the kernel sees (/workspace/...). Anything else is the workspace root.
    """
    if isinstance(path, str) and path.strip("/"):
        return _relative(path.strip("/"))
    working = env.get(WORKING_DIR) if isinstance(env, dict) else None
    if isinstance(working, str) and working:
        inside = PurePosixPath(posixpath.normpath(working))
        if inside.is_absolute():
            try:
                return _relative(str(inside.relative_to(WORKSPACE_INSIDE)))
            except ValueError:
                return ""  # the user server's own folders, /etc ...: not the workspace
        return _relative(working)
    return ""


def _relative(path: str) -> str:
    """Return ``path`` as a relative folder of the workspace ("" when it would leave it)."""
    parts = PurePosixPath(posixpath.normpath("/" + path)).parts[1:]
    if any(part in ("", ".", "..") for part in parts):
        return ""
    return "/".join(parts)


def folder_in(workspace: Path, folder: str) -> Path:
    """Return the host folder of ``folder`` in ``workspace``: the nearest one that exists.

    As Jupyter's ``cwd_for_path``, a folder that is missing walks up; a link that leads out of
    the workspace is the workspace itself (blocking: call off the loop).
    """
    root = workspace.resolve()
    candidate = workspace.joinpath(*[p for p in folder.split("/") if p])
    while True:
        resolved = candidate.resolve()
        if resolved == root:
            return workspace
        if not resolved.is_relative_to(root):
            return workspace
        if resolved.is_dir():
            return resolved
        candidate = candidate.parent


def setup_kernels(serverapp: Any, sandbox: SandboxManager) -> dict[str, str]:
    """Run the service's kernels for many users; return the warm pool's state for health.

    Each kernel mounts its owner's workspace; warm kernels are handed over by hand-off
    mounts where the service may mount (root), and otherwise every start is cold.
    """
    kernels = serverapp.kernel_manager
    contents = serverapp.contents_manager
    if not isinstance(kernels, ServiceKernelManager):
        raise SystemExit(
            "jupyter ide service cannot start: c.ServerApp.kernel_manager_class must be "
            f"{ServiceKernelManager.__module__}.ServiceKernelManager (each user's own kernels)"
        )
    workspaces = ServiceWorkspaces(contents, kernels)
    kernels.workspaces = workspaces
    kernels.records = KernelRecords(contents.db)
    kernels.replica = sandbox.instance_id
    kernels.replicas_alive = partial(_replicas_alive, sandbox)
    sandbox.mode = "docker"  # never a kernel outside a sandbox, next to the service's secrets
    sandbox.user_workspaces = workspaces
    sandbox.kernel_owner = kernels.owner_of
    handoff = HandOffMounts(data_dir() / "handoff", sandbox.instance_id, sandbox.instances.alive)
    reason = handoff.unavailable()
    if reason is None:
        sandbox.handoff = handoff
        return {
            "state": "ok",
            "detail": "warm pool on: a warm kernel is handed to whoever starts one (their "
            f"workspace is mounted into it); at most {kernels.max_kernels_per_user or 'any'} "
            "kernels per user",
        }
    serverapp.log.warning("Warm pool off: %s; kernels start cold", reason)
    return {
        "state": "off",
        "detail": f"warm pool off: {reason}; every kernel starts cold (a few hundred ms more)",
    }


def _replicas_alive(sandbox: SandboxManager, runs: Iterable[str]) -> set[str]:
    """Return the runs of ``runs`` alive: by their heartbeat in Redis, else their lock file.

    Blocking (Redis, files): call off the loop. Redis down: every run counts as alive, so a
    kernel is never called dead (and started twice) because liveness could not be read.
    """
    wanted = set(runs)
    wanted -= sandbox.instances.ended(wanted)  # this data dir's own crashed runs: surely dead
    heartbeat = sandbox.heartbeat
    if heartbeat is not None and heartbeat.beating:
        try:
            return heartbeat.alive(wanted)
        except RedisError as e:
            sandbox.log.warning("Could not read replicas' heartbeats from Redis: %s", e)
            return wanted
    return {run for run in wanted if sandbox.instances.alive(run)}
