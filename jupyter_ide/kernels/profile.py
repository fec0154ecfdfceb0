"""The one hardened profile every sandbox container runs with (kernels, pool and judge)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from docker.types import LogConfig, Mount, Ulimit

SANDBOX_UID = 1000
SANDBOX_HOME = "/home/sandbox"

LABEL_PREFIX = "jupyter-ide."
LABEL_KIND = LABEL_PREFIX + "kind"
LABEL_KERNEL_ID = LABEL_PREFIX + "kernel-id"
LABEL_OWNER = LABEL_PREFIX + "owner"
LABEL_SERVER = LABEL_PREFIX + "server"
LABEL_INSTANCE = LABEL_PREFIX + "instance"
# The Redis a run beats in (liveness.py): live runs of it reap the boxes of dead ones.
LABEL_LIVENESS = LABEL_PREFIX + "liveness"

# The only variables a sandbox may see; nothing else of the server's environment passes.
ENV_ALLOWLIST = frozenset(
    {
        "LANG",
        "LC_ALL",
        "TZ",
        "TERM",
        "JPY_SESSION_NAME",
        "JPY_PARENT_PID",
        "PYDEVD_DISABLE_FILE_VALIDATION",
        "MPLBACKEND",
        "IDE_TIME_LIMIT",
        "IDE_OUTPUT_LIMIT",
        "IDE_OUTPUT_RATE",
        "IDE_MEMORY_LIMIT",
        "IDE_LANGUAGE",
    }
)

MIB = 1024 * 1024


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits of one sandbox container (seed defaults: 1 CPU, 512 MB, 30 s)."""

    cpus: float = 1.0
    memory_bytes: int = 512 * MIB
    pids: int = 128
    tmp_bytes: int = 128 * MIB
    shm_bytes: int = 64 * MIB
    home_bytes: int = 32 * MIB
    nofile: int = 256
    fsize_bytes: int = 128 * MIB
    time_limit: float = 30.0
    output_bytes: int = 1 * MIB
    output_rate: int = 256 * 1024
    runtime: str = ""

    def capped(self, maximum: SandboxLimits) -> SandboxLimits:
        """Return these limits, each no larger than the admin's maximum."""
        return replace(
            self,
            cpus=min(self.cpus, maximum.cpus),
            memory_bytes=min(self.memory_bytes, maximum.memory_bytes),
            pids=min(self.pids, maximum.pids),
            tmp_bytes=min(self.tmp_bytes, maximum.tmp_bytes),
            shm_bytes=min(self.shm_bytes, maximum.shm_bytes),
            home_bytes=min(self.home_bytes, maximum.home_bytes),
            nofile=min(self.nofile, maximum.nofile),
            fsize_bytes=min(self.fsize_bytes, maximum.fsize_bytes),
            time_limit=min(self.time_limit, maximum.time_limit),
            output_bytes=min(self.output_bytes, maximum.output_bytes),
            output_rate=min(self.output_rate, maximum.output_rate),
        )

    def with_overrides(self, values: Mapping[str, Any]) -> SandboxLimits:
        """Return a copy with the known fields of ``values`` applied (others are refused)."""
        known = {f for f in self.__dataclass_fields__}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown sandbox limit(s): {', '.join(unknown)}")
        typed: dict[str, Any] = {}
        for name, value in values.items():
            current = getattr(self, name)
            typed[name] = type(current)(value)
            if isinstance(typed[name], (int, float)) and typed[name] <= 0:
                raise ValueError(f"Sandbox limit {name} must be positive, not {value!r}")
        return replace(self, **typed)

    def kernel_env(self) -> dict[str, str]:
        """Return the variables that tell the code inside its limits."""
        return {
            "IDE_TIME_LIMIT": f"{self.time_limit:g}",
            "IDE_OUTPUT_LIMIT": str(self.output_bytes),
            "IDE_OUTPUT_RATE": str(self.output_rate),
            "IDE_MEMORY_LIMIT": str(self.memory_bytes),
        }

    def describe(self) -> dict[str, Any]:
        """Public summary for the UI: CPU, memory, time and the runtime."""
        return {
            "cpus": self.cpus,
            "memory_mb": self.memory_bytes // MIB,
            "time_limit_s": self.time_limit,
            "pids": self.pids,
            "runtime": self.runtime or "runc",
        }


@dataclass(frozen=True)
class BindMount:
    """A host directory (or file) mounted into the sandbox, at ``target`` or the same path."""

    path: Path
    read_only: bool = False
    target: str = ""  # where it appears inside; "" = the host path
    propagation: str = ""  # "" = the engine's default (rprivate); "rslave" for hand-offs

    @property
    def inside(self) -> str:
        """The path inside the container."""
        return self.target or str(self.path)


@dataclass(frozen=True)
class SandboxSpec:
    """What one container runs: image, command, identity, mounts and limits."""

    image: str
    command: list[str]
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    labels: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    mounts: tuple[BindMount, ...] = ()
    working_dir: str = SANDBOX_HOME
    name: str | None = None


def sandbox_user() -> str:
    """Return the uid:gid sandboxes run as: the server's own when it is not root, else 1000."""
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        return f"{SANDBOX_UID}:{SANDBOX_UID}"
    return f"{uid}:{gid}"


def sandbox_owner() -> tuple[int, int] | None:
    """Return who should own files sandboxes edit, when the server (root) must hand them over."""
    if os.getuid() == 0:
        return (SANDBOX_UID, SANDBOX_UID)
    return None


def allowed_env(env: Mapping[str, str], extra: Iterable[str] = ()) -> dict[str, str]:
    """Keep only the allowlisted variables."""
    allowed = ENV_ALLOWLIST | set(extra)
    return {k: v for k, v in env.items() if k in allowed}


def _tmpfs(size: int, *, exec_ok: bool, uid: str) -> str:
    """Options of one size-capped tmpfs owned by the sandbox user."""
    owner, group = uid.split(":")
    # Docker's tmpfs defaults to noexec, so exec must be asked for explicitly.
    flags = "rw,nosuid,nodev," + ("exec" if exec_ok else "noexec")
    return f"{flags},size={size},mode=1777,uid={owner},gid={group}"


def container_options(spec: SandboxSpec) -> dict[str, Any]:
    """Keyword arguments for ``docker.containers.create`` with the hardened profile."""
    limits = spec.limits
    user = sandbox_user()
    options: dict[str, Any] = {
        "image": spec.image,
        "command": spec.command,
        "user": user,
        "working_dir": spec.working_dir,
        "environment": {"HOME": SANDBOX_HOME, **allowed_env(spec.env)},
        "labels": dict(spec.labels),
        "network_mode": "none",
        # A fresh network namespace holding only loopback, made by the OCI runtime itself:
        # without this, Docker also builds a libnetwork sandbox for "none" through a prestart
        # hook that re-executes dockerd, which costs about 90 ms of every container start.
        "network_disabled": True,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "read_only": True,
        "tmpfs": {
            # Paths inside the container. Programs are compiled and run from /tmp, so it keeps
            # exec; the rest do not.
            "/tmp": _tmpfs(limits.tmp_bytes, exec_ok=True, uid=user),  # noqa: S108
            "/dev/shm": _tmpfs(limits.shm_bytes, exec_ok=False, uid=user),  # noqa: S108
            SANDBOX_HOME: _tmpfs(limits.home_bytes, exec_ok=False, uid=user),
        },
        "pids_limit": limits.pids,
        "mem_limit": limits.memory_bytes,
        "memswap_limit": limits.memory_bytes,
        "mem_swappiness": 0,
        "nano_cpus": int(limits.cpus * 1e9),
        "ulimits": [
            Ulimit(name="nofile", soft=limits.nofile, hard=limits.nofile),
            Ulimit(name="fsize", soft=limits.fsize_bytes, hard=limits.fsize_bytes),
            Ulimit(name="core", soft=0, hard=0),
        ],
        "mounts": [
            Mount(
                target=m.inside,
                source=str(m.path),
                type="bind",
                read_only=m.read_only,
                propagation=m.propagation or None,
            )
            for m in spec.mounts
        ],
        # What the kernel writes to its own stdout/stderr is capped, so it cannot fill the disk.
        "log_config": LogConfig(type="json-file", config={"max-size": "1m", "max-file": "1"}),
        "init": True,
        "hostname": "sandbox",
        "ipc_mode": "private",
        "stdin_open": False,
        "detach": True,
    }
    if spec.name:
        options["name"] = spec.name
    if limits.runtime:
        options["runtime"] = limits.runtime
    return options
