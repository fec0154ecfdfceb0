"""HTTP for the AI proxy: OpenAI's chat completions and models, and users' own keys."""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.iostream import StreamClosedError

from ..auth import requires
from .crypto import SecretsUnavailable
from .keys import KeyError_, KeyStore
from .providers import ProviderError
from .proxy import AIProxy, BadRequest
from .quotas import QuotaExceeded

AUTH_RESOURCE = "ide"


class _AIHandler(APIHandler):
    """Shared parts: the caller's name and the proxy."""

    auth_resource = AUTH_RESOURCE

    @property
    def proxy(self) -> AIProxy:
        """The server's AI proxy."""
        proxy: AIProxy = self.settings["jupyter_ide_ai"]
        return proxy

    def caller(self) -> str:
        """Return the caller's stable name."""
        return str(self.settings["jupyter_ide_roles"].name_of(self.current_user))


class ChatCompletionsHandler(_AIHandler):
    """POST /v1/chat/completions, streaming as server-sent events when asked."""

    @web.authenticated
    @requires("ai:use")
    async def post(self) -> None:
        """Answer a chat completion request as OpenAI's API does."""
        try:
            body: Any = json.loads(self.request.body or b"")
        except ValueError as e:
            raise web.HTTPError(400, f"The body is not valid JSON: {e}") from e
        try:
            upstream = self.proxy.check(body)
            if body.get("stream"):
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                await self._stream(upstream, include_usage)
            else:
                self.finish(json.dumps(await self.proxy.complete(self.caller(), upstream)))
        except BadRequest as e:
            raise web.HTTPError(e.status, str(e)) from e
        except QuotaExceeded as e:
            raise web.HTTPError(429, str(e)) from e
        except ProviderError as e:
            raise web.HTTPError(e.status, str(e)) from e

    async def _stream(self, upstream: dict[str, Any], include_usage: bool) -> None:
        """Relay chunks as `data:` events, then `data: [DONE]`."""
        chunks = self.proxy.stream(self.caller(), upstream)
        started = False
        try:
            async for chunk in chunks:
                if not started:
                    self.set_header("Content-Type", "text/event-stream")
                    self.set_header("Cache-Control", "no-cache")
                    started = True
                if chunk.get("usage") and not chunk.get("choices") and not include_usage:
                    continue
                self.write(f"data: {json.dumps(chunk)}\n\n")
                await self.flush()
            self.write("data: [DONE]\n\n")
            self.finish()
        except StreamClosedError:
            self.log.info("AI stream: the client left; the upstream request is cancelled")
        except ProviderError as e:
            if not started:
                raise
            self.write(f"data: {json.dumps({'error': {'message': str(e)}})}\n\n")
            self.finish()
        finally:
            await chunks.aclose()


class ModelsHandler(_AIHandler):
    """GET /v1/models."""

    @web.authenticated
    @requires("ai:use")
    async def get(self) -> None:
        """List the models this server routes."""
        self.finish(json.dumps({"object": "list", "data": self.proxy.models()}))


class KeysHandler(_AIHandler):
    """The providers the caller has stored a key for."""

    @web.authenticated
    @requires("ai:keys")
    async def get(self) -> None:
        """List providers with a stored key (never the keys)."""
        keys: KeyStore = self.proxy.keys
        self.finish(json.dumps({"keys": await keys.providers(self.caller())}))


class KeyHandler(_AIHandler):
    """Store or remove the caller's key for one provider."""

    @web.authenticated
    @requires("ai:keys")
    async def put(self, provider: str) -> None:
        """Store {"api_key": "…"} encrypted; answer without it."""
        try:
            body: Any = json.loads(self.request.body or b"{}")
        except ValueError as e:
            raise web.HTTPError(400, f"The body is not valid JSON: {e}") from e
        api_key = body.get("api_key") if isinstance(body, dict) else None
        try:
            await self.proxy.keys.put(self.caller(), provider, api_key)
        except KeyError_ as e:
            raise web.HTTPError(400, str(e)) from e
        except SecretsUnavailable as e:
            raise web.HTTPError(409, str(e)) from e
        self.finish(json.dumps({"provider": provider, "stored": True}))

    @web.authenticated
    @requires("ai:keys")
    async def delete(self, provider: str) -> None:
        """Forget the caller's key for a provider."""
        if not await self.proxy.keys.remove(self.caller(), provider):
            raise web.HTTPError(404, f"No {provider} key is stored for you")
        self.set_status(204)
        self.finish()


default_handlers: list[tuple[str, type[web.RequestHandler], dict[str, Any]]] = [
    (r"/ide/api/ai/v1/chat/completions", ChatCompletionsHandler, {}),
    (r"/ide/api/ai/v1/models", ModelsHandler, {}),
    (r"/ide/api/ai/keys", KeysHandler, {}),
    (r"/ide/api/ai/keys/([a-z]+)", KeyHandler, {}),
]
