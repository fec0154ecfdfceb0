"""What a live room's document holds: a text file's Y.Text, or a notebook as a YNotebook.

A notebook's room follows the Jupyter ecosystem's shared-notebook model (jupyter_ydoc's
``YNotebook``: a Y.Array ``cells`` of Y.Maps, each with a Y.Text ``source``, ``cell_type``,
``id``, ``metadata``, ``outputs`` and ``execution_count``; a Y.Map ``meta``; a Y.Map ``state``).
A saved notebook that cannot be shown (too large, not JSON, not nbformat 4) seeds an empty
document whose ``state`` names the problem under ``error``. Reading a document never trusts
its layout: a writer may have sent anything.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Array, Doc, Map, Text

from .manager import ClassroomError

log = logging.getLogger(__name__)

TEXT = "source"  # the Y.Text a text room's document keeps the file's text in
CELLS = "cells"
META = "meta"
STATE = "state"
ERROR = "error"  # the key of ``state`` naming why the saved notebook is not shown
NOTEBOOK_SUFFIX = ".ipynb"
CELL_TYPES = ("code", "markdown", "raw")
MAX_CELLS = 5000  # cells a live notebook shows

Saved = Callable[[], Awaitable[str]]


def is_notebook(path: str) -> bool:
    """Return whether ``path`` is a notebook (its room holds a YNotebook)."""
    return path.lower().endswith(NOTEBOOK_SUFFIX)


class BadNotebook(ValueError):
    """The saved file is not a notebook the live view can show."""


def _text(value: Any) -> str | None:
    """Return nbformat's multiline string (a string or a list of strings) as one string."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return None


def _cell(raw: Any, index: int) -> dict[str, Any]:
    """Return one saved cell as YNotebook takes it; raise BadNotebook when it is not one."""
    if not isinstance(raw, dict):
        raise BadNotebook(f"cell {index + 1} is not an object")
    cell_type = raw.get("cell_type")
    if cell_type not in CELL_TYPES:
        raise BadNotebook(f"cell {index + 1} has no valid cell_type")
    source = _text(raw.get("source", ""))
    if source is None:
        raise BadNotebook(f"cell {index + 1} has no valid source")
    metadata = raw.get("metadata", {})
    cell_id = raw.get("id")
    cell: dict[str, Any] = {
        "id": cell_id if isinstance(cell_id, str) and cell_id else f"cell-{index}",
        "cell_type": cell_type,
        "source": source,
        "metadata": metadata if isinstance(metadata, dict) else {},
    }
    if cell_type == "code":
        outputs = raw.get("outputs", [])
        if not isinstance(outputs, list) or not all(isinstance(o, dict) for o in outputs):
            raise BadNotebook(f"cell {index + 1} has invalid outputs")
        count = raw.get("execution_count")
        cell["outputs"] = outputs
        cell["execution_count"] = count if isinstance(count, int) else None
    return cell


def parse_notebook(saved: str) -> dict[str, Any]:
    """Return a saved .ipynb's content as YNotebook.set takes it; raise BadNotebook."""
    if not saved.strip():
        return {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    try:
        raw = json.loads(saved)
    except ValueError as e:
        raise BadNotebook(f"it is not valid JSON ({e})") from e
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise BadNotebook("it has no list of cells")
    if raw.get("nbformat") != 4:
        raise BadNotebook(f"nbformat {raw.get('nbformat')!r} is not shown live (only 4)")
    if len(raw["cells"]) > MAX_CELLS:
        raise BadNotebook(f"it has more than {MAX_CELLS} cells")
    metadata = raw.get("metadata", {})
    minor = raw.get("nbformat_minor", 5)
    return {
        "cells": [_cell(cell, i) for i, cell in enumerate(raw["cells"])],
        "metadata": metadata if isinstance(metadata, dict) else {},
        "nbformat": 4,
        "nbformat_minor": minor if isinstance(minor, int) else 5,
    }


class RoomContent:
    """A text room's document: the file's text as the Y.Text ``source``."""

    def __init__(self, doc: Doc[Any]) -> None:
        """Keep the room's document."""
        self.doc = doc
        self.text: Text = doc.get(TEXT, type=Text)

    async def seed(self, saved: Saved) -> None:
        """Fill a new room with the saved file (its errors reach the caller: 4xx closes)."""
        text = await saved()
        if text:
            self.text += text

    def refresh(self, saved: str) -> None:
        """Make the document hold ``saved`` (the file as saved now) if it holds other text."""
        if str(self.text) != saved:
            with self.doc.transaction():
                self.text.clear()
                self.text += saved

    def clear(self) -> None:
        """Empty the document (a lone new editor of the owner's fills it)."""
        if len(self.text):
            self.text.clear()


class NotebookContent(RoomContent):
    """A notebook room's document, in jupyter_ydoc's YNotebook layout."""

    def __init__(self, doc: Doc[Any]) -> None:
        """Lay out the YNotebook's roots in the room's document."""
        super().__init__(doc)
        self.notebook = YNotebook(doc)
        self.cells: Array[Any] = doc.get(CELLS, type=Array)
        self.state: Map[Any] = doc.get(STATE, type=Map)
        self._seeded: tuple[str, bytes] | None = None  # saved text, the document's state then

    async def seed(self, saved: Saved) -> None:
        """Fill a new room with the saved notebook, or with why it cannot be shown."""
        try:
            text = await saved()
        except ClassroomError as e:  # too large, not UTF-8
            self._fail(e.message)
            return
        self.refresh(text)

    def refresh(self, saved: str) -> None:
        """Make the document the saved notebook unless it holds it already, unchanged."""
        if self._seeded == (saved, self.doc.get_state()):
            return
        try:
            content = parse_notebook(saved)
        except BadNotebook as e:
            self._fail(f"The saved notebook cannot be shown: {e}")
        else:
            with self.doc.transaction():
                self.cells.clear()
                self.notebook.set(content)
        self._seeded = (saved, self.doc.get_state())

    def _fail(self, message: str) -> None:
        """Empty the cells and say why in ``state``."""
        log.info("Live notebook not shown: %s", message)
        with self.doc.transaction():
            self.cells.clear()
            self.state[ERROR] = message

    def clear(self) -> None:
        """Empty the cells and the error (a lone new editor of the owner's fills them)."""
        if len(self.cells) or ERROR in self.state:
            with self.doc.transaction():
                self.cells.clear()
                self.state.pop(ERROR, None)
        self._seeded = None


def content_for(path: str, doc: Doc[Any]) -> RoomContent:
    """Return the content a room of ``path`` keeps in ``doc`` (a notebook or a text)."""
    return NotebookContent(doc) if is_notebook(path) else RoomContent(doc)


def _plain(value: Any) -> Any:
    """Return a document value as plain Python (Y types read as their content)."""
    if isinstance(value, (Text, Map, Array)):
        return value.to_py()
    return value


def read_notebook(doc: Doc[Any]) -> dict[str, Any]:
    """Return what a notebook room's document shows: {cells, error}, whatever its layout.

    A cell that is not a map is left out; a missing or odd ``source`` reads as ""; outputs
    that are not a list of objects read as none.
    """
    cells = []
    try:
        items = list(doc.get(CELLS, type=Array))
        state = doc.get(STATE, type=Map).to_py() or {}
    except Exception:  # a root of another type: nothing to show
        return {"cells": [], "error": "The notebook's document is not a notebook"}
    for item in items:
        if not isinstance(item, Map):
            continue
        source = _plain(item.get("source"))
        cell_type = item.get("cell_type")
        outputs = _plain(item.get("outputs"))
        count = item.get("execution_count")
        cells.append(
            {
                "id": str(item.get("id") or ""),
                "cell_type": cell_type if cell_type in CELL_TYPES else "raw",
                "source": source if isinstance(source, str) else "",
                "outputs": [o for o in outputs if isinstance(o, dict)]
                if isinstance(outputs, list)
                else [],
                "execution_count": int(count) if isinstance(count, (int, float)) else None,
            }
        )
    error = state.get(ERROR)
    return {"cells": cells, "error": error if isinstance(error, str) else None}
