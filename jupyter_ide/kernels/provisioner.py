"""DockerSandboxProvisioner: each kernel in its own hardened container, over ZMQ ipc sockets."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path
from typing import Any

from docker.errors import DockerException, ImageNotFound
from docker.models.containers import Container
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning.local_provisioner import LocalProvisioner
from jupyter_client.provisioning.provisioner_base import KernelProvisionerBase
from traitlets import Dict, Unicode

from .cgroup import find_cgroup
from .containers import (
    KernelLaunch,
    container_state,
    exit_reason,
    path_inside,
    remove_container,
    signal_container,
    start_kernel_container,
)
from .pool import PooledKernel, WarmPool, release_hand_off
from .sandbox import KernelRecord, SandboxManager, SandboxUnavailable
from .sockets import (
    CONNECTION_INSIDE,
    PORTS,
    KernelSockets,
    UnsafeSocketFolder,
    scrub_once_answered,
)
from .watchdog import TimeLimitWatchdog

POLL_INTERVAL = 0.1
RUNNER_COMPILE_ALLOWANCE = 30.0
SOCKETS_POLL = 0.002
SOCKETS_TIMEOUT = 30.0
RUNNING_STATES = ("created", "running", "restarting", "paused")


def local_argv(language: str) -> list[str]:
    """Return the unsandboxed command for a language: the launchers of the images, on the host.

    Python gets the same ipykernel launcher as its image (output capped in size and rate).
    """
    if language == "python":
        launcher = "jupyter_ide.kernels.runner.ipython"
        return [sys.executable, "-m", launcher, "-f", "{connection_file}"]
    return [
        sys.executable,
        "-m",
        "jupyter_ide.kernels.runner",
        "--language",
        language,
        "-f",
        "{connection_file}",
    ]


def chdir_code(language: str, path: str) -> str:
    """Return the silent cell that moves a warm kernel to the folder it was asked for."""
    if language == "python":
        return f"__import__('os').chdir({path!r})"
    return f"%cd {path}"


class DockerSandboxProvisioner(LocalProvisioner):
    """Start the kernel in a Docker sandbox (or, where allowed, locally with a warning)."""

    image = Unicode(help="The sandbox image of this kernelspec.").tag(config=True)
    language = Unicode("python", help="The kernel's language (picks the runner).").tag(config=True)
    limits = Dict(help="Sandbox limits this kernelspec asks for (capped by the admin).").tag(
        config=True
    )

    def __init__(self, **kwargs: Any) -> None:
        """Start with no container."""
        super().__init__(**kwargs)
        self.container: Container | None = None
        self.sockets: KernelSockets | None = None
        self.workspace: Path | None = None
        self._scrub: asyncio.Task[None] | None = None
        self.record: KernelRecord | None = None
        self.watchdog: TimeLimitWatchdog | None = None
        self.sandboxed = True
        self._adopted: PooledKernel | None = None
        self._exit_noted = False
        self.owner = ""

    @property
    def km(self) -> Any:
        """The kernel manager this provisioner serves."""
        return self.parent

    @property
    def manager(self) -> SandboxManager:
        """The server's sandbox manager."""
        return SandboxManager.instance()

    @property
    def has_process(self) -> bool:
        """Whether a kernel (container or local process) was started."""
        if not self.sandboxed:
            return bool(super().has_process)
        return self.container is not None

    # -- start ---------------------------------------------------------------------------

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """Choose docker or local, prepare the socket folder and the connection file."""
        manager = self.manager
        known = manager.kernels.get(self.kernel_id)
        engine_up = known is None or await asyncio.to_thread(manager.engine_answers, 0)
        if known is not None and known.sandboxed and not engine_up:
            # A sandboxed kernel never comes back unsandboxed, whatever the mode.
            raise SandboxUnavailable(
                "The Docker engine does not answer, so this sandboxed kernel cannot restart "
                "yet: try again when the engine is back."
            )
        mode = await asyncio.to_thread(manager.effective_mode)
        self.sandboxed = mode == "docker"
        if not self.sandboxed and manager.multi_user:
            raise SandboxUnavailable(
                "This service runs code only in Docker sandboxes, and no Docker engine "
                "answers: try again when the engine is back."
            )
        km = self.km
        self.owner = manager.owner_of(self.kernel_id)
        limits = manager.limits_for(dict(self.limits))
        self.record = manager.kernels.setdefault(
            self.kernel_id,
            KernelRecord(
                self.kernel_id, self.language, self.image, limits, self.sandboxed, owner=self.owner
            ),
        )
        self.record.sandboxed = self.sandboxed
        if not self.sandboxed:
            self.log.warning(
                "Kernel %s runs WITHOUT a sandbox (JUPYTER_IDE_SANDBOX=%s, Docker engine %s)",
                self.kernel_id,
                manager.mode,
                "answers" if manager.engine_answers() else "not answering",
            )
            self.kernel_spec.argv = local_argv(self.language)
            # The admin's output and time limits hold on the host too (no memory or CPU caps).
            kwargs["env"] = {**(kwargs.get("env") or {}), **limits.kernel_env()}
            return dict(await super().pre_launch(**kwargs))
        kwargs.pop("extra_arguments", None)
        self.workspace = await manager.open_workspace(self.owner)
        # A restart keeps its sockets (clients stay connected to them): never a warm kernel.
        pooled = None if known is not None else await self._take_from_pool()
        if pooled is not None:
            self._adopted = pooled
            self.sockets = pooled.sockets
            km.load_connection_info(pooled.connection_info)
            km.connection_file = str(pooled.sockets.host_file)
            km._connection_file_written = True
            self.connection_info = km.get_connection_info()
            return dict(await KernelProvisionerBase.pre_launch(self, cmd=[], **kwargs))
        if self.sockets is None or not self.sockets.folder.exists():
            try:
                self.sockets = await asyncio.to_thread(
                    manager.new_kernel_sockets, km.session.key, km.session.signature_scheme
                )
            except UnsafeSocketFolder as e:
                raise SandboxUnavailable(str(e)) from e
            km.transport = "ipc"
            km.ip = self.sockets.host_ip
            for name, port in PORTS.items():
                setattr(km, name, port)
            km.connection_file = str(self.sockets.host_file)
        km.write_connection_file()
        # The kernel's own view (paths inside the container); a restart writes it anew.
        await asyncio.to_thread(self.sockets.prepare, km.kernel_name)
        self.connection_info = km.get_connection_info()
        # Not km.format_kernel_cmd(): it swaps "python" for the server's own interpreter.
        cmd = [arg.replace("{connection_file}", CONNECTION_INSIDE) for arg in self.kernel_spec.argv]
        return dict(await KernelProvisionerBase.pre_launch(self, cmd=cmd, **kwargs))

    async def _take_from_pool(self) -> PooledKernel | None:
        """Return a warm kernel for this kernelspec and workspace, if the pool has one."""
        pool = WarmPool.current()
        if pool is None or self.workspace is None:
            return None
        return await pool.hand_out(self.km.kernel_name, self.workspace)

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        """Start the kernel's container (or adopt a warm one) and return its connection."""
        if not self.sandboxed:
            return await super().launch_kernel(cmd, **kwargs)
        manager = self.manager
        assert self.record is not None and self.sockets is not None
        if self._adopted is not None:
            container = self._adopted.container
            self.container = container
            try:
                await self._move_to(kwargs.get("cwd"))
            finally:
                self._adopted.release_client()
        else:
            workspace = self.workspace or await manager.open_workspace(self.owner)
            launch = KernelLaunch(
                image=self.image,
                argv=cmd,
                limits=self.record.limits,
                sockets=self.sockets,
                workspace=workspace,
                cwd=Path(kwargs.get("cwd") or workspace),
                env=kwargs.get("env") or {},
                kernel_id=self.kernel_id,
                owner=self.owner if manager.multi_user else None,
            )
            try:
                container = await asyncio.to_thread(start_kernel_container, manager, launch)
            except ImageNotFound as e:
                raise SandboxUnavailable(
                    f"The sandbox image {self.image} is missing: build it with "
                    "`jupyter ide images build --offline`."
                ) from e
            self.container = container
            await self._sockets_bound(container)
            self._scrub = asyncio.ensure_future(scrub_once_answered(self.sockets))
        self.record.container_id = container.id
        self._exit_noted = False
        self.pid = None
        self._start_watchdog()
        return self.connection_info

    async def _sockets_bound(self, container: Container) -> None:
        """Wait (briefly) until the kernel has bound its sockets, so clients connect at once.

        Clients connecting earlier are not lost, but ZMQ retries only every 100 ms.
        """
        assert self.sockets is not None
        paths = self.sockets.kernel_paths()
        deadline = time.monotonic() + SOCKETS_TIMEOUT
        checked = time.monotonic()
        while not all(p.exists() for p in paths) and time.monotonic() < deadline:
            await asyncio.sleep(SOCKETS_POLL)
            if time.monotonic() - checked > 0.5:
                checked = time.monotonic()
                state = await asyncio.to_thread(container_state, container)
                if state.get("Status") not in RUNNING_STATES:
                    return  # it died: poll() reports why

    async def _move_to(self, cwd: str | None) -> None:
        """Move a warm kernel into the folder the kernel was started for.

        A handed-over kernel always moves: it started in the empty folder its user's
        workspace now covers.
        """
        adopted = self._adopted
        if adopted is None:
            return
        root = path_inside(adopted.workspace, adopted.workspace)
        inside = path_inside(Path(cwd), adopted.workspace) if cwd else root
        if inside != root or adopted.mount_point is not None:
            await adopted.run_silently(chdir_code(self.language, inside))

    def _start_watchdog(self) -> None:
        """Watch the time limit of each run from the server's side."""
        assert self.record is not None
        assert self.sockets is not None and self.sockets.capture_url is not None
        limit = self.record.limits.time_limit
        if self.language != "python":
            # The runner enforces each program's limit itself (waits for input excluded);
            # this is the backstop for a runner that no longer answers, compiling included.
            limit = limit * 2 + RUNNER_COMPILE_ALLOWANCE
        cgroup = find_cgroup(self.container.id) if self.container is not None else None
        self.watchdog = TimeLimitWatchdog(
            self.sockets.capture_url,
            limit,
            self.manager.time_limit_grace,
            interrupt=lambda: self.send_signal(signal.SIGINT),
            kill=lambda: self.send_signal(signal.SIGKILL),
            after_run=self.manager.after_run_of(self.owner),
            cpu_seconds=cgroup.cpu_seconds if cgroup is not None else None,
        )
        self.watchdog.start()

    # -- process -------------------------------------------------------------------------

    async def poll(self) -> int | None:
        """None while the kernel runs, else its exit code (recording why it stopped)."""
        if not self.sandboxed:
            return await super().poll()
        if self.container is None:
            return 0
        try:
            state = await asyncio.to_thread(container_state, self.container)
        except (DockerException, OSError) as e:
            self._note_exit({}, f"lost: the Docker engine does not answer ({e.__class__.__name__})")
            return 1
        if state.get("Status") in RUNNING_STATES and state.get("Running", True):
            return None
        killed_for = self.watchdog.fired if self.watchdog else None
        self._note_exit(state, exit_reason(state, killed_for))
        return int(state.get("ExitCode", 1)) if state else 1

    async def shutdown_requested(self, restart: bool = False) -> None:
        """Note that a shutdown or restart was asked for: its end is not a death."""
        self._exit_noted = True
        await super().shutdown_requested(restart)

    def _note_exit(self, state: dict[str, Any], reason: str) -> None:
        """Keep the first reason seen for this container's end (kept across restarts)."""
        if self.record is None or self._exit_noted:
            return
        self._exit_noted = True
        self.record.exits += 1
        self.record.last_exit = {
            "reason": reason,
            "exit_code": state.get("ExitCode"),
            "oom_killed": bool(state.get("OOMKilled")),
        }
        self.log.warning("Kernel %s died: %s", self.kernel_id, reason)

    async def wait(self) -> int | None:
        """Wait for the kernel to stop."""
        if not self.sandboxed:
            return await super().wait()
        while True:
            status = await self.poll()
            if status is not None:
                return status
            await asyncio.sleep(POLL_INTERVAL)

    async def send_signal(self, signum: int) -> None:
        """Signal the kernel process (interrupt is SIGINT)."""
        if not self.sandboxed:
            await super().send_signal(signum)
            return
        if self.container is not None:
            await asyncio.to_thread(signal_container, self.container, signum)

    async def kill(self, restart: bool = False) -> None:
        """Kill the kernel and everything it started."""
        if not self.sandboxed:
            await super().kill(restart)
            return
        self._exit_noted = True  # asked for by the kernel manager: not a death
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        """Ask the kernel to stop."""
        if not self.sandboxed:
            await super().terminate(restart)
            return
        await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart: bool = False) -> None:
        """Remove the container; on a real shutdown, also the socket folder and record."""
        if not self.sandboxed:
            await super().cleanup(restart)
            return
        if self.watchdog is not None:
            await self.watchdog.stop()
            self.watchdog = None
        if self._scrub is not None:
            self._scrub.cancel()
            self._scrub = None
        if self.container is not None:
            await self.poll()
            await asyncio.to_thread(remove_container, self.container)
            self.container = None
        adopted, self._adopted = self._adopted, None
        if adopted is not None:
            # Its user's workspace leaves the hand-off folder once the container is gone.
            await release_hand_off(self.manager, adopted)
        if not restart:
            if self.sockets is not None:
                await asyncio.to_thread(self.manager.release_kernel_sockets, self.sockets)
                self.sockets = None
            self.manager.kernels.pop(self.kernel_id, None)
            after_run = self.manager.after_run_of(self.owner)
            if after_run is not None:
                try:
                    await after_run()
                except Exception as e:  # a failed sync must not fail the shutdown
                    # The scan that follows (timer, next save) picks the changes up.
                    self.log.warning("Kernel %s: last workspace sync failed: %s", self.kernel_id, e)

    async def get_provisioner_info(self) -> dict[str, Any]:
        """Say what a restarted server would need to find this kernel again."""
        info: dict[str, Any] = await super().get_provisioner_info()
        info["container_id"] = self.container.id if self.container is not None else None
        info["sandboxed"] = self.sandboxed
        return info
