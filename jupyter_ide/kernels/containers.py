"""Start, inspect and remove one kernel's sandbox container (blocking; call off the loop)."""

from __future__ import annotations

import logging
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker.errors import APIError, DockerException, NotFound
from docker.models.containers import Container

from .profile import LABEL_KERNEL_ID, BindMount, SandboxLimits, SandboxSpec, container_options
from .sandbox import SandboxManager

log = logging.getLogger(__name__)

EXIT_SIGKILL = 128 + signal.SIGKILL


@dataclass(frozen=True)
class KernelLaunch:
    """Everything one kernel container needs."""

    image: str
    argv: list[str]
    limits: SandboxLimits
    socket_dir: Path
    workspace: Path
    cwd: Path
    env: Mapping[str, str]
    kernel_id: str
    kind: str = "kernel"


def start_kernel_container(manager: SandboxManager, launch: KernelLaunch) -> Container:
    """Create and start the container; it mounts the socket folder and the workspace."""
    labels = manager.labels(launch.kind)
    labels[LABEL_KERNEL_ID] = launch.kernel_id
    cwd = launch.cwd if _inside(launch.cwd, launch.workspace) else launch.workspace
    spec = SandboxSpec(
        image=launch.image,
        command=launch.argv,
        limits=launch.limits,
        labels=labels,
        env={**launch.env, **launch.limits.kernel_env()},
        mounts=(BindMount(launch.socket_dir), BindMount(launch.workspace)),
        working_dir=str(cwd),
    )
    container = manager.client.containers.create(**container_options(spec))
    try:
        container.start()
    except DockerException:
        remove_container(container)
        raise
    return container


def _inside(path: Path, root: Path) -> bool:
    """Whether ``path`` is ``root`` or below it."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


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
    if not state:
        return "killed: its sandbox container was removed"
    if state.get("OOMKilled"):
        return "out of memory"
    if killed_for:
        return killed_for
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
