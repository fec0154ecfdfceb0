"""The help queue (issue #16) over HTTP on PostgreSQL: order, resolve and return, who sees
what, 100 concurrent raises, hostile input, and the linked file an instructor opens."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from tornado.httpclient import AsyncHTTPClient, HTTPResponse

from jupyter_ide.classroom.handlers import CLASSROOM
from jupyter_ide.db import AuditEvent

from .test_ai_common import HubLikeIdentity, as_user, make_course

USERS = {
    "ida": "instructor",  # teaches c1
    "ola": "instructor",  # teaches c2 only
    "ann": "student",
    "bob": "student",
    "cat": "student",
    "sue": "student",  # in c2 only
}


@pytest.fixture
def ide_db_url(pg_database_url: str) -> str:
    """The queue lives in PostgreSQL, as in a deployment."""
    return pg_database_url


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Hub-like users, signed in by their test tokens."""
    HubLikeIdentity.USERS.update(USERS)
    return {
        **jp_server_config,
        "ServerApp": {**jp_server_config["ServerApp"], "identity_provider_class": HubLikeIdentity},
    }


@pytest.fixture
def http(
    http_server: Any, jp_http_port: int, jp_base_url: str, jp_asyncio_loop: Any
) -> Iterator[Any]:
    """Call /ide/api/courses/... as someone, with up to 200 requests truly in flight at once."""
    client = AsyncHTTPClient(force_instance=True, max_clients=200)

    async def call(
        who: str | None, method: str, *path: str, body: Any = None, raw: bytes | None = None
    ) -> tuple[int, Any]:
        url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}ide/api/courses/" + "/".join(path)
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        if data is None and method in ("POST", "PUT", "PATCH"):
            data = b""
        response: HTTPResponse = await client.fetch(
            url,
            method=method,
            body=data,
            headers=as_user(who) if who else {},
            raise_error=False,
            allow_nonstandard_methods=True,
            request_timeout=60,
        )
        text = (response.body or b"").decode()
        try:
            return response.code, json.loads(text)
        except ValueError:
            return response.code, text

    yield call
    client.close()


async def ok(http: Any, who: str, method: str, *path: str, **kwargs: Any) -> Any:
    """Call and insist on a 2xx."""
    code, body = await http(who, method, *path, **kwargs)
    assert 200 <= code < 300, (who, method, path, code, body)
    return body


async def courses(app: Any) -> None:
    """c1: ida teaches ann, bob, cat; c2: ola teaches sue."""
    await make_course(app, "c1", ["ann", "bob", "cat"], ["ida"])
    await make_course(app, "c2", ["sue"], ["ola"])


async def test_order_resolve_return_and_positions(jp_serverapp: Any, http: Any) -> None:
    """Requests wait in raising order; a second raise updates in place; each student sees
    only their own request and place; resolve and return close requests, a note required."""
    await courses(jp_serverapp)
    first = await http("ann", "POST", "c1", "help", body={"message": "stuck", "path": "a.py"})
    assert first[0] == 201
    for who in ("bob", "cat"):
        code, _ = await http(who, "POST", "c1", "help", body={"message": f"{who} needs help"})
        assert code == 201
    again = await http(
        "ann", "POST", "c1", "help", body={"message": "still stuck", "path": "b.py", "line": 7}
    )
    assert again[0] == 200 and again[1]["id"] == first[1]["id"]  # updated, place kept

    queue = await ok(http, "ida", "GET", "c1", "help")
    assert [r["student"] for r in queue["queue"]] == ["ann", "bob", "cat"]
    assert [r["position"] for r in queue["queue"]] == [1, 2, 3]
    top = queue["queue"][0]
    assert (top["message"], top["path"], top["line"]) == ("still stuck", "b.py", 7)
    assert all(r["waiting_seconds"] >= 0 and r["status"] == "open" for r in queue["queue"])

    mine = await ok(http, "bob", "GET", "c1", "help")
    assert mine["position"] == 2 and mine["open"]["student"] == "bob"
    assert "ann" not in json.dumps(mine) and "cat" not in json.dumps(mine)
    assert "queue" not in mine

    ann_id, bob_id = str(first[1]["id"]), str(queue["queue"][1]["id"])
    resolved = await ok(http, "ida", "POST", "c1", "help", ann_id, "resolve", body={})
    assert resolved["status"] == "resolved" and resolved["closed_by"] == "ida"
    assert (await ok(http, "bob", "GET", "c1", "help"))["position"] == 1
    assert (await ok(http, "cat", "GET", "c1", "help"))["position"] == 2

    code, body = await http("ida", "POST", "c1", "help", bob_id, "return", body={})
    assert code == 400 and "note" in body["message"]
    note = "Read the error message on line 3 first, then raise your hand again."
    returned = await ok(http, "ida", "POST", "c1", "help", bob_id, "return", body={"note": note})
    assert returned["status"] == "returned"
    code, body = await http("ida", "POST", "c1", "help", bob_id, "resolve", body={})
    assert code == 409 and "returned" in body["message"]

    bob = await ok(http, "bob", "GET", "c1", "help")
    assert bob["open"] is None and bob["position"] is None
    assert bob["closed"][0]["note"] == note and bob["closed"][0]["status"] == "returned"
    cat = await ok(http, "cat", "GET", "c1", "help")
    assert cat["position"] == 1
    ann = await ok(http, "ann", "GET", "c1", "help")
    assert ann["open"] is None and ann["closed"][0]["status"] == "resolved"

    # Raised again after being answered: a new request, at the end of the queue.
    code, again_bob = await http("bob", "POST", "c1", "help", body={"message": "done reading"})
    assert code == 201 and again_bob["id"] != int(bob_id) and again_bob["position"] == 2
    withdrawn = await ok(http, "cat", "DELETE", "c1", "help")
    assert withdrawn["status"] == "withdrawn"
    assert (await ok(http, "bob", "GET", "c1", "help"))["position"] == 1
    code, _ = await http("cat", "DELETE", "c1", "help")
    assert code == 404
    closed = await ok(http, "ida", "GET", "c1", "help?closed=1")
    assert {r["status"] for r in closed["closed"]} == {"resolved", "returned", "withdrawn"}


async def test_other_courses_students_and_anonymous_are_refused(
    jp_serverapp: Any, http: Any
) -> None:
    """Another course's instructor and students get 403; students cannot answer; anonymous
    callers 401/403; unknown courses 404."""
    await courses(jp_serverapp)
    _, raised = await http("ann", "POST", "c1", "help", body={"message": "help", "path": "x.py"})
    rid = str(raised["id"])
    for who in ("ola", "sue"):
        for method, path, body in (
            ("GET", ("c1", "help"), None),
            ("POST", ("c1", "help"), {"message": "me too"}),
            ("POST", ("c1", "help", rid, "resolve"), {}),
            ("POST", ("c1", "help", rid, "return"), {"note": "no"}),
            ("GET", ("c1", "help", rid, "file"), None),
        ):
            code, reply = await http(who, method, *path, body=body)
            assert code == 403, (who, method, path, code, reply)
    for who in ("ann", "bob"):  # students of the course: no answering, no reading files
        for method, action in (("POST", "resolve"), ("POST", "return"), ("GET", "file")):
            code, _ = await http(who, method, "c1", "help", rid, action, body={"note": "x"})
            assert code == 403
    # ola's own course does not hold c1's request.
    code, _ = await http("ola", "POST", "c2", "help", rid, "resolve", body={})
    assert code == 404
    code, reply = await http("ida", "POST", "c1", "help", body={"message": "instructor hand"})
    assert code == 403 and "students" in reply["message"]
    for method in ("GET", "POST", "DELETE"):
        code, _ = await http(None, method, "c1", "help", body={"message": "anon"})
        assert code in (401, 403)
    code, _ = await http(None, "POST", "c1", "help", rid, "resolve", body={})
    assert code in (401, 403)
    assert (await http("ann", "GET", "nope", "help"))[0] == 404
    assert (await http("ann", "POST", "nope", "help", body={"message": "x"}))[0] == 404
    assert (await http("ann", "GET", "BAD%20NAME", "help"))[0] == 400
    assert (await http("ida", "POST", "c1", "help", "abc", "resolve", body={}))[0] == 400
    assert (await http("ida", "POST", "c1", "help", "%C2%B2", "resolve", body={}))[0] == 400
    assert (await http("ida", "POST", "c1", "help", "999999", "resolve", body={}))[0] == 404
    queue = await ok(http, "ida", "GET", "c1", "help")
    assert [r["message"] for r in queue["queue"]] == ["help"]  # nothing else got in


HOSTILE: list[tuple[Any, str]] = [
    ({"message": ""}, "empty"),
    ({"message": "   \n\t "}, "empty"),
    ({"message": "x" * 2001}, "2000"),
    ({"message": 42}, "text"),
    ({}, "message"),
    ({"message": "ok", "path": "../../etc/passwd"}, "inside"),
    ({"message": "ok", "path": "src/../../other/secret.py"}, "inside"),
    ({"message": "ok", "path": "/etc/passwd"}, "relative"),
    ({"message": "ok", "path": "~/x.py"}, "relative"),
    ({"message": "ok", "path": "a\\..\\b.py"}, "backslash"),
    ({"message": "ok", "path": "a\x00.py"}, "control"),
    ({"message": "ok", "path": "a//b.py"}, "inside"),
    ({"message": "ok", "path": "x" * 1025}, "1024"),
    ({"message": "ok", "path": ["a.py"]}, "text"),
    ({"message": "ok", "path": "a.py", "line": 0}, "between"),
    ({"message": "ok", "path": "a.py", "line": -3}, "between"),
    ({"message": "ok", "path": "a.py", "line": "12"}, "whole number"),
    ({"message": "ok", "path": "a.py", "line": 2.5}, "whole number"),
    ({"message": "ok", "path": "a.py", "line": True}, "whole number"),
    ({"message": "ok", "path": "a.py", "line": 10**9}, "between"),
    ({"message": "ok", "line": 4}, "path"),
    ({"message": "ok", "student": "bob"}, "Unknown fields"),
    (["message", "ok"], "JSON object"),
]


async def test_hostile_input_is_refused_and_changes_nothing(jp_serverapp: Any, http: Any) -> None:
    """Each bad raise answers 400 with a reason and leaves the open request as it was."""
    await courses(jp_serverapp)
    good = {"message": "my loop never ends", "path": "src/loop.py", "line": 12}
    code, before = await http("ann", "POST", "c1", "help", body=good)
    assert code == 201
    for body, words in HOSTILE:
        code, reply = await http("ann", "POST", "c1", "help", body=body)
        assert code == 400, (body, code, reply)
        assert words in reply["message"], (body, reply["message"])
    code, reply = await http("ann", "POST", "c1", "help", raw=b"{not json")
    assert code == 400 and "JSON" in reply["message"]
    code, reply = await http("ida", "POST", "c1", "help", str(before["id"]), "return", raw=b"[1]")
    assert code == 400
    code, reply = await http(
        "ida", "POST", "c1", "help", str(before["id"]), "return", body={"note": "n" * 2001}
    )
    assert code == 400 and "2000" in reply["message"]
    after = await ok(http, "ann", "GET", "c1", "help")
    assert after["open"] == {**before, "waiting_seconds": after["open"]["waiting_seconds"]}
    queue = await ok(http, "ida", "GET", "c1", "help")
    assert len(queue["queue"]) == 1 and queue["queue"][0]["status"] == "open"


async def test_an_instructor_opens_the_linked_file_at_its_line(
    jp_serverapp: Any, http: Any
) -> None:
    """The request's file, as the student has it now, with the line; written to the audit
    log; a request without a file, or whose file is gone, answers 404."""
    await courses(jp_serverapp)
    files = jp_serverapp.web_app.settings[CLASSROOM].assignments.files
    text = "def f(x):\n    while x:\n        pass\n"
    content_hash, size = await files.put(text.encode(), "ann")
    await files.write("ann", "lab1/loop.py", content_hash, size, "save")
    _, raised = await http(
        "ann", "POST", "c1", "help", body={"message": "loops", "path": "lab1/loop.py", "line": 2}
    )
    shown = await ok(http, "ida", "GET", "c1", "help", str(raised["id"]), "file")
    assert shown == {"student": "ann", "path": "lab1/loop.py", "line": 2, "content": text}
    _, other = await http("bob", "POST", "c1", "help", body={"message": "no file"})
    code, reply = await http("ida", "GET", "c1", "help", str(other["id"]), "file")
    assert code == 404 and "no file" in reply["message"]
    _, gone = await http("cat", "POST", "c1", "help", body={"message": "x", "path": "nope.py"})
    code, reply = await http("ida", "GET", "c1", "help", str(gone["id"]), "file")
    assert code == 404 and "nope.py" in reply["message"]
    db = jp_serverapp.web_app.settings["jupyter_ide_db"]
    async with db.session() as session:
        events = (
            (
                await session.execute(
                    select(AuditEvent)
                    .where(AuditEvent.event == "help_file_viewed")
                    .order_by(AuditEvent.id)
                )
            )
            .scalars()
            .all()
        )
    # Every look at a student's file is logged, the one that found nothing too.
    assert [(e.user_name, e.detail["student"], e.detail["path"]) for e in events] == [
        ("ida", "ann", "lab1/loop.py"),
        ("ida", "cat", "nope.py"),
    ]


async def test_100_concurrent_raises_none_lost(jp_serverapp: Any, http: Any) -> None:
    """100 students raise at once (in parallel HTTP requests) and 10 of them a second time
    at the same moment: 100 open requests, one per student, places 1 to 100."""
    students = [f"h{n:03d}" for n in range(100)]
    HubLikeIdentity.USERS.update(dict.fromkeys(students, "student"))
    await make_course(jp_serverapp, "big", students, ["ida"])
    calls = [
        http(s, "POST", "big", "help", body={"message": f"help {s}", "path": f"{s}.py"})
        for s in students
    ] + [http(s, "POST", "big", "help", body={"message": f"again {s}"}) for s in students[:10]]
    replies = await asyncio.gather(*calls)
    assert all(code in (200, 201) for code, _ in replies), [r for r in replies if r[0] > 201][:3]
    assert sum(1 for code, _ in replies if code == 201) == 100
    queue = (await ok(http, "ida", "GET", "big", "help"))["queue"]
    assert sorted(r["student"] for r in queue) == students
    assert [r["position"] for r in queue] == list(range(1, 101))
    by_student = {r["student"]: r for r in queue}
    for s in students[:10]:  # raised twice at once: one request, holding one of the two
        assert by_student[s]["message"] in (f"help {s}", f"again {s}")
    for s in students[10:]:
        assert by_student[s]["message"] == f"help {s}"
    positions = await asyncio.gather(*(http(s, "GET", "big", "help") for s in students))
    assert sorted(body["position"] for _, body in positions) == list(range(1, 101))
