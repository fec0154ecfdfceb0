"""Token counts the proxy can vouch for when an upstream reports none: upper bounds.

Every tokenizer the providers use (byte-level BPE, SentencePiece with byte fallback) turns
each token into at least one byte of text, so a text's UTF-8 length bounds its token count
from above; what a tokenizer adds besides the text (a chat template's role markers, the end
of a turn) is counted as a fixed overhead per message. The bounds never undercount, whatever
the model; they overcount (about four times for English), which is the price of an upstream
that does not say what it used.
"""

from __future__ import annotations

from typing import Any

MESSAGE_OVERHEAD = 8  # a chat template's tokens around one message (role, separators, end)
REPLY_OVERHEAD = 8  # the assistant header before a reply and the end-of-turn token after it


def text_of(content: Any) -> str:
    """Return the text of a message's content: a string, or the text of its parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict):
                texts.append(str(part.get("text") or ""))
            else:
                texts.append(str(part))
        return "".join(texts)
    return "" if content is None else str(content)


def _content_bytes(content: Any) -> int:
    """Count the UTF-8 bytes a message's content sends (non-text parts as their JSON)."""
    if isinstance(content, list):
        total = 0
        for part in content:
            if isinstance(part, dict) and part.get("type", "text") == "text":
                total += len(str(part.get("text") or "").encode())
            else:
                total += len(repr(part).encode())
        return total
    return len(text_of(content).encode())


def prompt_tokens_at_most(messages: list[dict[str, Any]]) -> int:
    """Return an upper bound of the tokens ``messages`` take as a prompt."""
    return sum(_content_bytes(m.get("content")) + MESSAGE_OVERHEAD for m in messages)


def completion_tokens_at_most(text: str) -> int:
    """Return an upper bound of the tokens a reply of ``text`` took."""
    return len(text.encode()) + REPLY_OVERHEAD


def settled_usage(
    reported: dict[str, Any] | None, messages: list[dict[str, Any]], reply: str
) -> dict[str, int]:
    """Return the usage to charge: the upstream's counts, each missing one bounded by ours.

    A count the upstream gives is its own tokenizer's and is kept; one it leaves out (or
    sends as something other than a whole number) is replaced by the upper bound.
    """
    reported = reported or {}
    prompt = _count(reported.get("prompt_tokens"))
    completion = _count(reported.get("completion_tokens"))
    if prompt is None:
        prompt = prompt_tokens_at_most(messages)
    if completion is None:
        completion = completion_tokens_at_most(reply)
    total = _count(reported.get("total_tokens"))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": max(total or 0, prompt + completion),
    }


def _count(value: Any) -> int | None:
    """Return a reported token count, or None when it is absent or not a count."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value
