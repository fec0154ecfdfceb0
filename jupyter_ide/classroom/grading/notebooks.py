"""Notebook tests, host side: read the notebook, make the driver's job, read its report."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..spec import TestCase

DRIVER = Path(__file__).with_name("nbdriver.py")
DRIVER_NAME = ".ide-grade-notebook.py"  # where the driver sits in the box for its job
MARK = "IDE-GRADE-REPORT "
TOKEN_FD = 3  # judge-box gives a grading driver its job's token here (nbdriver.py, pytestdriver.py)
MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024
_MAGIC = re.compile(r"^(\s*)([%!].*)$", re.MULTILINE)


class NotebookError(ValueError):
    """The submission's notebook is missing or is not a notebook."""


@dataclass(frozen=True)
class TestOutcome:
    """What the driver said about one test cell."""

    passed: bool
    output: str


def _source(cell: dict[str, Any]) -> str:
    """Return a cell's source as one string (nbformat allows a list of lines)."""
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def _without_magics(source: str) -> str:
    """Turn IPython magics and shell lines (``%time``, ``!pip``) into no-ops."""
    return _MAGIC.sub(lambda m: f"{m.group(1)}pass  # {m.group(2)[:60]}", source)


def student_cells(data: bytes | None, path: str) -> list[str]:
    """Return the code cells of the student's notebook, in order (raise NotebookError)."""
    if data is None:
        raise NotebookError(f"the notebook {path} is not in the submission")
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"the notebook {path} is larger than {MAX_NOTEBOOK_BYTES} bytes")
    try:
        notebook = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise NotebookError(f"{path} is not a notebook (not JSON: {e})") from e
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise NotebookError(f"{path} is not a notebook (no cells)")
    return [
        _without_magics(_source(cell))
        for cell in cells
        if isinstance(cell, dict) and cell.get("cell_type") == "code"
    ]


def driver_job(cells: list[str], tests: list[TestCase]) -> bytes:
    """Return the driver's stdin: the student's cells and the tests' sources and limits."""
    cell_cpu = max((test.limits.cpu_seconds for test in tests), default=5.0)
    job = {
        "cells": cells,
        "cell_cpu": cell_cpu,
        "tests": [
            {"name": test.name, "source": test.source, "cpu": test.limits.cpu_seconds}
            for test in tests
        ],
    }
    return json.dumps(job).encode("utf-8")


def driver_limits(cells: list[str], tests: list[TestCase]) -> tuple[float, int]:
    """Return (CPU seconds, memory KB) of the whole notebook job."""
    cell_cpu = max((test.limits.cpu_seconds for test in tests), default=5.0)
    cpu = cell_cpu * min(len(cells), 4) + sum(test.limits.cpu_seconds for test in tests) + 2.0
    memory = max((test.limits.memory_kb for test in tests), default=262144)
    return cpu, memory


def read_report(stdout: bytes, tests: list[TestCase], token: str) -> dict[str, TestOutcome] | None:
    """Return each test's outcome from the driver's report line, or None when there is none.

    Only a line with this job's ``token`` counts (the driver writes it after every student
    cell and test has run; student code does not know the token).
    """
    if len(token) < 32:
        return None
    text = stdout.decode("utf-8", errors="replace")
    mark = f"{MARK}{token} "
    at = text.rfind(mark)
    if at < 0:
        return None
    line = text[at + len(mark) :].split("\n", 1)[0]
    try:
        report = json.loads(line)
        entries = report["tests"]
    except (ValueError, KeyError, TypeError):
        return None
    wanted = {test.name for test in tests}
    found: dict[str, TestOutcome] = {}
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("name") not in wanted:
            continue
        found[str(entry["name"])] = TestOutcome(
            passed=entry.get("passed") is True, output=str(entry.get("output", ""))
        )
    return found
