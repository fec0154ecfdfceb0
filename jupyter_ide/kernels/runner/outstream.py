"""An ipykernel OutStream whose output per execution is capped in size and rate."""

from __future__ import annotations

import threading
from typing import Any

from ipykernel.iostream import OutStream

from .limits import OutputGate, RunLimits

_lock = threading.Lock()
_current: tuple[str, OutputGate] | None = None


def gate_for(run_id: str) -> OutputGate:
    """Return the output gate of one execution (stdout and stderr share it)."""
    global _current
    with _lock:
        if _current is None or _current[0] != run_id:
            limits = RunLimits.from_env()
            _current = (run_id, OutputGate(limits.output_limit, limits.output_rate))
        return _current[1]


class CappedOutStream(OutStream):
    """Publish stdout/stderr like ipykernel, cut at IDE_OUTPUT_LIMIT bytes and IDE_OUTPUT_RATE."""

    def write(self, string: str) -> int:
        """Pass what the run's output gate admits; say once that output was truncated."""
        parent: dict[str, Any] = self.parent_header or {}
        gate = gate_for(str(parent.get("msg_id", "")))
        data = string.encode("utf-8", "replace")
        allowed, notice = gate.admit(len(data))
        if allowed == len(data):
            super().write(string)
        elif allowed:
            super().write(data[:allowed].decode("utf-8", "ignore"))
        if notice:
            super().write(notice)
        return len(string)
