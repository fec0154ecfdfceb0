"""The live view under a real JupyterHub: the rooms are the jupyter-ide service's.

ada (a student of cs101) edits through her own user server, which forwards the live socket to
the service with her hub token; tess (its instructor) watches at the service and sees each
keystroke within 2 s; bob (another student) is refused at the service, and ada's own server
refuses her an instructor's socket before the upgrade, with the service's 403.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_ide.classroom.live_client import LivePeer, connect

from .hubfixture import (
    ACCESS,
    ServiceHub,
    service_hub,
    start_user_server,
    user_server_call,
    user_server_request,
    user_servers_config,
)
from .s3_server import MotoServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

INSTRUCTOR = "custom:ide:instructor"
TEXT = "total = 0\nfor i in range(3):\n    total += i\n"


@dataclass
class Hub:
    """The hub, the people, their tokens."""

    hub: ServiceHub
    ada: str
    bob: str
    tess: str
    tokens: dict[str, str]


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """These tests talk to processes over HTTP: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server to clean up: the service runs under the hub."""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer) -> Iterator[Hub]:
    """A hub running the service; ada (with her own server) and bob study cs101, tess
    teaches it."""
    tag = uuid.uuid4().hex[:6]
    ada, bob, tess = (f"{who}-{tag}" for who in ("ada", "bob", "tess"))
    base = tmp_path_factory.mktemp("live-hub")
    with service_hub(
        base,
        moto_server,
        "managed",
        {"JUPYTER_IDE_INSTRUCTORS": tess},
        extra_config=user_servers_config(base, pool=0),
    ) as (running, _):
        running.add_user(ada, ("course-cs101",))
        running.add_user(bob, ("course-cs101",))
        running.add_user(tess, ("course-cs101-instructors",))
        tokens = {
            ada: running.token(ada, [f"access:servers!user={ada}", ACCESS]),
            bob: running.token(bob, [ACCESS]),
            tess: running.token(tess, [ACCESS, INSTRUCTOR]),
        }
        for who in (ada, bob, tess):  # signing in syncs their hub groups into course members
            reply = running.call("/ide/api/courses", tokens[who])
            assert reply.status_code == 200, reply.text
        start_user_server(running, ada)
        yield Hub(running, ada, bob, tess, tokens)
        user_server_request(running, ada, "DELETE")


def _ws(url: str) -> str:
    return "ws" + url.removeprefix("http")


async def _refused(url: str, token: str) -> int:
    try:
        peer = await connect(url, {"Authorization": f"token {token}"})
    except HTTPClientError as e:
        return e.code
    peer.close()
    raise AssertionError(f"{url} opened")


async def _watch_and_type(h: Hub) -> None:
    service = _ws(h.hub.service_url)
    own = f"{_ws(h.hub.url)}/user/{h.ada}/ide/api/classroom/live/socket?path=lab.py"
    watch = f"{service}/ide/api/classroom/cs101/live/{h.ada}/socket?path=lab.py"
    tess: LivePeer = await connect(watch, {"Authorization": f"token {h.tokens[h.tess]}"})
    assert str(tess.text) == TEXT  # seeded from the file ada saved through her server
    ada = await connect(own, {"Authorization": f"token {h.tokens[h.ada]}"})
    ada.type(0, TEXT)  # her editor's text, the first of hers in the room
    await tess.wait_for(lambda: str(tess.text) == TEXT, timeout=5)
    for word in ("print(", "total", ")"):
        sent = time.monotonic()
        ada.type(len(str(ada.text)), word)
        await tess.wait_for(lambda w=word: str(tess.text).endswith(w), timeout=2.0)
        assert time.monotonic() - sent < 2.0
    await ada.wait_for(lambda: ada.viewers() == [h.tess])
    tess.type(0, "# tess was here\n")  # read-only: dropped at the service
    ada.type(0, "#")
    await tess.wait_for(lambda: str(tess.text).count("#") == 2)
    assert "tess was here" not in str(ada.text)

    other = f"{service}/ide/api/classroom/cs101/live/{h.ada}/socket?path=lab.py"
    assert await _refused(other, h.tokens[h.bob]) == 403
    through_own = f"{_ws(h.hub.url)}/user/{h.ada}/ide/api/classroom/cs101/live/{h.bob}/socket"
    assert await _refused(through_own, h.tokens[h.ada]) == 403
    tess.close()
    ada.close()


def test_a_student_edits_through_her_server_and_the_instructor_watches_at_the_service(
    hub: Hub,
) -> None:
    """The forwarded socket reaches the service's room; refusals come from the service."""
    saved = user_server_call(
        hub.hub,
        hub.ada,
        hub.tokens[hub.ada],
        "/api/contents/lab.py",
        "PUT",
        {"type": "file", "format": "text", "content": TEXT},
    )
    assert saved.status_code in (200, 201), saved.text
    asyncio.run(_watch_and_type(hub))
