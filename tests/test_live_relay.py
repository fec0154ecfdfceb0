"""The live rooms of two replicas relayed over a real Redis, in one process (no web server).

Each LiveRooms stands for one replica's rooms, with a LiveRelay of its own on a key prefix of
this test's own. Proves: a change on one reaches the other; a room created where another
replica holds it takes its state (the text is not doubled); viewers on one replica are shown
on the other; a message that is not the relay's is ignored with a log line; a replica whose
Redis connections are cut resumes relaying and catches up.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from jupyter_ide.classroom.live_relay import CLIENT_NAME, LiveRelay, channel_of
from jupyter_ide.classroom.live_rooms import LiveRooms, PeerChannel, Room

from .services import redis_url

pytestmark = [pytest.mark.redis]

SAVED = "x = 1\n"


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """Plain asyncio tests: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No server here."""


async def _saved(owner: str, path: str) -> str:
    return SAVED


async def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        assert loop.time() < end, "the replicas did not converge"
        await asyncio.sleep(0.02)


async def _replicas(prefix: str) -> AsyncIterator[tuple[LiveRooms, LiveRooms]]:
    made = []
    for _ in range(2):
        rooms = LiveRooms(_saved, idle_seconds=60)
        LiveRelay(redis_url(), prefix=prefix, presence_seconds=0.5).bind(rooms)
        made.append(rooms)
    try:
        yield made[0], made[1]
    finally:
        for rooms in made:
            await rooms.close()
            assert rooms.relay is not None
            await rooms.relay.close()


def _run(test: Callable[[LiveRooms, LiveRooms, str], Awaitable[None]]) -> None:
    async def main() -> None:
        prefix = f"jupyter-ide-test-{uuid.uuid4().hex[:8]}:"
        async for a, b in _replicas(prefix):
            await test(a, b, prefix)

    asyncio.run(main())


async def _connected(rooms: LiveRooms) -> None:
    await _eventually(lambda: rooms.relay is not None and rooms.relay.connected)


async def _open(rooms: LiveRooms, path: str = "lab.py") -> Room:
    room = await rooms.room("ada", path)
    await _connected(rooms)
    return room


def test_a_room_on_two_replicas_converges_and_is_not_doubled() -> None:
    """The second replica's room takes the first's state, then changes flow both ways."""

    async def test(a: LiveRooms, b: LiveRooms, prefix: str) -> None:
        room_a = await _open(a)
        room_a.text.insert(len(room_a.text), "y = 2\n")  # typed on replica A
        room_b = await _open(b)  # created on B while A holds it: A's state, no second seed
        assert str(room_b.text) == SAVED + "y = 2\n"
        room_b.text.insert(0, "# b\n")
        await _eventually(lambda: str(room_a.text) == "# b\n" + SAVED + "y = 2\n")
        room_a.text.insert(len(room_a.text), "z")
        await _eventually(lambda: str(room_b.text) == str(room_a.text))
        assert str(room_b.text).count(SAVED) == 1

    _run(test)


def test_viewers_on_one_replica_are_shown_on_the_other() -> None:
    """An instructor watching on B is in the viewers (and awareness) of the rooms on A."""

    async def test(a: LiveRooms, b: LiveRooms, prefix: str) -> None:
        room_a = await _open(a)
        room_b = await _open(b)
        sent: list[bytes] = []

        async def send(message: bytes) -> None:
            sent.append(message)

        tess = PeerChannel(send, "ada:lab.py", False, "tess")
        serving = asyncio.create_task(b.serve(room_b, tess))
        await _eventually(lambda: a.viewing("ada") == ["tess"])
        state = room_a.yroom.awareness.get_local_state() or {}
        assert state.get("viewers") == ["tess"]
        tess.close()
        await serving
        await _eventually(lambda: a.viewing("ada") == [])

    _run(test)


def test_a_message_that_is_not_the_relays_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    """Garbage, a bad header and a bad Yjs update on the channel: logged, the room unharmed."""

    async def test(a: LiveRooms, b: LiveRooms, prefix: str) -> None:
        room_a = await _open(a)
        room_b = await _open(b)
        client = aioredis.from_url(redis_url())
        channel = channel_of(prefix, "ada")
        head = '{"from": "x", "kind": "update", "owner": "ada", "path": "lab.py"}\n'
        with caplog.at_level(logging.WARNING, "jupyter_ide.classroom.live_relay"):
            await client.publish(channel, b"\xff\x00 not json")
            await client.publish(channel, b'{"from": "x", "kind": "steal"}\n')
            await client.publish(channel, head.encode() + b"\x07\x07\x07 not an update")
            await _eventually(lambda: caplog.text.count("Live relay: ignored") >= 3)
        await client.aclose()
        assert "not a Yjs update" in caplog.text
        room_b.text.insert(0, "ok ")
        await _eventually(lambda: str(room_a.text) == "ok " + SAVED)

    _run(test)


def test_a_replica_cut_from_redis_resumes_and_catches_up(caplog: pytest.LogCaptureFixture) -> None:
    """A's Redis connections are killed: its room keeps working, then both converge."""

    async def test(a: LiveRooms, b: LiveRooms, prefix: str) -> None:
        room_a = await _open(a)
        room_b = await _open(b)
        assert a.relay is not None
        client = aioredis.from_url(redis_url())
        name = f"{CLIENT_NAME}{a.relay.id[:12]}"
        with caplog.at_level(logging.INFO, "jupyter_ide.classroom.live_relay"):
            for line in await client.client_list():
                if line.get("name") == name:
                    await client.client_kill_filter(_id=line["id"])
            await _eventually(lambda: "Live relay stopped" in caplog.text)
            room_a.text.insert(0, "a ")  # while cut: A's room still takes edits
            room_b.text.insert(len(room_b.text), " b")
            await _eventually(lambda: str(room_a.text) == str(room_b.text), timeout=10)
        await client.aclose()
        assert str(room_a.text) == "a " + SAVED + " b"

    _run(test)


def test_without_redis_rooms_work_alone(caplog: pytest.LogCaptureFixture) -> None:
    """Redis unreachable from the start: a room is seeded and edited here, with a log line."""

    async def main() -> None:
        rooms = LiveRooms(_saved, idle_seconds=60)
        relay = LiveRelay("redis://127.0.0.1:1/0")
        relay.bind(rooms)
        try:
            with caplog.at_level(logging.WARNING, "jupyter_ide.classroom.live_relay"):
                room = await rooms.room("ada", "lab.py")
                room.text.insert(0, "# here\n")
                assert str(room.text) == "# here\n" + SAVED
                assert "Live relay stopped: Redis is unreachable" in caplog.text
                assert not relay.connected
        finally:
            await rooms.close()
            await relay.close()

    asyncio.run(main())


def test_two_replicas_creating_one_room_at_once_hold_the_text_once() -> None:
    """Both replicas create the room at the same moment: one seeds, the other takes its state."""

    async def test(a: LiveRooms, b: LiveRooms, prefix: str) -> None:
        await asyncio.gather(_open(a, "warm.py"), _open(b, "warm.py"))  # both follow ada now
        room_a, room_b = await asyncio.gather(a.room("ada", "lab.py"), b.room("ada", "lab.py"))
        room_a.text.insert(len(room_a.text), "y")  # one document: B can place A's edit
        room_b.text.insert(0, "# ")
        await _eventually(lambda: str(room_a.text) == str(room_b.text) == "# " + SAVED + "y")

    _run(test)
