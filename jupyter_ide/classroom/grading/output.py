"""Test output kept to a sane size."""

from __future__ import annotations

MAX_OUTPUT = 8192  # characters of one test's output


def clip(text: str, cap: int = MAX_OUTPUT) -> str:
    """Return ``text`` cut to ``cap`` characters, saying how much was left out."""
    if len(text) <= cap:
        return text
    return f"{text[:cap]}\n[... {len(text) - cap} more characters]"


def clip_bytes(data: bytes | None, cap: int = MAX_OUTPUT) -> str:
    """Decode program output (invalid UTF-8 replaced) and clip it."""
    if not data:
        return ""
    text = data[: cap * 4].decode("utf-8", errors="replace")
    extra = len(data) - cap * 4
    clipped = clip(text, cap)
    if extra > 0 and clipped == text:
        clipped += f"\n[... {extra} more bytes]"
    return clipped
