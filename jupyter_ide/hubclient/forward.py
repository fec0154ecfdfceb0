"""The /ide APIs of a hub user's server: each request passed on to the service as its user.

The service holds what they need (database, Redis, S3, keys, the judge's sandboxes) and
decides what the user may do from their token; this server only signs the request with the
user's own token after the hub has signed the caller in here. Answers stream back as they
come (the AI proxy's server-sent events), with the service's status and message.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import httputil, web
from tornado.iostream import StreamClosedError

from ..auth import requires
from .client import ServiceClient, unreachable

CLIENT_SETTING = "jupyter_ide_service_client"
# What a browser sends that the service reads; the user's token replaces any Authorization.
REQUEST_HEADERS = ("Content-Type", "Accept", "Accept-Language", "Last-Event-ID", "X-IDE-Course")
# What the service answers that the browser needs; the rest (lengths, hops) tornado sets.
REPLY_HEADERS = (
    "Content-Type",
    "Cache-Control",
    "Content-Disposition",
    "Retry-After",
    "X-Accel-Buffering",
    "ETag",
    "Last-Modified",
)


class ServiceForwardHandler(APIHandler):
    """Any verb on /ide/api/<path>: the service's answer to the same call by this user."""

    auth_resource = "ide"

    @property
    def client(self) -> ServiceClient:
        """The server's client of the service."""
        client: ServiceClient = self.settings[CLIENT_SETTING]
        return client

    @web.authenticated
    @requires("ide:use")
    async def get(self, path: str) -> None:
        """Pass a GET on."""
        await self.forward("/ide/api/" + path)

    @web.authenticated
    @requires("ide:use")
    async def post(self, path: str) -> None:
        """Pass a POST on."""
        await self.forward("/ide/api/" + path)

    @web.authenticated
    @requires("ide:use")
    async def put(self, path: str) -> None:
        """Pass a PUT on."""
        await self.forward("/ide/api/" + path)

    @web.authenticated
    @requires("ide:use")
    async def patch(self, path: str) -> None:
        """Pass a PATCH on."""
        await self.forward("/ide/api/" + path)

    @web.authenticated
    @requires("ide:use")
    async def delete(self, path: str) -> None:
        """Pass a DELETE on."""
        await self.forward("/ide/api/" + path)

    async def forward(self, path: str) -> None:
        """Send this request to ``path`` at the service; stream its answer back."""
        reply = _Reply(self)
        headers = {k: v for k in REQUEST_HEADERS if (v := self.request.headers.get(k))}
        method = self.request.method or "GET"
        request = self.client.request(
            method,
            path,
            body=self.request.body if method in ("POST", "PUT", "PATCH") else None,
            headers=headers,
            header_callback=reply.header_line,
            streaming_callback=reply.chunk,
        )
        request.url += f"?{self.request.query}" if self.request.query else ""
        answer = await self.client.fetch(request)
        if answer.code == 599 and not reply.started:  # no HTTP answer: refused, timed out
            raise unreachable(answer.error or RuntimeError("no answer"))
        reply.start()
        if not self._finished:
            self.finish()


class _Reply:
    """The service's answer as it arrives: the status line, headers, then body chunks."""

    def __init__(self, handler: ServiceForwardHandler) -> None:
        self.handler = handler
        self.status: httputil.ResponseStartLine | None = None
        self.headers = httputil.HTTPHeaders()
        self.started = False

    def header_line(self, line: str) -> None:
        """Take one line of the answer's head (the status line comes first)."""
        if line.startswith("HTTP/"):
            self.status = httputil.parse_response_start_line(line.strip())
            self.headers = httputil.HTTPHeaders()  # a 100 Continue came before the answer
        elif line.strip():
            self.headers.parse_line(line)

    def start(self) -> None:
        """Send the status and headers once, before the first chunk."""
        if self.started or self.status is None:
            return
        self.started = True
        self.handler.clear_header("Content-Type")
        self.handler.set_status(self.status.code, self.status.reason)
        for name in REPLY_HEADERS:
            value = self.headers.get(name)
            if value is not None:
                self.handler.set_header(name, value)

    def chunk(self, data: bytes) -> None:
        """Pass a piece of the body on as it comes (events reach the browser at once)."""
        self.start()
        if self.handler._finished:
            return
        self.handler.write(data)
        future: Any = self.handler.flush()
        future.add_done_callback(_ignore_closed)


def _ignore_closed(future: Any) -> None:
    """Drop the error of a browser that went away mid-stream (no error of ours)."""
    error = future.exception()
    if error is not None and not isinstance(error, StreamClosedError):
        raise error


def forward_handlers() -> list[tuple[str, type, dict[str, Any]]]:
    """Return the routes of a hub user's server that the service answers."""
    return [(r"/ide/api/(.*)", ServiceForwardHandler, {})]
