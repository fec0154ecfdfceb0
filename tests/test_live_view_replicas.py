"""The live view across two real service replicas (haproxy, a real hub, PostgreSQL, Redis, S3).

1. With the README's rule (``balance url_param owner``), a student's and an instructor's
   sockets through the hub meet; each keystroke reaches the instructor within 2 s.
2. A student's socket straight to replica A and the instructor's straight to replica B (a
   balancer without that rule): the rooms are relayed over Redis, keystrokes arrive within
   2 s, the student's editor says the instructor is viewing, the members list on B names the
   file she edits on A, and a message on the relay channel that is not the relay's is ignored
   with a log line.
3. Replica A killed with SIGKILL mid-session (the last test: the module's hub keeps one
   replica after it): B's room keeps working, and the student's editor reconnecting through
   the hub (now to B) with what it holds is not doubled.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

from jupyter_ide.classroom.live_client import LivePeer, connect
from jupyter_ide.classroom.live_relay import channel_of

from .hubfixture import ACCESS, call_with_token, tail
from .replicas import Replicas, two_replicas
from .s3_server import MotoServer
from .services import redis_url

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

INSTRUCTOR = "custom:ide:instructor"
TEXT = "total = 0\nfor i in range(3):\n    total += i\n"
WITHIN = 2.0  # s: a keystroke at the instructor's


@dataclass
class Cluster:
    """The replicas, the students (one per test), the instructor, their tokens."""

    replicas: Replicas
    students: list[str]
    tess: str
    tokens: dict[str, str]


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """These tests talk to processes over HTTP: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server to clean up."""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer) -> Iterator[Cluster]:
    """Two replicas behind haproxy under a hub; three students of cs101 and tess, its teacher."""
    tag = uuid.uuid4().hex[:6]
    students = [f"{who}-{tag}" for who in ("ada", "bea", "cy")]
    tess = f"tess-{tag}"
    base = tmp_path_factory.mktemp("live-replicas")
    with two_replicas(base, moto_server, [], {"JUPYTER_IDE_INSTRUCTORS": tess}) as started:
        hub = started.hub
        tokens = {}
        for name in students:
            hub.add_user(name, ("course-cs101",))
            tokens[name] = hub.token(name, [ACCESS])
        hub.add_user(tess, ("course-cs101-instructors",))
        tokens[tess] = hub.token(tess, [ACCESS, INSTRUCTOR])
        for name, token in tokens.items():  # signing in syncs hub groups into course members
            reply = call_with_token(f"{hub.service_url}/ide/api/courses", token)
            assert reply.status_code == 200, (name, reply.text)
        yield Cluster(started, students, tess, tokens)


def _ws(url: str) -> str:
    return "ws" + url.removeprefix("http")


def _own(base: str, student: str, path: str) -> str:
    return f"{_ws(base)}/ide/api/classroom/live/socket?path={path}&owner={student}"


def _watch(base: str, student: str, path: str) -> str:
    return f"{_ws(base)}/ide/api/classroom/cs101/live/{student}/socket?path={path}&owner={student}"


def _save(c: Cluster, student: str, path: str) -> None:
    body = {"type": "file", "format": "text", "content": TEXT}
    url = f"{c.replicas.hub.service_url}/api/contents/{path}"
    reply = call_with_token(url, c.tokens[student], "PUT", body)
    assert reply.status_code in (200, 201), reply.text


def _logs(c: Cluster) -> str:
    return "\n".join(f"--- {r.log.name}\n{tail(r.log, 3000)}" for r in c.replicas.replicas)


async def _join(url: str, token: str, state: bytes | None = None) -> LivePeer:
    return await connect(url, {"Authorization": f"token {token}"}, state)


async def _first_edit(student: LivePeer, tess: LivePeer) -> None:
    """The student's editor takes the room over with its text; the instructor sees it."""
    student.type(0, TEXT)
    await tess.wait_for(lambda: str(tess.text) == TEXT, timeout=5)


async def _keystrokes(student: LivePeer, tess: LivePeer, words: tuple[str, ...]) -> None:
    """Each word typed at the end reaches the instructor within WITHIN seconds."""
    for word in words:
        sent = time.monotonic()
        student.type(len(str(student.text)), word)
        await tess.wait_for(lambda w=word: str(tess.text).endswith(w), timeout=WITHIN)
        assert time.monotonic() - sent < WITHIN


def test_with_the_owner_rule_a_students_keystrokes_reach_the_instructor(cluster: Cluster) -> None:
    """Both sockets through the hub and haproxy's `url_param owner` rule."""
    c, ada = cluster, cluster.students[0]
    _save(c, ada, "lab.py")
    service = c.replicas.hub.service_url

    async def run() -> None:
        tess = await _join(_watch(service, ada, "lab.py"), c.tokens[c.tess])
        assert str(tess.text) == TEXT  # seeded from the saved file
        student = await _join(_own(service, ada, "lab.py"), c.tokens[ada])
        await _first_edit(student, tess)
        await _keystrokes(student, tess, ("print(", "total", ")"))
        await student.wait_for(lambda: student.viewers() == [c.tess])
        tess.close()
        student.close()

    asyncio.run(run())


def test_sockets_on_two_replicas_meet_through_the_relay(cluster: Cluster) -> None:
    """Student on replica A, instructor on B: keystrokes, the viewing notice, members, garbage."""
    c, bea = cluster, cluster.students[1]
    a, b = (r.url for r in c.replicas.replicas)
    _save(c, bea, "lab.py")

    async def run() -> None:
        tess = await _join(_watch(b, bea, "lab.py"), c.tokens[c.tess])  # B seeds the room
        student = await _join(_own(a, bea, "lab.py"), c.tokens[bea])  # A takes B's state
        await _first_edit(student, tess)  # exactly her text at B: A's room was not reseeded
        assert str(student.text) == TEXT
        await _keystrokes(student, tess, ("print(", "total", ")"))
        await student.wait_for(lambda: student.viewers() == [c.tess], timeout=5)

        members = call_with_token(f"{b}/ide/api/classroom/cs101/live/members", c.tokens[c.tess])
        assert members.status_code == 200, members.text
        mine = next(m for m in members.json()["members"] if m["name"] == bea)
        assert mine["open"] == ["lab.py"]  # her editor is on A, the list is B's

        bad = b'{"from": "x", "kind": "update", "owner": "%s", "path": "lab.py"}\n\x07\x07'
        with redis.Redis.from_url(redis_url()) as client:
            client.publish(channel_of("jupyter-ide:", bea), b"not the relay's")
            client.publish(channel_of("jupyter-ide:", bea), bad % bea.encode())
        await _keystrokes(student, tess, ("# still live",))
        logs = _logs(c)
        assert logs.count("Live relay: ignored") >= 4, logs  # two messages, two replicas
        assert "not a Yjs update" in logs
        tess.close()
        student.close()

    asyncio.run(run())


def test_a_replica_killed_mid_session(cluster: Cluster) -> None:
    """SIGKILL replica A: B's room keeps working; the student's editor reconnects, not doubled."""
    c, cy = cluster, cluster.students[2]
    killed, survivor = c.replicas.replicas
    _save(c, cy, "lab.py")

    async def run() -> None:
        tess = await _join(_watch(survivor.url, cy, "lab.py"), c.tokens[c.tess])
        student = await _join(_own(killed.url, cy, "lab.py"), c.tokens[cy])
        await _first_edit(student, tess)
        await _keystrokes(student, tess, ("x = 1",))

        os.kill(killed.process.pid, signal.SIGKILL)
        killed.process.wait(timeout=30)
        student.type(len(str(student.text)), "\ny = 2")  # typed offline: it stays in her doc
        held = student.doc.get_update()
        expected = str(student.text)
        student.close()

        # Her editor reconnects through the hub; haproxy now names the survivor.
        service = c.replicas.hub.service_url
        deadline = time.monotonic() + 30
        while True:
            try:
                again = await _join(_own(service, cy, "lab.py"), c.tokens[cy], held)
                break
            except Exception:
                assert time.monotonic() < deadline, _logs(c)
                await asyncio.sleep(0.5)
        await tess.wait_for(lambda: str(tess.text) == expected, timeout=5)
        assert str(again.text) == expected  # merged with the survivor's room, not doubled
        assert str(tess.text).count(TEXT) == 1
        await _keystrokes(again, tess, ("\nprint(y)",))

        late = await _join(_watch(service, cy, "lab.py"), c.tokens[c.tess])
        assert str(late.text) == str(again.text)
        for peer in (late, again, tess):
            peer.close()

    asyncio.run(run())
