"""Calls to the service's REST APIs as this server's user, with the service's errors kept."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest, HTTPResponse

from .connection import ServiceConnection

log = logging.getLogger(__name__)
REQUEST_TIMEOUT = 120.0  # a large file's save, or a slow S3 behind the service
CONNECT_TIMEOUT = 10.0
MAX_CLIENTS = 32  # requests to the service in flight at once (tornado's default is 10)


def service_message(reply: HTTPResponse) -> str:
    """Return what the service said went wrong (its JSON ``message``, else its text)."""
    body = reply.body or b""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("message"), str) and data["message"]:
        return str(data["message"])
    text = body.decode("utf-8", "replace").strip()
    return text[:300] or (reply.reason or f"HTTP {reply.code}")


def unreachable(error: BaseException) -> web.HTTPError:
    """Return the answer to give when the service cannot be reached at all."""
    return web.HTTPError(
        503, "The jupyter-ide service cannot be reached right now (%s); try again shortly", error
    )


class ServiceClient:
    """One user's HTTP client for the service (made when first used, on the server's loop)."""

    def __init__(self, connection: ServiceConnection) -> None:
        """Keep the connection; the HTTP client is made on first use."""
        self.connection = connection
        self._http: AsyncHTTPClient | None = None

    @property
    def http(self) -> AsyncHTTPClient:
        """The tornado HTTP client of this server's loop."""
        if self._http is None:
            self._http = AsyncHTTPClient(force_instance=True, max_clients=MAX_CLIENTS)
        return self._http

    def request(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        **options: Any,
    ) -> HTTPRequest:
        """Build a request to ``path`` at the service, signed with the user's token."""
        url = self.connection.endpoint(path)
        if query:
            url += "?" + urlencode(query)
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = b""
        return HTTPRequest(
            url,
            method=method,
            headers={**(headers or {}), **self.connection.headers},
            body=body,
            request_timeout=REQUEST_TIMEOUT,
            connect_timeout=CONNECT_TIMEOUT,
            follow_redirects=False,
            **options,
        )

    async def fetch(self, request: HTTPRequest) -> HTTPResponse:
        """Send ``request``; a service that cannot be reached is a 503 with the reason."""
        try:
            return await self.http.fetch(request, raise_error=False)
        except OSError as e:
            raise unreachable(e) from e

    async def call_json(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        model: Any = None,
    ) -> Any:
        """Call a JSON API; return its JSON (None for an empty body) or raise its error."""
        body = None if model is None else json.dumps(model).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        reply = await self.fetch(self.request(method, path, query, body, headers))
        if reply.code == 599:  # tornado: no HTTP answer at all (timeout, refused, reset)
            raise unreachable(reply.error or RuntimeError("no answer"))
        if reply.code >= 500:
            log.warning("The service answered %s %s: %s", method, path, service_message(reply))
            raise web.HTTPError(502, "The jupyter-ide service failed: %s", service_message(reply))
        if reply.code >= 400:
            raise web.HTTPError(reply.code, "%s", service_message(reply))
        return json.loads(reply.body) if reply.body else None

    def close(self) -> None:
        """Close the HTTP client (its connections)."""
        if self._http is not None:
            self._http.close()
            self._http = None
