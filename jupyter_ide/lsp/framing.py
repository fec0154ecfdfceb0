"""LSP's base protocol on a byte stream: ``Content-Length`` headers, then a JSON body."""

from __future__ import annotations

import asyncio
import json
from typing import Any

MAX_MESSAGE = 64 * 1024 * 1024  # bytes of one message from a server


class FramingError(ValueError):
    """A server wrote something that is not an LSP message."""


def frame(message: dict[str, Any]) -> bytes:
    """Return one message with its header, ready to write to a server's stdin."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def read_message(reader: asyncio.StreamReader) -> tuple[dict[str, Any], str] | None:
    """Read one message: parsed, and its JSON text as sent; None at the end of the stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError as e:
        raise FramingError("a header longer than the stream's limit") from e
    length = -1
    for line in head.decode("ascii", "replace").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            try:
                length = int(value.strip())
            except ValueError as e:
                raise FramingError(f"a bad Content-Length: {value.strip()!r}") from e
    if not 0 <= length <= MAX_MESSAGE:
        raise FramingError(f"no usable Content-Length in {head[:200]!r}")
    try:
        body = await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        return None
    try:
        text = body.decode("utf-8")
        message = json.loads(text)
    except ValueError as e:
        raise FramingError(f"a body that is not JSON: {body[:200]!r}") from e
    if not isinstance(message, dict):
        raise FramingError("a body that is not a JSON object")
    return message, text
