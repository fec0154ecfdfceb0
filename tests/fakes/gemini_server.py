"""A local server speaking Gemini's REST wire format (generateContent, streamGenerateContent
with ``alt=sse``), for tests only.

Models: any name echoes the last user turn back, word by word when streaming;
"gemini-broken" answers 500; "gemini-slow" streams many words slowly (for disconnects);
"gemini-nousage" answers without usage metadata. Each request's path, API key header,
query and body are kept; a stream the client cut short is marked ``"cut": True``.
GET /v1beta/models lists ``MODELS`` (one of them embeds only).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tornado import web
from tornado.iostream import StreamClosedError

SLOW_WORDS = 200
SLOW_DELAY = 0.02
MODELS = {
    "gemini-2.0-flash": ["generateContent", "countTokens"],
    "gemini-2.5-pro": ["generateContent", "countTokens"],
    "text-embedding-004": ["embedContent"],
}


def _text_of(contents: list[dict[str, Any]]) -> str:
    """The text of the last user turn."""
    last = [c for c in contents if c.get("role", "user") == "user"][-1]
    return "".join(str(p.get("text", "")) for p in last.get("parts", []))


def _tokens(text: str) -> int:
    """A rough token count: one per four characters, at least one."""
    return len(text) // 4 + 1


class GenerateContent(web.RequestHandler):
    """POST /v1beta/models/<model>:(generateContent|streamGenerateContent)."""

    def initialize(self, seen: list[dict[str, Any]]) -> None:
        """Share the list of requests with the test."""
        self.seen = seen
        self.record: dict[str, Any] = {}

    def check_xsrf_cookie(self) -> None:
        """An API server: no cookies."""

    def _error(self, status: int, message: str, kind: str) -> None:
        """Answer in Google's error format."""
        self.set_status(status)
        self.finish(json.dumps({"error": {"code": status, "message": message, "status": kind}}))

    async def post(self, model: str, method: str) -> None:
        """Answer like Gemini, streaming as server-sent events when asked."""
        body = json.loads(self.request.body)
        self.record = {
            "path": self.request.path,
            "model": model,
            "method": method,
            "api_key": self.request.headers.get("x-goog-api-key"),
            "query": {k: self.get_argument(k) for k in self.request.arguments},
            "body": body,
            "cut": False,
        }
        self.seen.append(self.record)
        if not self.request.headers.get("x-goog-api-key"):
            self._error(401, "API key not valid. Please pass a valid API key.", "UNAUTHENTICATED")
            return
        if model == "gemini-broken":
            self._error(500, "An internal error has occurred.", "INTERNAL")
            return
        prompt_text = json.dumps(body.get("contents")) + json.dumps(
            body.get("systemInstruction") or ""
        )
        text = "echo: " + _text_of(body["contents"])
        words = text.split(" ")
        if model == "gemini-slow":
            words = [f"w{i}" for i in range(SLOW_WORDS)]
        usage = {
            "promptTokenCount": _tokens(prompt_text),
            "candidatesTokenCount": len(words),
            "totalTokenCount": _tokens(prompt_text) + len(words),
        }
        reports_usage = model != "gemini-nousage"
        if method == "generateContent":
            whole: dict[str, Any] = {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": [{"text": text}]},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "modelVersion": model,
                "responseId": "gemini-fake-1",
            }
            if reports_usage:
                whole["usageMetadata"] = usage
            self.finish(json.dumps(whole))
            return
        if self.get_argument("alt", "") != "sse":
            self._error(400, "This fake streams only with alt=sse", "INVALID_ARGUMENT")
            return
        self.set_header("Content-Type", "text/event-stream")
        try:
            for i, word in enumerate(words):
                piece = word if i == 0 else " " + word
                chunk: dict[str, Any] = {
                    "candidates": [
                        {"content": {"role": "model", "parts": [{"text": piece}]}, "index": 0}
                    ],
                    "modelVersion": model,
                    "responseId": "gemini-fake-1",
                }
                if i == len(words) - 1:
                    chunk["candidates"][0]["finishReason"] = "STOP"
                    if reports_usage:
                        chunk["usageMetadata"] = usage
                self.write(f"data: {json.dumps(chunk)}\r\n\r\n")
                await self.flush()
                if model == "gemini-slow":
                    await asyncio.sleep(SLOW_DELAY)
        except StreamClosedError:
            self.record["cut"] = True
            return
        self.finish()

    def on_connection_close(self) -> None:
        """Note a client that left before the end."""
        if not self._finished:
            self.record["cut"] = True


class ListModels(web.RequestHandler):
    """GET /v1beta/models."""

    def get(self) -> None:
        """List the models with the methods each supports, as Gemini does."""
        if not self.request.headers.get("x-goog-api-key"):
            self.set_status(401)
            self.finish(json.dumps({"error": {"code": 401, "message": "no key", "status": "x"}}))
            return
        models = [
            {"name": f"models/{name}", "supportedGenerationMethods": methods}
            for name, methods in MODELS.items()
        ]
        self.finish(json.dumps({"models": models}))


def make_app(seen: list[dict[str, Any]]) -> web.Application:
    """The fake Gemini API under /v1beta (and /v1, which newer SDKs default to)."""
    return web.Application(
        [
            (r"/v1(?:beta)?/models", ListModels),
            (
                r"/v1(?:beta)?/models/([^/:]+):(generateContent|streamGenerateContent)",
                GenerateContent,
                {"seen": seen},
            ),
        ]
    )
