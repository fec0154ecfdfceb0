"""SandboxManager: the server's Docker engine, sandbox settings, identity and kernel records."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import docker
from docker.errors import DockerException, NotFound
from redis.exceptions import RedisError
from traitlets import Bool, Dict, Float, Int, Unicode, default
from traitlets.config import SingletonConfigurable

from ..server_extension.settings import data_dir
from .instances import InstanceLocks, stable_id
from .liveness import Heartbeat
from .profile import (
    LABEL_INSTANCE,
    LABEL_KIND,
    LABEL_LIVENESS,
    LABEL_OWNER,
    LABEL_SERVER,
    SandboxLimits,
)
from .reaper import Reaper
from .sockets import KernelSockets, UnsafeSocketFolder, ensure_private_dir, fits_socket_paths

if TYPE_CHECKING:
    from .handoff import HandOffMounts

MIB = 1024 * 1024
AfterRun = Callable[[], Awaitable[None]]


@dataclass
class KernelRecord:
    """What the server knows of one sandboxed kernel: its container and how it last ended."""

    kernel_id: str
    language: str
    image: str
    limits: SandboxLimits
    sandboxed: bool
    container_id: str | None = None
    last_exit: dict[str, Any] | None = None
    exits: int = 0
    started_at: float = field(default_factory=time.time)
    owner: str = ""


class SandboxUnavailable(RuntimeError):
    """Sandboxing is required but no Docker engine answers."""


class UserWorkspaces(Protocol):
    """Each user's workspace folder, in a server that runs kernels for many users."""

    async def open(self, owner: str) -> Path:
        """Open ``owner``'s workspace (materialised, claimed) and return its folder."""

    def after_run(self, owner: str) -> AfterRun:
        """Return what pulls the changes code made in ``owner``'s folder into their files."""


class SandboxManager(SingletonConfigurable):
    """One per server: the engine client, the limits policy and the records of kernels."""

    default_limits = Dict(
        help="Default sandbox limits (SandboxLimits fields, e.g. {'memory_bytes': 536870912, "
        "'cpus': 1, 'time_limit': 30}); a kernelspec may ask for others up to the maximum.",
    ).tag(config=True)

    max_limits = Dict(
        help="The admin's maximum for each sandbox limit; kernelspecs are capped to it.",
    ).tag(config=True)

    runtime = Unicode(
        "",
        help="OCI runtime for sandbox containers (e.g. 'runsc' for gVisor); empty = the "
        "engine's default. Env: JUPYTER_IDE_SANDBOX_RUNTIME.",
    ).tag(config=True)

    pool_size = Int(
        1,
        help="Warm kernels kept ready per kernelspec (0 disables the pool).",
    ).tag(config=True)

    pool_specs = Dict(
        help="Pool size per kernelspec name, overriding pool_size (e.g. {'ide-python': 2}).",
    ).tag(config=True)

    pool_refill_delay = Float(
        1.0, help="Seconds before a handed-out warm kernel is replaced (it starts unhurried)."
    ).tag(config=True)

    time_limit_grace = Float(
        3.0,
        help="Seconds after the interrupt at the time limit before the kernel is killed.",
    ).tag(config=True)

    ipc_root = Unicode(
        "",
        help="Host folder for the per-kernel ZMQ socket folders; made 0700 when missing and "
        "refused unless it is this user's own, 0700, not a link. Empty: 'sockets' in the data "
        "dir, or a fresh private folder in the temp dir when the data dir is too deep for "
        "socket paths (about 107 bytes).",
    ).tag(config=True)

    sweep_orphans = Bool(
        True, help="At start-up, remove containers and socket folders left by a crashed run."
    ).tag(config=True)

    heartbeat_interval = Float(
        5.0,
        help="With Redis: seconds between refreshes of this run's heartbeat key, which tells "
        "every replica this run's sandboxes are in use.",
    ).tag(config=True)

    heartbeat_ttl = Float(
        20.0,
        help="With Redis: seconds a heartbeat key lives unrefreshed; once it is gone, any live "
        "replica removes the run's sandboxes. At least twice heartbeat_interval (checked at "
        "start-up).",
    ).tag(config=True)

    reap_interval = Float(
        10.0,
        help="With Redis: seconds between passes that remove the sandboxes (kernels, warm "
        "boxes, judge boxes, terminals) of runs whose heartbeat is gone.",
    ).tag(config=True)

    @default("runtime")
    def _default_runtime(self) -> str:
        return os.environ.get("JUPYTER_IDE_SANDBOX_RUNTIME", "").strip()

    def __init__(self, mode: str = "auto", owner: str = "", **kwargs: Any) -> None:
        """Set the sandbox mode (IDESettings.sandbox) and this run's identity."""
        super().__init__(**kwargs)
        self.mode = mode
        self.owner = owner
        self.after_run: Callable[[], Awaitable[None]] | None = None
        self.server_id = stable_id(data_dir() / "server_id")
        self.instance_id = uuid.uuid4().hex[:12]
        self.instances = InstanceLocks(data_dir() / "instances", self.instance_id)
        self.kernels: dict[str, KernelRecord] = {}
        self.live_socket_dirs: set[Path] = set()
        self._socket_root: Path | None = None
        # Kernels start in threads at once (the warm pool): one of them makes the folder.
        self._socket_root_lock = threading.Lock()
        self.workspace_dir: Callable[[], Path] = Path.cwd
        # Opens the workspace (its folder materialised, its volume mounted) before a kernel
        # mounts it: a folder mounted earlier could be covered or moved aside afterwards.
        self.workspace_opener: Callable[[], Awaitable[None]] | None = None
        # Many users (the jupyter-ide service): who owns each kernel, where their workspaces
        # are, and how warm kernels are handed to them. None: this server's one user.
        self.kernel_owner: Callable[[str], str | None] | None = None
        self.user_workspaces: UserWorkspaces | None = None
        self.handoff: HandOffMounts | None = None
        # With Redis: this run's heartbeat and the reaper of dead runs' boxes (liveness.py).
        self.heartbeat: Heartbeat | None = None
        self.reaper: Reaper | None = None
        self._client: docker.DockerClient | None = None
        self._engine_checked_at = 0.0
        self._engine_ok = False

    @property
    def multi_user(self) -> bool:
        """Whether kernels belong to many users, each with their own workspace."""
        return self.user_workspaces is not None

    def owner_of(self, kernel_id: str) -> str:
        """Return the user a kernel runs for; with many users, refuse a kernel of nobody."""
        if self.kernel_owner is None:
            return self.owner
        owner = self.kernel_owner(kernel_id)
        if not owner:
            raise SandboxUnavailable(
                f"Kernel {kernel_id} belongs to no user of this service, so it has no workspace "
                "to run in: start kernels through the service's /api/kernels."
            )
        return owner

    async def open_workspace(self, owner: str = "") -> Path:
        """Open a user's workspace and return its folder, ready to mount into kernels.

        With many users ``owner`` picks the workspace, and is required.
        """
        if self.user_workspaces is not None:
            if not owner:
                raise SandboxUnavailable("A kernel of this service needs its user's workspace.")
            return await self.user_workspaces.open(owner)
        if self.workspace_opener is not None:
            await self.workspace_opener()
        return self.workspace_dir()

    def after_run_of(self, owner: str = "") -> AfterRun | None:
        """Return what syncs a user's folder after code ran there (None: nothing to sync)."""
        if self.user_workspaces is not None:
            return self.user_workspaces.after_run(owner) if owner else None
        return self.after_run

    # -- limits -------------------------------------------------------------------------

    def maximum(self) -> SandboxLimits:
        """Return the admin's maximum limits (unset fields: generous defaults)."""
        ceiling = SandboxLimits(
            cpus=4.0,
            memory_bytes=4096 * MIB,
            pids=1024,
            tmp_bytes=1024 * MIB,
            shm_bytes=512 * MIB,
            home_bytes=256 * MIB,
            nofile=4096,
            fsize_bytes=1024 * MIB,
            time_limit=600.0,
            output_bytes=64 * MIB,
            output_rate=16 * MIB,
        )
        return ceiling.with_overrides(self.max_limits)

    def limits_for(self, requested: dict[str, Any]) -> SandboxLimits:
        """Server defaults, then a kernelspec's request, capped by the admin's maximum."""
        limits = SandboxLimits().with_overrides(self.default_limits).with_overrides(requested)
        limits = limits.capped(self.maximum())
        if self.runtime:
            limits = limits.with_overrides({"runtime": self.runtime})
        return limits

    # -- engine -------------------------------------------------------------------------

    @property
    def client(self) -> docker.DockerClient:
        """The Docker engine client (DOCKER_HOST or the local socket)."""
        if self._client is None:
            self._client = docker.from_env(timeout=60)
        return self._client

    def close_client(self) -> None:
        """Close the engine client's connections (a later use opens new ones)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def engine_answers(self, max_age: float = 5.0) -> bool:
        """Whether the engine answered a ping in the last ``max_age`` seconds."""
        now = time.monotonic()
        if now - self._engine_checked_at > max_age:
            try:
                self._engine_ok = bool(self.client.ping())
            except (DockerException, OSError):
                self._engine_ok = False
                self.close_client()
            self._engine_checked_at = now
        return self._engine_ok

    def effective_mode(self) -> str:
        """'docker' or 'local' for the next kernel; raise when docker is required but absent."""
        if self.mode == "local":
            return "local"
        if self.engine_answers():
            return "docker"
        if self.mode == "docker":
            raise SandboxUnavailable(
                "Kernels must run in a Docker sandbox (JUPYTER_IDE_SANDBOX=docker) but no "
                "Docker engine answers: start dockerd (scripts/services.sh docker) or set "
                "DOCKER_HOST."
            )
        return "local"

    def sandbox_required(self) -> bool:
        """Whether kernels must run sandboxed now: docker mode, or auto while the engine answers."""
        if self.mode == "local":
            return False
        return self.mode == "docker" or self.engine_answers()

    def labels(self, kind: str, owner: str | None = None) -> dict[str, str]:
        """Labels that tie a container to this server, this run and its user.

        ``owner`` defaults to the server's user; a warm kernel of many users has none yet.
        """
        self.instances.hold()  # a container of a live run is never swept by another
        labels = {
            LABEL_KIND: kind,
            LABEL_SERVER: self.server_id,
            LABEL_INSTANCE: self.instance_id,
            LABEL_OWNER: self.owner if owner is None else owner,
        }
        if self.heartbeat is not None and self.heartbeat.beating:
            labels[LABEL_LIVENESS] = self.heartbeat.namespace  # any replica may reap it
        return labels

    # -- liveness shared by replicas (Redis) --------------------------------------------

    def share_liveness(self, redis_url: str) -> bool:
        """Beat in Redis and reap the boxes of dead runs of it; False when Redis is down.

        Without it (no Redis, or Redis down at start-up) only the lock files of this data
        dir tell live runs from dead ones.
        """
        heartbeat = Heartbeat(
            redis_url,
            self.instance_id,
            self.server_id,
            ttl=self.heartbeat_ttl,
            interval=self.heartbeat_interval,
        )
        try:
            heartbeat.start()  # before any container is labelled with its namespace
        except RedisError as e:
            heartbeat.stop()
            self.log.warning(
                "Redis did not answer (%s): other replicas will not reap this run's sandboxes "
                "if it dies, nor this one theirs",
                e,
            )
            return False
        self.heartbeat = heartbeat
        self.reaper = Reaper(heartbeat, interval=self.reap_interval)
        self.reaper.start()
        return True

    def stop_sharing_liveness(self) -> None:
        """Stop reaping and remove this run's heartbeat key."""
        reaper, self.reaper = self.reaper, None
        if reaper is not None:
            reaper.stop()
        heartbeat, self.heartbeat = self.heartbeat, None
        if heartbeat is not None:
            heartbeat.stop()

    # -- socket folders -----------------------------------------------------------------

    def _fallback_prefix(self) -> str:
        """Name prefix of this server's private folders in the temp dir (data dir too deep)."""
        return f"jide-{self.server_id[:8]}-"

    def socket_root(self) -> Path:
        """Return this server's private folder of per-kernel socket folders (made on demand)."""
        with self._socket_root_lock:
            return self._make_socket_root()

    def _make_socket_root(self) -> Path:
        """Return the folder of socket folders, making it first when there is none yet."""
        if self._socket_root is not None and self._socket_root.is_dir():
            return self._socket_root
        if self.ipc_root:
            # Servers may share the configured folder: each keeps to its own sub-folder.
            root = Path(self.ipc_root) / self.server_id[:8]
            if not fits_socket_paths(root):
                raise UnsafeSocketFolder(
                    f"c.SandboxManager.ipc_root ({self.ipc_root}) is too long for kernel socket "
                    "paths (about 107 bytes in all): pick a shorter folder."
                )
            ensure_private_dir(root.parent)
            self._socket_root = ensure_private_dir(root)
            return self._socket_root
        root = data_dir() / "sockets"
        if fits_socket_paths(root):
            self._socket_root = ensure_private_dir(root)
            return self._socket_root
        # mkdtemp: an unpredictable name, made 0700 by this process and no other.
        prefix = f"{self._fallback_prefix()}{self.instance_id}-"
        root = Path(tempfile.mkdtemp(prefix=prefix))
        if not fits_socket_paths(root):
            root.rmdir()
            raise UnsafeSocketFolder(
                f"The data dir ({data_dir()}) and the temp dir ({root.parent}) are both too "
                "deep for kernel socket paths: set c.SandboxManager.ipc_root to a short folder."
            )
        self.log.info("The data dir is too deep for socket paths; kernel sockets are in %s", root)
        self._socket_root = ensure_private_dir(root)
        return self._socket_root

    def new_kernel_sockets(self, key: bytes, signature_scheme: str) -> KernelSockets:
        """Make a fresh, private socket folder for one kernel."""
        self.instances.hold()
        folder = self.socket_root() / f"{self.instance_id}-{uuid.uuid4().hex[:8]}"
        sockets = KernelSockets.create(folder, key, signature_scheme)
        self.live_socket_dirs.add(folder)
        return sockets

    def release_kernel_sockets(self, sockets: KernelSockets) -> None:
        """Stop a kernel's channel proxies and delete its socket folder."""
        sockets.close()
        self.live_socket_dirs.discard(sockets.folder)
        shutil.rmtree(sockets.folder, ignore_errors=True)

    def release_socket_root(self) -> None:
        """Delete this run's own folder in the temp dir, if it needed one."""
        with self._socket_root_lock:
            root, self._socket_root = self._socket_root, None
        if root is not None and root.name.startswith(
            f"{self._fallback_prefix()}{self.instance_id}-"
        ):
            shutil.rmtree(root, ignore_errors=True)

    # -- start-up sweep -----------------------------------------------------------------

    def sweep(self) -> int:
        """Remove containers and socket folders that ended runs of this server left.

        Runs that share the data dir share the server id; one still running (its lock is
        held) keeps its containers and sockets.
        """
        if not self.sweep_orphans:
            return 0
        self.instances.hold()
        removed = 0
        if self.engine_answers(max_age=0):
            found = self.client.containers.list(
                all=True, filters={"label": f"{LABEL_SERVER}={self.server_id}"}
            )
            for container in found:
                if self.instances.alive(container.labels.get(LABEL_INSTANCE, "")):
                    continue
                try:
                    container.remove(force=True)
                    removed += 1
                except NotFound:
                    pass
        self._sweep_socket_folders()
        if removed:
            self.log.warning("Removed %d sandbox container(s) left by an earlier run", removed)
        return removed

    def _sweep_socket_folders(self) -> None:
        """Delete the socket folders of ended runs (and their folders in the temp dir).

        Nothing is made here: a server that never starts a kernel leaves no folder behind.
        """
        roots = [
            Path(self.ipc_root) / self.server_id[:8] if self.ipc_root else data_dir() / "sockets"
        ]
        prefix = self._fallback_prefix()
        roots += Path(tempfile.gettempdir()).glob(f"{prefix}*")
        for root in roots:
            if not _is_own_dir(root) or stat.S_IMODE(root.stat().st_mode) & 0o077:
                continue  # missing, or not ours: socket_root() says why when it is needed
            if root.name.startswith(prefix):  # a whole run's folder in the temp dir
                if not self.instances.alive(root.name[len(prefix) :].split("-", 1)[0]):
                    shutil.rmtree(root, ignore_errors=True)
                continue
            for child in root.iterdir():
                if _is_own_dir(child) and not self.instances.alive(child.name.split("-", 1)[0]):
                    shutil.rmtree(child, ignore_errors=True)

    async def asweep(self) -> int:
        """``sweep`` off the event loop."""
        return await asyncio.to_thread(self.sweep)

    def describe(self) -> dict[str, Any]:
        """Public state for the status bar and health."""
        limits = self.limits_for({})
        return {
            "mode": self.mode,
            "engine": self.engine_answers(),
            "runtime": limits.runtime or "runc",
            "limits": limits.describe(),
        }


def _is_own_dir(path: Path) -> bool:
    """Whether ``path`` is a real folder (not a link) of this process's user."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()
