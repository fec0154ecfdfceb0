"""A local server speaking OpenAI's chat-completions wire format, for tests only.

Models: any name echoes the last user message back, word by word when streaming;
"broken" answers 500; "reject" answers 401 quoting the key, as OpenAI does; "greedy"
reports using all of max_tokens; "slow" streams many words slowly (for disconnects);
"sleepy" waits longer than the proxy's timeout in the tests before answering; "think-<ms>"
waits that many milliseconds before its first byte, as a model does (for benchmarks);
"nousage" (and any name starting with it) answers without usage, whole or streamed, even
when the stream's usage is asked for, as llama.cpp's server does. Each request's
Authorization header and body are kept; a stream the client cut short is marked "cut".
GET /v1/models lists ``MODELS`` (or the list given to ``make_app``, which a test may change),
and each listing is noted.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from tornado import web
from tornado.iostream import StreamClosedError

SLOW_WORDS = 200
SLOW_DELAY = 0.02
SLEEPY_SECONDS = 3.0
MODELS = ["echo", "nousage", "llama-3.1-8b-instruct", "qwen2.5-coder-7b", "broken"]


class _Base(web.RequestHandler):
    """Keep what was sent."""

    def initialize(self, seen: list[dict[str, Any]]) -> None:
        """Share the list of requests with the test."""
        self.seen = seen

    def check_xsrf_cookie(self) -> None:
        """An API server: no cookies."""


class Completions(_Base):
    """POST /v1/chat/completions."""

    async def post(self) -> None:
        """Answer like OpenAI, streaming when asked."""
        body = json.loads(self.request.body)
        self.record = {
            "auth": self.request.headers.get("Authorization"),
            "body": body,
            "cut": False,
        }
        self.seen.append(self.record)
        if body["model"] == "sleepy":
            await asyncio.sleep(SLEEPY_SECONDS)
        if str(body["model"]).startswith("think-"):
            await asyncio.sleep(int(body["model"].removeprefix("think-")) / 1000)
        if body["model"] == "reject":
            key = str(self.request.headers.get("Authorization", "")).removeprefix("Bearer ")
            self.set_status(401)
            self.finish(
                json.dumps(
                    {"error": {"message": f"Incorrect API key provided: {key}.", "type": "auth"}}
                )
            )
            return
        if body["model"] == "broken":
            self.set_status(500)
            self.finish(json.dumps({"error": {"message": "upstream exploded", "type": "server"}}))
            return
        last_user = [m for m in body["messages"] if m["role"] == "user"][-1]
        text = "echo: " + str(last_user["content"])
        words = text.split(" ")
        if body["model"] == "slow":
            words = [f"w{i}" for i in range(SLOW_WORDS)]
        usage = {
            "prompt_tokens": sum(len(str(m["content"])) for m in body["messages"]) // 4 + 1,
            "completion_tokens": len(words),
        }
        if body["model"] == "greedy":
            usage["completion_tokens"] = int(body.get("max_tokens") or 16)
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        base = {"id": "chatcmpl-test", "created": int(time.time()), "model": body["model"]}
        reports_usage = not str(body["model"]).startswith("nousage")
        if not body.get("stream"):
            whole = {
                **base,
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": text},
                    }
                ],
            }
            if reports_usage:
                whole["usage"] = usage
            self.finish(json.dumps(whole))
            return
        self.set_header("Content-Type", "text/event-stream")
        try:
            for i, word in enumerate(words):
                delta = (
                    {"role": "assistant", "content": word} if i == 0 else {"content": " " + word}
                )
                chunk = {
                    **base,
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                }
                self.write(f"data: {json.dumps(chunk)}\n\n")
                await self.flush()
                if body["model"] == "slow":
                    await asyncio.sleep(SLOW_DELAY)
        except StreamClosedError:
            self.record["cut"] = True
            return
        last = {
            **base,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
        self.write(f"data: {json.dumps(last)}\n\n")
        if reports_usage and (body.get("stream_options") or {}).get("include_usage"):
            final = {**base, "object": "chat.completion.chunk", "choices": [], "usage": usage}
            self.write(f"data: {json.dumps(final)}\n\n")
        self.write("data: [DONE]\n\n")
        self.finish()

    def on_connection_close(self) -> None:
        """Note a client that left before the end."""
        if not self._finished and hasattr(self, "record"):
            self.record["cut"] = True


class Models(web.RequestHandler):
    """GET /v1/models."""

    def initialize(self, models: list[str], listings: list[str | None]) -> None:
        """Share the model list and the record of listings with the test."""
        self.models = models
        self.listings = listings

    def get(self) -> None:
        """List the models, as OpenAI does."""
        self.listings.append(self.request.headers.get("Authorization"))
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]
        self.finish(json.dumps({"object": "list", "data": data}))


def make_app(
    seen: list[dict[str, Any]],
    models: list[str] | None = None,
    listings: list[str | None] | None = None,
) -> web.Application:
    """The fake OpenAI API, mounted at /v1 and, always failing, at /failing/v1."""
    listed = {
        "models": MODELS if models is None else models,
        "listings": [] if listings is None else listings,
    }
    return web.Application(
        [
            (r"/v1/chat/completions", Completions, {"seen": seen}),
            (r"/v1/models", Models, listed),
            (r"/failing/v1/.*", web.ErrorHandler, {"status_code": 503}),
        ]
    )
