"""Shared parts of the AI tests: local upstreams, hub-like users, helpers. No tests here."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import openai
import pytest
from cryptography.fernet import Fernet
from jupyter_server.auth.identity import User
from tornado import web
from tornado.httpclient import HTTPClientError
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from jupyter_ide.auth import Role
from jupyter_ide.auth.identity import IDEIdentityProvider

from .fakes import gemini_server, openai_server

CRYPT_KEY = Fernet.generate_key().decode()
TEST_TOKEN_PREFIX = "test-user-"


class HubLikeIdentity(IDEIdentityProvider):
    """Signs in `Authorization: token test-user-<name>` as a JupyterHub user named <name>.

    The role comes from ``USERS`` (as the hub's scopes would give it); anything else falls
    through to jupyter-ide's own sign-in (the server's token, our JWTs).
    """

    USERS: ClassVar[dict[str, str]] = {}

    async def get_user(self, handler: web.RequestHandler) -> User | None:
        """Return the test user named by the token, else the usual sign-in."""
        header = handler.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() in ("token", "bearer") and token.startswith(TEST_TOKEN_PREFIX):
            name = token[len(TEST_TOKEN_PREFIX) :]
            if name not in self.USERS:
                return None
            handler._token_authenticated = True  # type: ignore[attr-defined]
            user = User(username=name, name=name)
            role = self.USERS[name]
            scopes = {"admin": ["custom:ide:admin"], "instructor": ["custom:ide:instructor"]}
            user.hub_user = {"name": name, "groups": [], "scopes": scopes.get(role, [])}  # type: ignore[attr-defined]
            return user
        return await super().get_user(handler)


def as_user(name: str) -> dict[str, str]:
    """Headers that sign a request in as the test user ``name``."""
    return {"Authorization": f"token {TEST_TOKEN_PREFIX}{name}"}


async def call_as(
    fetch: Any,
    who: str,
    method: str,
    *path: str,
    body: Any = None,
    raw: bytes | None = None,
    params: dict[str, str] | None = None,
) -> tuple[int, bytes, Any]:
    """Call ``path`` with pytest-jupyter's ``fetch`` as test user ``who``: (status, body, headers).

    ``body`` goes as JSON, ``raw`` as given; a POST, PUT or PATCH without either sends an empty
    body. An error status is returned, not raised.
    """
    kwargs: dict[str, Any] = {"method": method, "headers": as_user(who)}
    if params:
        kwargs["params"] = params
    if raw is not None:
        kwargs["body"] = raw
    elif body is not None:
        kwargs["body"] = json.dumps(body)
    elif method in ("POST", "PUT", "PATCH"):
        kwargs["body"] = b""
    try:
        response = await fetch(*path, **kwargs)
        return response.code, response.body, response.headers
    except HTTPClientError as e:
        assert e.response is not None
        return e.code, e.response.body, e.response.headers


@dataclass
class Upstream:
    """A local fake provider: its URL, the requests it saw, its model list and listings."""

    url: str
    seen: list[dict[str, Any]]
    models: list[str] = field(default_factory=list)
    listings: list[str | None] = field(default_factory=list)


def _serve(app: web.Application) -> tuple[HTTPServer, int]:
    """Serve ``app`` on a free loopback port."""
    sock, port = bind_unused_port()
    server = HTTPServer(app)
    server.add_socket(sock)
    return server, port


@pytest.fixture
def upstream(jp_asyncio_loop: asyncio.AbstractEventLoop) -> Iterator[Upstream]:
    """A local OpenAI-format server on loopback."""
    seen: list[dict[str, Any]] = []
    models = list(openai_server.MODELS)
    listings: list[str | None] = []
    server, port = _serve(openai_server.make_app(seen, models, listings))
    yield Upstream(f"http://127.0.0.1:{port}", seen, models, listings)
    server.stop()
    jp_asyncio_loop.run_until_complete(server.close_all_connections())


@pytest.fixture
def gemini(jp_asyncio_loop: asyncio.AbstractEventLoop) -> Iterator[Upstream]:
    """A local Gemini-format server on loopback."""
    seen: list[dict[str, Any]] = []
    server, port = _serve(gemini_server.make_app(seen))
    yield Upstream(f"http://127.0.0.1:{port}", seen)
    server.stop()
    jp_asyncio_loop.run_until_complete(server.close_all_connections())


def ai_config(
    base: dict[str, Any], upstream: Upstream, gemini: Upstream | None = None, **ai: Any
) -> dict[str, Any]:
    """A server config whose AI routes go to the local upstreams, with hub-like users."""
    settings: dict[str, Any] = {
        "openai_base_url": f"{upstream.url}/v1",
        "openai_api_key": "sk-institution-0000000000",
        "pool_url": f"{upstream.url}/failing/v1",
        "routes": {
            "echo": ["openai"],
            "other": ["openai"],
            "failover": ["pool", "openai"],
            "broken": ["openai"],
            "slow": ["openai"],
            "greedy": ["openai"],
            "reject": ["openai"],
        },
        "daily_tokens": 50_000,
        "max_tokens": 512,
        "max_prompt_chars": 10_000,
        "requests_per_minute": 1000,
    }
    if gemini is not None:
        settings["gemini_base_url"] = gemini.url
        settings["gemini_api_key"] = "gm-institution-key"
        settings["routes"] = {
            **settings["routes"],
            "gemini-*": ["gemini"],
            "tutor": ["openai:sleepy", "gemini:gemini-tutor"],
        }
    settings.update(ai)
    return {
        **base,
        "ServerApp": {**base["ServerApp"], "identity_provider_class": HubLikeIdentity},
        "IDESettings": {**base["IDESettings"], "crypt_key": CRYPT_KEY},
        "AISettings": settings,
    }


def user_message(content: str) -> list[dict[str, str]]:
    """One user message."""
    return [{"role": "user", "content": content}]


async def chat(
    jp_fetch: Any, user: str | None = None, course: str | None = None, **body: Any
) -> Any:
    """POST a chat completion to our endpoint, as ``user`` (default: the server's owner)."""
    headers = as_user(user) if user else {}
    if course:
        headers["X-IDE-Course"] = course
    return await jp_fetch(
        "ide",
        "api",
        "ai",
        "v1",
        "chat",
        "completions",
        method="POST",
        body=json.dumps(body),
        headers=headers,
    )


def sse_chunks(body: bytes) -> list[Any]:
    """The JSON events of a server-sent-events body, and "[DONE]"."""
    events = [line[6:] for line in body.decode().splitlines() if line.startswith("data: ")]
    return [e if e == "[DONE]" else json.loads(e) for e in events]


async def make_course(
    app: Any,
    name: str,
    students: list[str],
    instructors: list[str] = (),  # type: ignore[assignment]
) -> None:
    """Create a course with members, as an admin would (each member has signed in once)."""
    courses = app.web_app.settings["jupyter_ide_courses"]
    users = app.web_app.settings["jupyter_ide_users"]
    for member in [*students, *instructors]:
        await users.saw(member, Role(HubLikeIdentity.USERS.get(member, "student")))
    await courses.create(name, name.upper(), by="root")
    for student in students:
        await courses.set_member(name, student, "student", by="root", by_role=Role.ADMIN)
    for teacher in instructors:
        await courses.set_member(name, teacher, "instructor", by="root", by_role=Role.ADMIN)


@pytest.fixture
def sdk_as(
    http_server: Any,
    jp_http_port: int,
    jp_base_url: str,
    jp_asyncio_loop: asyncio.AbstractEventLoop,
) -> Iterator[Callable[..., openai.AsyncOpenAI]]:
    """Make `openai` SDK clients of our endpoint that sign in as a hub-like test user."""
    made: list[openai.AsyncOpenAI] = []

    def make(user: str, course: str | None = None) -> openai.AsyncOpenAI:
        client = openai.AsyncOpenAI(
            base_url=f"http://127.0.0.1:{jp_http_port}{jp_base_url}ide/api/ai/v1",
            api_key=f"{TEST_TOKEN_PREFIX}{user}",
            default_headers={"X-IDE-Course": course} if course else None,
            max_retries=0,
            timeout=20,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        jp_asyncio_loop.run_until_complete(client.close())
