"""Judge0's submission statuses: ids, descriptions and how a run's ending maps onto them."""

from __future__ import annotations

import enum
import signal


class Status(enum.IntEnum):
    """A submission's status id, as Judge0 CE numbers them."""

    IN_QUEUE = 1
    PROCESSING = 2
    ACCEPTED = 3
    WRONG_ANSWER = 4
    TIME_LIMIT_EXCEEDED = 5
    COMPILATION_ERROR = 6
    RUNTIME_ERROR_SIGSEGV = 7
    RUNTIME_ERROR_SIGXFSZ = 8
    RUNTIME_ERROR_SIGFPE = 9
    RUNTIME_ERROR_SIGABRT = 10
    RUNTIME_ERROR_NZEC = 11
    RUNTIME_ERROR_OTHER = 12
    INTERNAL_ERROR = 13
    EXEC_FORMAT_ERROR = 14

    @property
    def description(self) -> str:
        """Judge0's description of this status."""
        return DESCRIPTIONS[self]

    def as_json(self) -> dict[str, object]:
        """Return ``{"id": 3, "description": "Accepted"}``."""
        return {"id": int(self), "description": self.description}

    @property
    def finished(self) -> bool:
        """Whether a submission with this status is done."""
        return self not in (Status.IN_QUEUE, Status.PROCESSING)


DESCRIPTIONS: dict[Status, str] = {
    Status.IN_QUEUE: "In Queue",
    Status.PROCESSING: "Processing",
    Status.ACCEPTED: "Accepted",
    Status.WRONG_ANSWER: "Wrong Answer",
    Status.TIME_LIMIT_EXCEEDED: "Time Limit Exceeded",
    Status.COMPILATION_ERROR: "Compilation Error",
    Status.RUNTIME_ERROR_SIGSEGV: "Runtime Error (SIGSEGV)",
    Status.RUNTIME_ERROR_SIGXFSZ: "Runtime Error (SIGXFSZ)",
    Status.RUNTIME_ERROR_SIGFPE: "Runtime Error (SIGFPE)",
    Status.RUNTIME_ERROR_SIGABRT: "Runtime Error (SIGABRT)",
    Status.RUNTIME_ERROR_NZEC: "Runtime Error (NZEC)",
    Status.RUNTIME_ERROR_OTHER: "Runtime Error (Other)",
    Status.INTERNAL_ERROR: "Internal Error",
    Status.EXEC_FORMAT_ERROR: "Exec Format Error",
}

_BY_SIGNAL: dict[int, Status] = {
    int(signal.SIGSEGV): Status.RUNTIME_ERROR_SIGSEGV,
    int(signal.SIGXFSZ): Status.RUNTIME_ERROR_SIGXFSZ,
    int(signal.SIGFPE): Status.RUNTIME_ERROR_SIGFPE,
    int(signal.SIGABRT): Status.RUNTIME_ERROR_SIGABRT,
}


def status_for_signal(number: int) -> Status:
    """Return the runtime error status of a program killed by signal ``number``."""
    return _BY_SIGNAL.get(number, Status.RUNTIME_ERROR_OTHER)


def all_statuses() -> list[dict[str, object]]:
    """Return every status as Judge0's GET /statuses lists them."""
    return [status.as_json() for status in Status]


def outputs_match(expected: bytes, actual: bytes) -> bool:
    """Compare as Judge0 does: trailing whitespace of each line and of the whole is ignored."""
    return _strip(expected) == _strip(actual)


def _strip(text: bytes) -> bytes:
    return b"\n".join(line.rstrip() for line in text.split(b"\n")).rstrip()
