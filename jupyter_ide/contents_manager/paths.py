"""Small helpers on API paths ("a/b/c.txt", "" is the workspace root)."""

from __future__ import annotations


def parent_of(path: str) -> str:
    """Return the folder ``path`` sits in ("" for the root)."""
    return path.rsplit("/", 1)[0] if "/" in path else ""


def name_of(path: str) -> str:
    """Return the last part of ``path``."""
    return path.rsplit("/", 1)[-1]


def join(folder: str, name: str) -> str:
    """Join a folder and a name."""
    return f"{folder}/{name}" if folder else name


def ancestors(path: str) -> list[str]:
    """Return every folder above ``path``, outermost first, without the root."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def is_hidden_path(path: str) -> bool:
    """Return True when any part of ``path`` starts with a dot."""
    return any(part.startswith(".") for part in path.split("/") if part)


def is_within(path: str, folder: str) -> bool:
    """Return True when ``path`` is ``folder`` or below it."""
    return not folder or path == folder or path.startswith(folder + "/")
