"""Start, inspect and remove one kernel's sandbox container (blocking; call off the loop)."""

from __future__ import annotations

import logging
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from docker.errors import APIError, DockerException, NotFound
from docker.models.containers import Container

from .profile import LABEL_KERNEL_ID, BindMount, SandboxLimits, SandboxSpec, container_options
from .sandbox import SandboxManager
from .sockets import KernelSockets

log = logging.getLogger(__name__)

EXIT_SIGKILL = 128 + signal.SIGKILL
# Where the user's workspace appears in every kernel: a fixed path the sandbox user can reach,
# whatever the host's path is (a server running as root keeps it under /root, 0700).
WORKSPACE_INSIDE = "/workspace"


@dataclass(frozen=True)
class KernelLaunch:
    """Everything one kernel container needs."""

    image: str
    argv: list[str]
    limits: SandboxLimits
    sockets: KernelSockets
    workspace: Path
    cwd: Path
    env: Mapping[str, str]
    kernel_id: str
    kind: str = "kernel"
    owner: str | None = None  # None: the server's user; "" for a warm kernel of nobody yet
    propagation: str = ""  # the workspace mount's: "rslave" for a hand-off folder


def start_kernel_container(manager: SandboxManager, launch: KernelLaunch) -> Container:
    """Create and start the container; it mounts its sockets and the workspace at fixed paths."""
    labels = manager.labels(launch.kind, launch.owner)
    labels[LABEL_KERNEL_ID] = launch.kernel_id
    spec = SandboxSpec(
        image=launch.image,
        command=launch.argv,
        limits=launch.limits,
        labels=labels,
        env={**launch.env, **launch.limits.kernel_env()},
        mounts=(
            *launch.sockets.mounts(),
            BindMount(launch.workspace, target=WORKSPACE_INSIDE, propagation=launch.propagation),
        ),
        working_dir=path_inside(launch.cwd, launch.workspace),
    )
    container = manager.client.containers.create(**container_options(spec))
    try:
        container.start()
    except DockerException:
        remove_container(container)
        raise
    return container


def path_inside(path: Path | str, workspace: Path) -> str:
    """Return where a host folder of the workspace appears in a kernel.

    Anything outside the workspace maps to the workspace's root.
    """
    try:
        relative = Path(path).resolve().relative_to(workspace.resolve())
    except ValueError:
        return WORKSPACE_INSIDE
    return str(PurePosixPath(WORKSPACE_INSIDE, relative.as_posix()))


def container_state(container: Container) -> dict[str, Any]:
    """Refresh and return the container's State block ({} when it is gone)."""
    try:
        container.reload()
    except NotFound:
        return {}
    state: dict[str, Any] = container.attrs.get("State", {})
    return state


def exit_reason(state: Mapping[str, Any], killed_for: str | None) -> str:
    """Say in words why a kernel container stopped."""
    if state.get("OOMKilled"):
        return "out of memory"
    if killed_for:  # the server killed it (its container may be gone by now)
        return killed_for
    if not state:
        return "killed: its sandbox container was removed"
    code = int(state.get("ExitCode", -1))
    if code == EXIT_SIGKILL:
        return "killed"
    if code > 128:
        return f"killed by signal {code - 128}"
    return f"exited with code {code}"


def signal_container(container: Container, signum: int) -> None:
    """Send a signal to the container's init, which forwards it to the kernel."""
    try:
        container.kill(signal=int(signum))
    except NotFound:
        pass
    except APIError as e:
        if e.status_code != 409:  # 409: not running
            raise


def remove_container(container: Container) -> None:
    """Remove the container and everything still running in it."""
    try:
        container.remove(force=True)
    except NotFound:
        pass
    except APIError as e:
        if e.status_code != 409:  # already being removed
            log.warning("Could not remove sandbox %s: %s", container.short_id, e)
