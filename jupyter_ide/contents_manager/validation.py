"""Checks on what clients send to the contents API: paths, sizes and notebooks."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import unquote

import nbformat
from tornado import web

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_UNQUOTE_ROUNDS = 5


def _fully_unquoted(path: str) -> str:
    """Undo percent-encoding until the text stops changing (catches double encoding)."""
    for _ in range(_MAX_UNQUOTE_ROUNDS):
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    return path


def check_api_path(path: str) -> str:
    """Return ``path`` relative to the root, or raise 400 for a path that could escape it."""
    if not isinstance(path, str):
        raise web.HTTPError(400, "A path must be a string")
    for candidate in (path, _fully_unquoted(path)):
        if _CONTROL.search(candidate):
            raise web.HTTPError(400, "File names may not contain control characters")
        if "\\" in candidate:
            raise web.HTTPError(400, "Use '/' to separate folders; '\\' is not allowed in paths")
        relative = candidate[1:] if candidate.startswith("/") else candidate
        if relative.startswith("/") or _DRIVE.match(relative):
            raise web.HTTPError(400, f"Absolute paths are not allowed: {path!r}")
        if ".." in relative.split("/"):
            raise web.HTTPError(400, f"Paths may not contain '..': {path!r}")
        if "//" in relative.rstrip("/"):
            raise web.HTTPError(400, f"Paths may not contain empty folder names: {path!r}")
    return path.strip("/")


# Line breaks and spaces that MIME-style base64 (Python's base64.encodebytes, `base64` without
# -w0) puts in; Jupyter's decoder skips them, and so do we. Anything else outside the alphabet
# is refused rather than silently dropped.
_BASE64_SPACE = " \t\n\r\v\f"
_DROP_SPACE = str.maketrans("", "", _BASE64_SPACE)


def content_size(content: Any, fmt: str | None) -> int:
    """Return the number of bytes a file model's content will take on disk."""
    if content is None:
        return 0
    if not isinstance(content, str):
        raise web.HTTPError(400, "File content must be a string")
    if fmt == "base64":
        letters = len(content) - sum(content.count(space) for space in _BASE64_SPACE)
        padding = content.rstrip(_BASE64_SPACE)[-2:].count("=")
        return max(letters * 3 // 4 - padding, 0)
    return len(content.encode("utf-8", errors="surrogatepass"))


def decode_base64(content: str, what: str) -> bytes:
    """Return the bytes of base64 ``content`` (line breaks allowed), or raise a clear 400."""
    try:
        return base64.b64decode(content.translate(_DROP_SPACE), validate=True)
    except (binascii.Error, ValueError) as e:
        raise web.HTTPError(
            400,
            f"{what} is not valid base64 ({e}): only A-Z, a-z, 0-9, '+', '/', '=' padding at "
            "the end, and line breaks are allowed",
        ) from e


def check_notebook(content: Any) -> None:
    """Raise 400 unless ``content`` is a valid nbformat 4 notebook."""
    if not isinstance(content, dict):
        raise web.HTTPError(400, "Malformed notebook: the content must be a JSON object")
    try:
        notebook = nbformat.from_dict(content)
        nbformat.validate(notebook)
    except Exception as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise web.HTTPError(400, f"Malformed notebook: {first_line}") from e


def check_notebook_text(text: str) -> None:
    """Raise 400 unless ``text`` is the JSON of a valid notebook."""
    try:
        content = json.loads(text)
    except ValueError as e:
        raise web.HTTPError(400, f"Malformed notebook: not valid JSON ({e})") from e
    check_notebook(content)
