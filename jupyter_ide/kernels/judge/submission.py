"""A submission's state and its JSON in Judge0's shape: fields, base64 and UTF-8 rules."""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .judging import Outcome
from .request import SubmissionRequest
from .statuses import Status

DEFAULT_FIELDS = (
    "stdout",
    "time",
    "memory",
    "stderr",
    "token",
    "compile_output",
    "message",
    "status",
)
ALL_FIELDS = (
    "source_code",
    "language_id",
    "compiler_options",
    "command_line_arguments",
    "stdin",
    "expected_output",
    "cpu_time_limit",
    "cpu_extra_time",
    "wall_time_limit",
    "memory_limit",
    "stack_limit",
    "max_processes_and_or_threads",
    "enable_per_process_and_thread_time_limit",
    "enable_per_process_and_thread_memory_limit",
    "max_file_size",
    "redirect_stderr_to_stdout",
    "enable_network",
    "number_of_runs",
    "additional_files",
    "callback_url",
    "stdout",
    "stderr",
    "compile_output",
    "message",
    "exit_code",
    "exit_signal",
    "status",
    "created_at",
    "finished_at",
    "token",
    "time",
    "wall_time",
    "memory",
)
EXTRA_FIELDS = ("status_id", "language")  # Judge0 also answers these when named
TEXT_FIELDS = frozenset(
    {"source_code", "stdin", "expected_output", "stdout", "stderr", "compile_output", "message"}
)
UTF8_ERROR = (
    "some attributes for this submission cannot be converted to UTF-8, "
    "use base64_encoded=true query parameter"
)


class FieldsError(ValueError):
    """``fields`` names an attribute a submission does not have."""


class NotUTF8(ValueError):
    """A text attribute is not UTF-8 and base64 was not asked for."""


def parse_fields(raw: str | None) -> tuple[str, ...]:
    """Return the attributes asked for (default set, ``*`` for all)."""
    if raw is None or not raw.strip():
        return DEFAULT_FIELDS
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    if "*" in names:
        return ALL_FIELDS
    unknown = [n for n in names if n not in ALL_FIELDS and n not in EXTRA_FIELDS]
    if unknown:
        raise FieldsError(f"invalid fields: [{', '.join(unknown)}]")
    return names


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Submission:
    """One submission: what was asked, who asked, and how it ended so far."""

    token: str
    user: str
    language_id: int
    created_at: datetime
    texts: dict[str, bytes | None]  # source_code, stdin, expected_output
    options: dict[str, Any]  # limits and the other request attributes
    status: Status = Status.IN_QUEUE
    outcome: Outcome | None = None
    finished_at: datetime | None = None

    @classmethod
    def from_request(
        cls, token: str, user: str, request: SubmissionRequest, created: datetime
    ) -> Submission:
        """Build the record of a new submission."""
        limits = request.limits
        options: dict[str, Any] = {
            "compiler_options": request.compiler_options or None,
            "command_line_arguments": request.command_line_arguments or None,
            "cpu_time_limit": limits.cpu_time_limit,
            "cpu_extra_time": limits.cpu_extra_time,
            "wall_time_limit": limits.wall_time_limit,
            "memory_limit": limits.memory_limit,
            "stack_limit": limits.stack_limit,
            "max_processes_and_or_threads": limits.max_processes_and_or_threads,
            "enable_per_process_and_thread_time_limit": (
                limits.enable_per_process_and_thread_time_limit
            ),
            "enable_per_process_and_thread_memory_limit": (
                limits.enable_per_process_and_thread_memory_limit
            ),
            "max_file_size": limits.max_file_size,
            "redirect_stderr_to_stdout": limits.redirect_stderr_to_stdout,
            "enable_network": limits.enable_network,
            "number_of_runs": limits.number_of_runs,
            "callback_url": None,
        }
        texts: dict[str, bytes | None] = {
            "source_code": request.source_code or None,
            "stdin": request.stdin or None,
            "expected_output": request.expected_output,
            "additional_files": request.additional_files,
        }
        return cls(token, user, request.language.id, created, texts, options)

    def value(self, name: str) -> Any:
        """Return one attribute's raw value (bytes for text attributes)."""
        outcome = self.outcome
        if name in ("source_code", "stdin", "expected_output"):
            return self.texts.get(name)
        if name == "additional_files":
            files = self.texts.get("additional_files")
            return base64.b64encode(files).decode() if files else None
        if name in self.options:
            return self.options[name]
        if name in ("status", "language"):
            return self.status.as_json() if name == "status" else {"id": self.language_id}
        if name == "status_id":
            return int(self.status)
        if name == "language_id":
            return self.language_id
        if name == "token":
            return self.token
        if name == "created_at":
            return _iso(self.created_at)
        if name == "finished_at":
            return _iso(self.finished_at)
        if outcome is None:
            return None
        if name in ("time", "wall_time"):
            seconds = getattr(outcome, name)
            return None if seconds is None else f"{seconds:.3f}"
        if name == "message":
            return outcome.message.encode() if outcome.message else None
        return getattr(outcome, name)

    def as_json(self, fields: tuple[str, ...], base64_encoded: bool) -> dict[str, Any]:
        """Return the asked attributes; raise NotUTF8 when text needs base64 and is not UTF-8."""
        reply: dict[str, Any] = {}
        for name in fields:
            value = self.value(name)
            if name in TEXT_FIELDS and isinstance(value, bytes):
                if base64_encoded:
                    value = base64.b64encode(value).decode("ascii")
                else:
                    try:
                        value = value.decode("utf-8")
                    except UnicodeDecodeError as e:
                        raise NotUTF8(UTF8_ERROR) from e
            reply[name] = value
        return reply

    def detail_blob(self) -> bytes:
        """Return what the database keeps besides the columns (compressed JSON)."""
        outcome = self.outcome

        def enc(data: bytes | None) -> str | None:
            return None if data is None else base64.b64encode(data).decode("ascii")

        detail: dict[str, Any] = {
            "texts": {k: enc(v) for k, v in self.texts.items()},
            "options": self.options,
        }
        if outcome is not None:
            detail["outcome"] = {
                "stdout": enc(outcome.stdout),
                "stderr": enc(outcome.stderr),
                "compile_output": enc(outcome.compile_output),
                "compile_time": outcome.compile_time,
                "compile_memory": outcome.compile_memory,
                "measured_by": outcome.measured_by,
            }
        return zlib.compress(json.dumps(detail).encode(), 6)

    @classmethod
    def from_row(
        cls,
        *,
        token: str,
        user: str,
        language_id: int,
        status_id: int,
        created_at: datetime,
        finished_at: datetime | None,
        columns: dict[str, Any],
        detail: bytes,
    ) -> Submission:
        """Rebuild a submission stored in the database."""
        data = json.loads(zlib.decompress(detail))

        def dec(value: str | None) -> bytes | None:
            return None if value is None else base64.b64decode(value)

        texts = {k: dec(v) for k, v in data.get("texts", {}).items()}
        submission = cls(
            token, user, language_id, created_at, texts, data.get("options", {}), Status(status_id)
        )
        submission.finished_at = finished_at
        stored = data.get("outcome")
        if stored is not None or submission.status.finished:
            stored = stored or {}
            submission.outcome = Outcome(
                Status(status_id),
                stdout=dec(stored.get("stdout")),
                stderr=dec(stored.get("stderr")),
                compile_output=dec(stored.get("compile_output")),
                message=columns.get("message"),
                time=columns.get("time"),
                wall_time=columns.get("wall_time"),
                memory=columns.get("memory"),
                exit_code=columns.get("exit_code"),
                exit_signal=columns.get("exit_signal"),
                compile_cached=bool(columns.get("compile_cached")),
                compile_time=stored.get("compile_time"),
                compile_memory=stored.get("compile_memory"),
                measured_by=stored.get("measured_by", ""),
            )
        return submission
