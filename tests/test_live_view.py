"""The live view (issue #16) over HTTP and y-websocket on PostgreSQL: who may watch whom,
audited views, a viewer's changes dropped by the server, pair editing on and off, a member's
files and last runs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from pycrdt import Doc, Text, create_update_message
from sqlalchemy import select
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPResponse

from jupyter_ide.classroom.handlers import CLASSROOM
from jupyter_ide.classroom.live_client import LivePeer, connect
from jupyter_ide.classroom.live_handlers import LIVE
from jupyter_ide.db import AuditEvent

from .test_ai_common import HubLikeIdentity, as_user, make_course
from .test_judge_common import docker_or_fail, judge_config

USERS = {
    "ida": "instructor",  # teaches c1
    "ola": "instructor",  # teaches c2 only
    "ann": "student",  # in c1
    "bob": "student",  # in c1
    "sue": "student",  # in c2 only
}
SAVED = "def f(x):\n    return x\n"


@pytest.fixture(scope="module")
def judge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One judge folder for the module; the engine and images must be there."""
    docker_or_fail()
    return tmp_path_factory.mktemp("judge-live")


@pytest.fixture
def ide_db_url(pg_database_url: str) -> str:
    """The live view's state lives in PostgreSQL, as in a deployment."""
    return pg_database_url


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], judge_dir: Path) -> dict[str, Any]:
    """Hub-like users signed in by their test tokens; the judge for the runs test."""
    config = judge_config(jp_server_config, judge_dir, pool_size=0, warm_languages="")
    HubLikeIdentity.USERS.update(USERS)
    config["LiveSettings"] = {"room_idle_seconds": 0.5}
    return config


@pytest.fixture
def api(
    http_server: Any, jp_http_port: int, jp_base_url: str, jp_asyncio_loop: Any
) -> Iterator[Any]:
    """Call /ide/api/... as someone; open live sockets as someone."""
    client = AsyncHTTPClient(force_instance=True)
    base = f"127.0.0.1:{jp_http_port}{jp_base_url}ide/api/"

    async def call(who: str | None, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        if data is None and method in ("POST", "PUT", "PATCH"):
            data = b""
        response: HTTPResponse = await client.fetch(
            f"http://{base}{path}",
            method=method,
            body=data,
            headers=as_user(who) if who else {},
            raise_error=False,
            allow_nonstandard_methods=True,
            request_timeout=120,
        )
        text = (response.body or b"").decode()
        try:
            return response.code, json.loads(text)
        except ValueError:
            return response.code, text

    async def live(
        who: str | None, path: str, file: str = "", owner: str = "", state: bytes | None = None
    ) -> LivePeer:
        query = f"?path={quote(file)}" if file else "?"
        query += f"&owner={quote(owner)}" if owner else ""
        return await connect(f"ws://{base}{path}{query}", as_user(who) if who else {}, state)

    call.live = live  # type: ignore[attr-defined]
    yield call
    client.close()


async def setup_courses(app: Any) -> None:
    """c1: ida teaches ann and bob; c2: ola teaches sue; ann has a saved file."""
    await make_course(app, "c1", ["ann", "bob"], ["ida"])
    await make_course(app, "c2", ["sue"], ["ola"])
    files = app.web_app.settings[CLASSROOM].assignments.files
    content_hash, size = await files.put(SAVED.encode(), "ann")
    await files.write("ann", "lab1/f.py", content_hash, size, "save")


async def refused(
    api: Any, who: str | None, path: str, file: str = "lab1/f.py", owner: str = ""
) -> int:
    """Return the status a live socket is refused with (fail when it opens)."""
    try:
        peer = await api.live(who, path, file, owner)
    except HTTPClientError as e:
        return e.code
    peer.close()
    raise AssertionError(f"{who} opened {path}")


async def audit(app: Any, event: str) -> list[AuditEvent]:
    """Return the audit events of one kind, oldest first."""
    db = app.web_app.settings["jupyter_ide_db"]
    async with db.session() as session:
        query = select(AuditEvent).where(AuditEvent.event == event).order_by(AuditEvent.id)
        return list((await session.execute(query)).scalars().all())


async def test_cross_course_instructors_students_and_anonymous_are_refused(
    jp_serverapp: Any, api: Any
) -> None:
    """ola (teaches c2) gets 403 on ann (only in c1) by either course; bob (a student) and
    anonymous callers are refused; unknown people and courses 404; nothing is audited."""
    await setup_courses(jp_serverapp)
    routes = ("files", "runs", "socket")
    for who, course in (("ola", "c1"), ("ola", "c2"), ("bob", "c1"), ("sue", "c1")):
        for route in routes[:2]:
            code, reply = await api(who, "GET", f"classroom/{course}/live/ann/{route}")
            assert code == 403, (who, course, route, code, reply)
        assert await refused(api, who, f"classroom/{course}/live/ann/socket") == 403
    code, _ = await api("bob", "GET", "classroom/c1/live/members")
    assert code == 403
    code, _ = await api("bob", "PUT", "classroom/c1/live/options", {"pair_editing": True})
    assert code == 403
    for route in routes[:2]:
        code, _ = await api(None, "GET", f"classroom/c1/live/ann/{route}")
        assert code in (401, 403)
    assert await refused(api, None, "classroom/c1/live/ann/socket") in (401, 403)
    assert await refused(api, None, "classroom/live/socket") in (401, 403)
    code, reply = await api("ida", "GET", "classroom/c1/live/nobody/files")
    assert code == 404 and "nobody" in reply["message"]
    code, _ = await api("ida", "GET", "classroom/c9/live/ann/files")
    assert code == 404
    assert await refused(api, "ida", "classroom/c1/live/ann/socket", "../etc/passwd") == 400
    assert await refused(api, "ann", "classroom/live/socket", "/abs.py") == 400
    # The owner a balancer routes on must be the room's.
    assert await refused(api, "ann", "classroom/live/socket", owner="bob") == 400
    assert await refused(api, "ida", "classroom/c1/live/ann/socket", owner="bob") == 400
    assert await audit(jp_serverapp, "live_view_started") == []
    assert await audit(jp_serverapp, "live_view_opened") == []


async def test_a_students_typing_reaches_the_instructor_who_cannot_write(
    jp_serverapp: Any, api: Any
) -> None:
    """The instructor's room starts from the saved file; the student's editor takes over with
    its text; each keystroke reaches the viewer, unsaved; the viewer's own update is dropped by
    the server; the student's room names the viewer; views are audited."""
    await setup_courses(jp_serverapp)
    listing = await api("ida", "GET", "classroom/c1/live/ann/files")
    assert listing[0] == 200
    paths = {f["path"]: f["kind"] for f in listing[1]["files"]}
    assert paths == {"lab1": "directory", "lab1/f.py": "file"}
    members = (await api("ida", "GET", "classroom/c1/live/members"))[1]["members"]
    assert {(m["name"], m["role"]) for m in members} >= {("ann", "student"), ("ida", "instructor")}

    ida = await api.live("ida", "classroom/c1/live/ann/socket", "lab1/f.py", owner="ann")
    assert str(ida.text) == SAVED  # seeded from the saved file: the student is not here yet

    ann = await api.live("ann", "classroom/live/socket", "lab1/f.py", owner="ann")
    assert str(ann.text) == ""  # a fresh editor, alone: it puts its own text in
    unsaved = SAVED + "# unsaved\n"
    ann.type(0, unsaved)
    await ida.wait_for(lambda: str(ida.text) == unsaved)
    code, reply = await api("ida", "GET", "classroom/c1/live/members")
    assert next(m for m in reply["members"] if m["name"] == "ann")["open"] == ["lab1/f.py"]

    loop = asyncio.get_running_loop()
    for i in range(5):  # keystrokes, one by one; each arrives well within 2 s
        sent = loop.time()
        ann.type(len(str(ann.text)), f"x{i}")
        await ida.wait_for(lambda i=i: str(ida.text).endswith(f"x{i}"), timeout=2.0)
        assert loop.time() - sent < 2.0

    await ann.wait_for(lambda: ann.viewers() == ["ida"])

    # The viewer writes into its copy: the server drops the update; nobody else sees it.
    before = str(ann.text)
    ida.type(0, "HACKED ")
    assert str(ida.text).startswith("HACKED ")
    ann.type(len(before), "!")
    await ida.wait_for(lambda: str(ida.text).endswith("!"))  # later updates still flow
    live = jp_serverapp.web_app.settings[LIVE]
    room = live.rooms.rooms[("ann", "lab1/f.py")]
    assert str(room.text) == before + "!" and str(ann.text) == before + "!"
    assert sum(p.dropped for p in room.peers if p.name == "ida") >= 1

    # A forged raw update from a viewer's socket is dropped too.
    forged: Doc[Text] = Doc()
    forged["source"] = Text("FORGED")
    ida.connection.write_message(create_update_message(forged.get_update()), binary=True)
    ann.type(0, "@")  # a later keystroke: it arrives, so the forged one came before it
    await ida.wait_for(lambda: "@" in str(ida.text))
    assert "FORGED" not in str(room.text) and "FORGED" not in str(ann.text)

    ida.close()
    await ann.wait_for(lambda: ann.viewers() == [])
    ann.close()
    started = await audit(jp_serverapp, "live_view_started")
    opened = await audit(jp_serverapp, "live_view_opened")
    assert [(e.user_name, e.detail["student"]) for e in started] == [("ida", "ann")]
    assert [(e.user_name, e.detail["path"], e.detail["writable"]) for e in opened] == [
        ("ida", "lab1/f.py", False)
    ]
    code, viewers = await api("ann", "GET", "classroom/live/viewers")
    assert code == 200 and viewers == {"viewers": []}


async def test_pair_editing_lets_the_instructor_write_when_the_course_turns_it_on(
    jp_serverapp: Any, api: Any
) -> None:
    """Off by default; on, the instructor's keystrokes reach the student's editor; off again,
    a new view is read-only; hostile option bodies are refused."""
    await setup_courses(jp_serverapp)
    assert (await api("ann", "GET", "classroom/c1/live/options"))[1]["pair_editing"] is False
    for body in ({"pair_editing": "yes"}, {}, {"pair_editing": True, "x": 1}, [1]):
        code, reply = await api("ida", "PUT", "classroom/c1/live/options", body)
        assert code == 400 and reply["message"], body
    code, _ = await api("ola", "PUT", "classroom/c1/live/options", {"pair_editing": True})
    assert code == 403
    on = await api("ida", "PUT", "classroom/c1/live/options", {"pair_editing": True})
    assert on == (200, {"course": "c1", "pair_editing": True})

    ann = await api.live("ann", "classroom/live/socket", "lab1/f.py")
    ann.type(0, SAVED)
    ida = await api.live("ida", "classroom/c1/live/ann/socket", "lab1/f.py")
    await ida.wait_for(lambda: str(ida.text) == SAVED)
    ida.type(0, "# from ida\n")
    await ann.wait_for(lambda: str(ann.text) == "# from ida\n" + SAVED)
    ida.close()

    await api("ida", "PUT", "classroom/c1/live/options", {"pair_editing": False})
    ida = await api.live("ida", "classroom/c1/live/ann/socket", "lab1/f.py")
    ida.type(0, "nope ")
    ann.type(0, "ok ")
    await ida.wait_for(lambda: "ok " in str(ida.text))
    assert "nope" not in str(ann.text)
    ida.close()
    ann.close()
    writable = [e.detail["writable"] for e in await audit(jp_serverapp, "live_view_opened")]
    assert writable == [True, False]
    toggles = [e.detail["enabled"] for e in await audit(jp_serverapp, "live_pair_editing")]
    assert toggles == [True, False]


async def test_the_last_runs_with_their_output_and_idle_rooms_freed(
    jp_serverapp: Any, api: Any
) -> None:
    """A run of ann's (a real judge run) shows with its output to her instructor; a viewer
    gets the file as saved now; rooms nobody is in are freed, and an editor coming back
    holds its text once."""
    await setup_courses(jp_serverapp)
    source = "print('hello from ann')\nimport sys; print('oops', file=sys.stderr)\n"
    code, reply = await api(
        "ann",
        "POST",
        "judge/submissions?wait=true",
        {"source_code": source, "language_id": 71},
    )
    assert code in (200, 201), reply
    code, reply = await api("ida", "GET", "classroom/c1/live/ann/runs")
    assert code == 200
    [run] = reply["runs"]
    assert run["language"] == "python" and run["source"] == source
    assert run["stdout"] == "hello from ann\n" and "oops" in run["stderr"]
    assert (await api("ida", "GET", "classroom/c1/live/bob/runs"))[1]["runs"] == []

    # A viewer joining a room none of ann's editors is in gets the file as saved now.
    ida = await api.live("ida", "classroom/c1/live/ann/socket", "lab1/f.py")
    assert str(ida.text) == SAVED
    files = jp_serverapp.web_app.settings[CLASSROOM].assignments.files
    content_hash, size = await files.put(b"changed by a kernel\n", "ann")
    await files.write("ann", "lab1/f.py", content_hash, size, "kernel")
    again = await api.live("ida", "classroom/c1/live/ann/socket", "lab1/f.py")
    assert str(again.text) == "changed by a kernel\n"
    await ida.wait_for(lambda: str(ida.text) == "changed by a kernel\n")
    ida.close()
    again.close()

    live = jp_serverapp.web_app.settings[LIVE]
    own = "classroom/live/socket"
    ann = await api.live("ann", own, "lab1/f.py")
    assert ("ann", "lab1/f.py") in live.rooms.rooms
    ann.type(0, "unsaved\n")
    ann.close()
    loop = asyncio.get_running_loop()
    end = loop.time() + 10
    while ("ann", "lab1/f.py") in live.rooms.rooms and loop.time() < end:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    assert ("ann", "lab1/f.py") not in live.rooms.rooms

    # Her editor comes back to a new room (seeded from the saved file): its text, once.
    ida = await api.live("ida", "classroom/c1/live/ann/socket", "lab1/f.py")
    assert str(ida.text) == "changed by a kernel\n"
    back = await api.live("ann", own, "lab1/f.py", state=ann.doc.get_update())
    await ida.wait_for(lambda: str(ida.text) == "unsaved\n")
    assert str(back.text) == "unsaved\n"
    # Back again to the room it was in (the viewer kept it): it merges, nothing is emptied.
    back.close()
    again = await api.live("ann", own, "lab1/f.py", state=back.doc.get_update())
    again.type(len(str(again.text)), "more\n")
    await ida.wait_for(lambda: str(ida.text) == "unsaved\nmore\n")
    assert str(again.text) == "unsaved\nmore\n"
    again.close()
    ida.close()
