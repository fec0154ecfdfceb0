"""The student copy of an instructor's files: solutions stripped, hidden test cells taken out."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .spec import VISIBILITIES, TestCase

STUB = "YOUR CODE HERE"
BEGIN = re.compile(r"BEGIN SOLUTION")
END = re.compile(r"END SOLUTION")
HASH_COMMENT = (".py", ".sh", ".r", ".rb", ".pl", ".toml", ".yaml", ".yml", "makefile")
# Files whose solution markers are stripped; anything else is released as it is.
TEXT_SUFFIXES = (
    ".py",
    ".c",
    ".h",
    ".cc",
    ".cpp",
    ".hpp",
    ".java",
    ".js",
    ".mjs",
    ".ts",
    ".go",
    ".rs",
    ".sh",
    ".txt",
    ".md",
)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,127}$")


class ReleaseError(ValueError):
    """The instructor's files cannot be made into an assignment (a 400 for the handler)."""


@dataclass(frozen=True)
class Prepared:
    """One file of the assignment as students get it, and the tests it holds."""

    student: bytes | None  # None: the file is not released (it held only hidden tests)
    tests: tuple[TestCase, ...]


def comment_for(path: str) -> str:
    """Return the line-comment marker of a file's language."""
    lower = path.lower()
    return "#" if lower.endswith(HASH_COMMENT) or lower.rsplit("/", 1)[-1] == "makefile" else "//"


def strip_solutions(text: str, comment: str, path: str, python: bool = False) -> str:
    """Replace every BEGIN SOLUTION ... END SOLUTION block by a stub at its indent.

    Python's stub also raises NotImplementedError, so the code around it still parses.
    """
    out: list[str] = []
    inside = False
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        if BEGIN.search(line):
            if inside:
                raise ReleaseError(f"{path}:{number}: BEGIN SOLUTION inside another solution")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            newline = "\n" if line.endswith("\n") else ""
            stub = f"{indent}{comment} {STUB}"
            if python:  # a body is needed where the solution was, as nbgrader writes it
                stub += f"\n{indent}raise NotImplementedError()"
            out.append(stub + newline)
        elif END.search(line):
            if not inside:
                raise ReleaseError(f"{path}:{number}: END SOLUTION without BEGIN SOLUTION")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ReleaseError(f"{path}: BEGIN SOLUTION is never closed by END SOLUTION")
    return "".join(out)


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _test_of(meta: Any, path: str, index: int, source: str) -> TestCase:
    """Return the notebook test a cell's ``jupyter_ide.test`` metadata declares."""
    if not isinstance(meta, dict):
        raise ReleaseError(f"{path}: cell {index}: jupyter_ide.test must be an object")
    name, points = meta.get("name"), meta.get("points", 1)
    visibility = meta.get("visibility", "visible")
    if not isinstance(name, str) or not NAME.match(name):
        raise ReleaseError(f"{path}: cell {index}: a test needs a name (letters, digits, ' _.:-')")
    if not isinstance(points, (int, float)) or isinstance(points, bool) or points < 0:
        raise ReleaseError(f"{path}: cell {index}: points must be a number >= 0")
    if visibility not in VISIBILITIES:
        raise ReleaseError(
            f"{path}: cell {index}: visibility must be one of {', '.join(VISIBILITIES)}"
        )
    return TestCase(
        name=name,
        kind="notebook",
        points=float(points),
        visibility=visibility,
        program=path,
        source=source,
    )


def prepare_notebook(data: bytes, path: str) -> Prepared:
    """Strip solution cells and markers, drop non-visible test cells, clear every output."""
    try:
        notebook = json.loads(data.decode("utf-8"))
        cells = notebook["cells"]
        if not isinstance(cells, list):
            raise TypeError("cells is not a list")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        raise ReleaseError(f"{path} is not a readable notebook: {e}") from e
    kept: list[dict[str, Any]] = []
    tests: list[TestCase] = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            raise ReleaseError(f"{path}: cell {index} is not an object")
        meta = (cell.get("metadata") or {}).get("jupyter_ide") or {}
        source = _source(cell)
        cell = dict(cell)
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
        if meta.get("test") is not None:
            test = _test_of(meta["test"], path, index, source)
            tests.append(test)
            if test.visibility != "visible":
                continue
        elif meta.get("solution") is True:
            cell["source"] = f"# {STUB}\n" if cell.get("cell_type") == "code" else STUB
        else:
            code = cell.get("cell_type") == "code"
            cell["source"] = strip_solutions(source, "#", f"{path}: cell {index}", python=code)
        kept.append(cell)
    names = [t.name for t in tests]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ReleaseError(f"{path}: test names must be unique: {', '.join(duplicates)}")
    if (notebook.get("nbformat"), notebook.get("nbformat_minor", 0)) >= (4, 5):
        for index, cell in enumerate(kept):  # ids are required from nbformat 4.5
            if not isinstance(cell.get("id"), str) or not cell["id"]:
                cell["id"] = f"cell-{index}"
    notebook["cells"] = kept
    student = (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    return Prepared(student, tuple(tests))


def prepare_file(data: bytes, path: str) -> Prepared:
    """Return the student copy of one instructor file (and the notebook tests it holds)."""
    if path.endswith(".ipynb"):
        return prepare_notebook(data, path)
    if not path.lower().endswith(TEXT_SUFFIXES):
        return Prepared(data, ())
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return Prepared(data, ())
    python = path.lower().endswith(".py")
    return Prepared(strip_solutions(text, comment_for(path), path, python).encode("utf-8"), ())
