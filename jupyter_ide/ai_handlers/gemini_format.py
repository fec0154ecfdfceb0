"""Translate between OpenAI's chat format and Gemini's (google-genai types), both ways."""

from __future__ import annotations

import time
from typing import Any

from google.genai import types

from .errors import ProviderError

FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
}


def _text(content: Any) -> str:
    """Return the text of an OpenAI message content (a string or text parts)."""
    if isinstance(content, str):
        return content
    texts = []
    for part in content:
        if not isinstance(part, dict) or part.get("type") != "text":
            raise ProviderError(
                "Gemini routes here take text only (no images or files)",
                status=400,
                retryable=False,
            )
        texts.append(str(part.get("text", "")))
    return "".join(texts)


def to_gemini(body: dict[str, Any]) -> tuple[list[types.Content], types.GenerateContentConfig]:
    """Return Gemini contents and config for an OpenAI chat request.

    System messages before the first turn become the system instruction; Gemini has no
    system turn later in a conversation, so a system message after a turn stays where it
    is, as text of a user turn (the hint-only policy repeated last reaches Gemini last).
    """
    system: list[str] = []
    contents: list[types.Content] = []
    for message in body["messages"]:
        role, text = message["role"], _text(message["content"])
        if role in ("system", "developer") and not contents:
            system.append(text)
            continue
        gemini_role = "model" if role == "assistant" else "user"
        if contents and contents[-1].role == gemini_role and contents[-1].parts is not None:
            contents[-1].parts.append(types.Part(text=text))
        else:
            contents.append(types.Content(role=gemini_role, parts=[types.Part(text=text)]))
    stop = body.get("stop")
    config = types.GenerateContentConfig(
        system_instruction="\n\n".join(system) if system else None,
        max_output_tokens=body.get("max_tokens"),
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        stop_sequences=[stop] if isinstance(stop, str) else stop,
        seed=body.get("seed"),
        presence_penalty=body.get("presence_penalty"),
        frequency_penalty=body.get("frequency_penalty"),
    )
    return contents, config


def _candidate_text(response: types.GenerateContentResponse) -> tuple[str, str | None]:
    """Return the first candidate's text and its OpenAI finish reason (None while streaming)."""
    if not response.candidates:
        return "", None
    candidate = response.candidates[0]
    parts = (candidate.content.parts if candidate.content else None) or []
    text = "".join(p.text for p in parts if p.text and not p.thought)
    reason = candidate.finish_reason
    if reason is None:
        return text, None
    return text, FINISH_REASONS.get(str(getattr(reason, "value", reason)), "stop")


def usage_of(response: types.GenerateContentResponse) -> dict[str, int] | None:
    """Return OpenAI usage for Gemini's usage metadata, if the response carries it."""
    meta = response.usage_metadata
    if meta is None or meta.prompt_token_count is None:
        return None
    prompt = int(meta.prompt_token_count)
    total = int(meta.total_token_count or 0)
    completion = int(meta.candidates_token_count or 0) + int(meta.thoughts_token_count or 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": max(total, prompt + completion),
    }


def _id(response: types.GenerateContentResponse) -> str:
    """Return an OpenAI-style completion id."""
    return f"chatcmpl-{response.response_id or 'gemini'}"


def to_openai(response: types.GenerateContentResponse, model: str) -> dict[str, Any]:
    """Return the OpenAI chat completion for a whole Gemini response."""
    text, reason = _candidate_text(response)
    result: dict[str, Any] = {
        "id": _id(response),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": reason or "stop",
            }
        ],
    }
    usage = usage_of(response)
    if usage:
        result["usage"] = usage
    return result


def to_openai_chunks(
    response: types.GenerateContentResponse, model: str, first: bool
) -> list[dict[str, Any]]:
    """Return the OpenAI stream chunks for one Gemini stream chunk (usage in its own chunk)."""
    text, reason = _candidate_text(response)
    base = {
        "id": _id(response),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }
    chunks: list[dict[str, Any]] = []
    if text or first:
        delta = {"role": "assistant", "content": text} if first else {"content": text}
        chunks.append({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
    if reason:
        chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]})
    usage = usage_of(response)
    if usage and reason:
        chunks.append({**base, "choices": [], "usage": usage})
    return chunks
