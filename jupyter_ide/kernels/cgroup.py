"""A sandbox container's cgroup on the host: CPU time, peak memory, OOM kills and limits.

cgroup v1 (``cgroupfs`` or ``systemd`` driver) and v2 are read straight from /sys/fs/cgroup when
the server runs on the engine's host with access to it; otherwise ``None`` is returned and the
caller asks the engine (``docker stats``) instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
# Inside a container (cgroup v1 and v2 namespaces alike) its own CPU counter is here.
INNER_CPU_FILES = ("/sys/fs/cgroup/cpuacct/cpuacct.usage", "/sys/fs/cgroup/cpu.stat")


@dataclass(frozen=True)
class CgroupFiles:
    """The files of one container's cgroup that the judge reads and writes."""

    version: int
    cpu: Path  # v1 cpuacct.usage (ns) | v2 cpu.stat (usage_usec)
    memory: Path  # the memory controller's folder
    pids: Path | None

    def cpu_seconds(self) -> float | None:
        """Return the CPU time the cgroup used so far, in seconds."""
        try:
            text = self.cpu.read_text()
        except OSError:
            return None
        if self.version == 1:
            return int(text.strip()) / 1e9
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name == "usage_usec":
                return int(value) / 1e6
        return None

    def memory_usage(self) -> int | None:
        """Return the memory the cgroup holds now, bytes."""
        name = "memory.usage_in_bytes" if self.version == 1 else "memory.current"
        return _read_int(self.memory / name)

    def memory_peak(self) -> int | None:
        """Return the cgroup's peak memory since its start or the last reset, bytes."""
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        return _read_int(self.memory / name)

    def reset_peak(self) -> bool:
        """Start a new peak from the current usage (v1: writing 0; v2 kernels >= 6.12)."""
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        try:
            (self.memory / name).write_text("0")
        except OSError:
            return False
        return True

    def oom_kills(self) -> int:
        """Return how many processes the cgroup's OOM killer killed."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            text = (self.memory / name).read_text()
        except OSError:
            return 0
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
        return 0

    def set_memory(self, limit: int) -> bool:
        """Set memory = memory+swap = ``limit`` bytes (in the order the kernel accepts)."""
        if self.version == 2:
            return _write(self.memory / "memory.max", str(limit)) and _write(
                self.memory / "memory.swap.max", "0"
            )
        plain = self.memory / "memory.limit_in_bytes"
        swap = self.memory / "memory.memsw.limit_in_bytes"
        current = _read_int(plain) or 0
        order = [swap, plain] if limit > current else [plain, swap]
        ok = True
        for path in order:
            if path.exists():
                ok = _write(path, str(limit)) and ok
        return ok

    def set_pids(self, limit: int) -> bool:
        """Set the cgroup's process/thread limit."""
        return self.pids is not None and _write(self.pids / "pids.max", str(limit))


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
    except OSError:
        return False
    return True


def find_cgroup(container_id: str, root: Path = CGROUP_ROOT) -> CgroupFiles | None:
    """Return the cgroup files of a container when this host shows them, else None."""
    parents = (f"docker/{container_id}", f"system.slice/docker-{container_id}.scope")
    if (root / "cgroup.controllers").exists():  # v2 unified hierarchy
        for parent in parents:
            folder = root / parent
            if (folder / "cpu.stat").exists():
                return CgroupFiles(2, folder / "cpu.stat", folder, folder)
        return None
    for parent in parents:
        cpu = root / "cpuacct" / parent / "cpuacct.usage"
        memory = root / "memory" / parent
        if cpu.exists() and memory.is_dir():
            pids = root / "pids" / parent
            return CgroupFiles(1, cpu, memory, pids if pids.is_dir() else None)
    return None


def can_write_cgroups() -> bool:
    """Whether this process may reset peaks and change limits (root on the engine's host)."""
    return os.geteuid() == 0
