"""Which folder a terminal opens in, and what a request may ask of a new terminal."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

from jupyter_server_terminals.terminalmanager import TerminalManager

# Terminal names end up in URLs matched by (\w+).
_NAME = re.compile(r"^\w{1,64}$")
# What POST /api/terminals may carry; terminado would take any option (even the shell command).
FIELDS = frozenset({"name", "cwd"})


class CwdError(ValueError):
    """A requested terminal folder that is not inside the workspace."""


def workspace_folder(workspace: Path, requested: object) -> Path:
    """Return the real folder ``requested`` names inside ``workspace`` (the root when empty).

    ``requested`` is relative to the workspace; absolute paths, ``..`` and links that lead
    out of it are refused with a :class:`CwdError` that says why.
    """
    root = workspace.resolve()
    if requested is None:
        return root
    if not isinstance(requested, str):
        raise CwdError("cwd must be a folder of your workspace, as a string")
    if "\x00" in requested:
        raise CwdError("cwd may not contain a NUL character")
    if requested.strip() in ("", "."):
        return root
    relative = PurePosixPath(requested)
    if relative.is_absolute():
        raise CwdError(
            f"cwd must be relative to your workspace, not an absolute path: {requested!r}"
        )
    if ".." in relative.parts:
        raise CwdError(f"cwd may not leave your workspace with '..': {requested!r}")
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise CwdError(f"cwd leads out of your workspace through a link: {requested!r}")
    if not target.is_dir():
        raise CwdError(f"No such folder in your workspace: {requested!r}")
    return target


class IDETerminalManager(TerminalManager):
    """Jupyter's terminal manager, taking only a name and a workspace folder per terminal."""

    def create_in(self, workspace: Path, body: dict[str, Any]) -> dict[str, Any]:
        """Start a terminal as ``body`` asks (``name``, ``cwd``); raise CwdError/ValueError."""
        unknown = sorted(set(body) - FIELDS)
        if unknown:
            raise ValueError(
                f"Unknown field(s): {', '.join(unknown)} (a new terminal takes 'name' and 'cwd')"
            )
        options: dict[str, Any] = {"cwd": str(workspace_folder(workspace, body.get("cwd")))}
        if "name" in body:
            name = body["name"]
            if not isinstance(name, str) or not _NAME.match(name):
                raise ValueError("name must be 1 to 64 letters, digits or underscores")
            if name in self.terminals:
                raise FileExistsError(f"A terminal named {name!r} is already running")
            options["name"] = name
        return dict(self.create(**options))
