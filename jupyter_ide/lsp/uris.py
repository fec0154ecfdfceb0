"""File URIs between the browser's root and the language server's (the container's /workspace).

The browser names files under its root URI (the workspace folder as the server that serves
/ide sees it, or a JupyterLab's root); the server in its sandbox sees the same files at
/workspace. Every string of a JSON-RPC message that starts with one side's root (values and
object keys, e.g. a WorkspaceEdit's ``changes``) is rewritten to the other side's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from ..kernels.containers import WORKSPACE_INSIDE

INSIDE_URI = "file://" + WORKSPACE_INSIDE


def file_uri(path: Path | str) -> str:
    """Return the file URI of an absolute path, without a trailing slash."""
    text = str(path).rstrip("/") or "/"
    return "file://" + quote(text, safe="/:@!$&'()*+,;=-._~")


class RootMap:
    """Rewrites URIs and paths under one root into another root (both ways)."""

    def __init__(self, outside: str, inside: str = INSIDE_URI) -> None:
        """Map ``outside`` (the browser's root URI) to ``inside`` (the container's)."""
        self.outside = outside.rstrip("/")
        self.inside = inside.rstrip("/")
        self._outside_path = unquote(self.outside.removeprefix("file://"))
        self._inside_path = unquote(self.inside.removeprefix("file://"))

    def to_inside(self, message: Any) -> Any:
        """Return ``message`` with the browser's root replaced by the container's."""
        return _rewrite(message, self.outside, self.inside, self._outside_path, self._inside_path)

    def to_outside(self, message: Any) -> Any:
        """Return ``message`` with the container's root replaced by the browser's."""
        return _rewrite(message, self.inside, self.outside, self._inside_path, self._outside_path)

    def text_to_outside(self, text: str) -> str:
        """Rewrite a server's raw JSON text as ``to_outside`` does its parsed form.

        A JSON string that starts with the container's root (URI or path) and goes on with
        ``/`` or ends there gets the browser's root: the same strings ``to_outside`` rewrites,
        found without parsing (a completion list is often hundreds of kilobytes). Servers that
        escape slashes (as backslash-slash) are matched too.
        """
        for old, new in ((self.inside, self.outside), (self._inside_path, self._outside_path)):
            if old == new or old not in text.replace("\\/", "/"):
                continue
            for slash in ("/", "\\/"):
                escaped_old = old.replace("/", slash)
                escaped_new = json.dumps(new)[1:-1].replace("/", slash)
                for tail in (slash, '"'):
                    text = text.replace(f'"{escaped_old}{tail}', f'"{escaped_new}{tail}')
        return text


def _swap(text: str, old: str, new: str) -> str | None:
    """Return ``text`` with the prefix ``old`` (a whole path segment) made ``new``, or None."""
    if text.startswith(old) and (len(text) == len(old) or text[len(old)] in "/?#"):
        return new + text[len(old) :]
    return None


def _rewrite(value: Any, old_uri: str, new_uri: str, old_path: str, new_path: str) -> Any:
    """Rewrite every string under ``old_uri`` (or the bare path ``old_path``) in ``value``."""
    if isinstance(value, str):
        if value.startswith("file:"):
            swapped = _swap(value, old_uri, new_uri)
            return value if swapped is None else swapped
        if value.startswith("/"):
            swapped = _swap(value, old_path, new_path)
            return value if swapped is None else swapped
        return value
    if isinstance(value, list):
        return [_rewrite(v, old_uri, new_uri, old_path, new_path) for v in value]
    if isinstance(value, dict):
        return {
            _rewrite(k, old_uri, new_uri, old_path, new_path): _rewrite(
                v, old_uri, new_uri, old_path, new_path
            )
            for k, v in value.items()
        }
    return value
