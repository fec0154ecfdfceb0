"""Cell runs as the server sees them: a kernel channel's execute requests and their replies.

A connection's watcher keeps each execute request it passes to the kernel (the code's hash and
first lines, the cell's id and index when the client names them) until the kernel's
execute_reply to it comes back, then hands the finished run (ok, error with the exception's
name, or aborted) to a callback. Only shell messages are looked at, and only their headers
unless they are an execute request or reply; nothing here waits.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

HEAD_LINES = 5  # lines of a cell's code kept with its run
HEAD_CHARS = 400  # characters of them, at most
MAX_WAITING = 256  # execute requests of one connection awaiting their reply
MAX_CELL_ID = 64
OUTCOMES = ("ok", "error", "aborted")


@dataclass
class KernelRun:
    """One executed cell: what ran, where and how it ended."""

    code_hash: str
    code_head: str
    started: datetime
    ended: datetime | None = None
    outcome: str = ""  # ok | error | aborted
    ename: str = ""  # the exception's name, for an error
    cell_id: str | None = None
    cell_index: int | None = None
    execution_count: int | None = None

    def detail(self, kernel_name: str) -> dict[str, Any]:
        """Return the run as a timeline event's detail."""
        found: dict[str, Any] = {
            "via": "kernel",
            "kernel": kernel_name,
            "outcome": self.outcome,
            "code_hash": self.code_hash,
            "code_head": self.code_head,
        }
        if self.ename:
            found["ename"] = self.ename
        if self.cell_id is not None:
            found["cell_id"] = self.cell_id
        if self.cell_index is not None:
            found["cell_index"] = self.cell_index
        if self.execution_count is not None:
            found["execution_count"] = self.execution_count
        return found


def code_head(code: str) -> str:
    """Return the first lines of ``code`` (at most HEAD_LINES lines, HEAD_CHARS characters)."""
    head = "\n".join(code.strip("\n").splitlines()[:HEAD_LINES])
    return head[:HEAD_CHARS]


def _unpack(part: Any) -> Any:
    """Return a JSON message part as an object (None for one that is not)."""
    try:
        return json.loads(part) if isinstance(part, (bytes, str)) else part
    except (ValueError, UnicodeDecodeError):
        return None


def _now() -> datetime:
    return datetime.now(timezone.utc)


class RunWatcher:
    """Pair one connection's execute requests with their replies; report each finished run."""

    def __init__(self, done: Callable[[KernelRun], None]) -> None:
        """Call ``done`` with each run once the kernel has replied to it."""
        self.done = done
        self._waiting: OrderedDict[str, KernelRun] = OrderedDict()

    # -- the browser's side: requests ------------------------------------------------------------

    def incoming_v1(self, channel: str, parts: list[Any]) -> None:
        """Look at a v1-protocol message (header, parent, metadata, content parts)."""
        if channel != "shell" or len(parts) < 4:
            return
        header = _unpack(parts[0])
        if isinstance(header, dict) and header.get("msg_type") == "execute_request":
            self._request(header, _unpack(parts[2]), _unpack(parts[3]))

    def incoming_json(self, text: str | bytes) -> None:
        """Look at a legacy-protocol JSON message (parsed only when it is an execute request)."""
        if not isinstance(text, str) or "execute_request" not in text:
            return
        msg = _unpack(text)
        if not isinstance(msg, dict) or msg.get("channel", "shell") != "shell":
            return
        header = msg.get("header")
        if isinstance(header, dict) and header.get("msg_type") == "execute_request":
            self._request(header, msg.get("metadata"), msg.get("content"))

    def _request(self, header: dict[str, Any], metadata: Any, content: Any) -> None:
        msg_id = header.get("msg_id")
        if not isinstance(msg_id, str) or not msg_id or not isinstance(content, dict):
            return
        code = content.get("code")
        if not isinstance(code, str) or content.get("silent") is True or not code.strip():
            return  # silent executes (completions, widgets' probes) are no student's run
        meta = metadata if isinstance(metadata, dict) else {}
        cell_id = meta.get("cellId")
        index = meta.get("cellIndex")
        run = KernelRun(
            code_hash=hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest(),
            code_head=code_head(code),
            started=_now(),
            cell_id=cell_id[:MAX_CELL_ID] if isinstance(cell_id, str) and cell_id else None,
            cell_index=index if type(index) is int and 0 <= index < 1_000_000 else None,
        )
        self._waiting[msg_id] = run
        while len(self._waiting) > MAX_WAITING:
            self._waiting.popitem(last=False)  # a kernel that never replied: forget the oldest

    # -- the kernel's side: replies --------------------------------------------------------------

    def outgoing_v1(self, parts: list[Any]) -> None:
        """Look at a kernel's shell message as frames (header, parent, metadata, content)."""
        if not self._waiting or len(parts) < 4:
            return
        header = _unpack(parts[0])
        if isinstance(header, dict) and header.get("msg_type") == "execute_reply":
            self._reply(_unpack(parts[1]), _unpack(parts[3]))

    def outgoing_msg(self, msg: dict[str, Any]) -> None:
        """Look at a kernel's shell message already deserialized (the legacy protocol)."""
        if not self._waiting:
            return
        header = msg.get("header")
        if isinstance(header, dict) and header.get("msg_type") == "execute_reply":
            self._reply(msg.get("parent_header"), msg.get("content"))

    def _reply(self, parent: Any, content: Any) -> None:
        if not isinstance(parent, dict) or not isinstance(content, dict):
            return
        run = self._waiting.pop(str(parent.get("msg_id", "")), None)
        if run is None:
            return
        status = content.get("status")
        run.outcome = status if status in OUTCOMES else "error"
        if run.outcome == "error":
            ename = content.get("ename")
            run.ename = ename[:128] if isinstance(ename, str) else ""
        count = content.get("execution_count")
        run.execution_count = count if type(count) is int else None
        run.ended = _now()
        self.done(run)
