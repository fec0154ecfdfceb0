"""What ended a program: exit code, signal, time limit, interrupt or the cgroup's OOM killer."""

from __future__ import annotations

import signal
from dataclasses import asdict, dataclass
from pathlib import Path

from .limits import human_bytes

OK = "ok"
TIME_LIMIT = "time limit"
OUT_OF_MEMORY = "out of memory"
SIGNALLED = "killed by signal"
INTERRUPTED = "interrupted"

_CGROUP_ROOT = Path("/sys/fs/cgroup")


def _own_cgroups() -> dict[str, str]:
    """Map controller (``memory``, or ``""`` for cgroup v2) to this process's cgroup path."""
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(","):
                paths[controller] = parts[2]
    return paths


def _counter(path: Path, key: str) -> int | None:
    try:
        text = path.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return None


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def memory_pressure() -> tuple[int, int]:
    """Return (OOM kills, memory limit hits) of this process's memory cgroup, 0 if unknown."""
    groups = _own_cgroups()
    v2 = groups.get("")
    if v2 is not None:
        for base in (_CGROUP_ROOT / v2.lstrip("/"), _CGROUP_ROOT):
            kills = _counter(base / "memory.events", "oom_kill")
            if kills is not None:
                return kills, _counter(base / "memory.events", "max") or 0
    v1 = groups.get("memory")
    if v1 is not None:
        for base in (_CGROUP_ROOT / "memory" / v1.lstrip("/"), _CGROUP_ROOT / "memory"):
            failcnt = _read_int(base / "memory.failcnt")
            if failcnt is not None:
                kills = _counter(base / "memory.oom_control", "oom_kill") or 0
                return kills, failcnt
    return 0, 0


def signal_name(number: int) -> str:
    """Return ``SIGSEGV`` for 11, and so on."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


@dataclass(frozen=True)
class Outcome:
    """How one program run ended, and what it used."""

    verdict: str
    exit_code: int | None
    signal: int | None
    wall_time: float
    cpu_time: float
    output_dropped: int = 0
    time_limit: float = 0.0
    memory_limit: int = 0

    @property
    def ok(self) -> bool:
        """Whether the program ran to the end and exited with code 0."""
        return self.verdict == OK and self.exit_code == 0

    def error_name(self) -> str:
        """Return the ``ename`` of the error reply for a run that did not succeed."""
        return {
            TIME_LIMIT: "TimeLimitExceeded",
            OUT_OF_MEMORY: "OutOfMemory",
            SIGNALLED: "Signal",
            INTERRUPTED: "KeyboardInterrupt",
        }.get(self.verdict, "NonZeroExit")

    def describe(self) -> str:
        """Say in words how the run ended ("exit code 1", "time limit of 2 s exceeded")."""
        if self.verdict == TIME_LIMIT:
            return f"time limit of {self.time_limit:g} s exceeded"
        if self.verdict == OUT_OF_MEMORY:
            limit = f" (limit {human_bytes(self.memory_limit)})" if self.memory_limit else ""
            return f"out of memory{limit}: killed"
        if self.verdict == INTERRUPTED:
            return "interrupted"
        if self.verdict == SIGNALLED and self.signal is not None:
            return f"killed by signal {self.signal} ({signal_name(self.signal)})"
        return f"exit code {self.exit_code}"

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready summary (reply metadata, one-shot runs)."""
        summary = asdict(self)
        summary["description"] = self.describe()
        return summary
