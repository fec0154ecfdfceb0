"""The activity timeline and replay (issue #16) through the jupyter-ide service under a real
JupyterHub (PostgreSQL, Redis, S3, the Docker judge): a 500-character paste is recorded as a
paste with the workspace file it came from; edits coalesce; saves, runs and submissions appear
in order; replay returns each saved version; who reads whose; hostile reports are refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select
from tornado.httpclient import HTTPRequest
from traitlets import TraitError

from jupyter_ide.classroom.activity import ActivityLimits, ActivityRecorder
from jupyter_ide.classroom.activity_setup import ActivitySettings
from jupyter_ide.classroom.manager import AssignmentManager
from jupyter_ide.db import Course, Database, User, ensure_schema
from jupyter_ide.db.activity_models import ActivityEvent, Presence
from jupyter_ide.kernels.run_watch import KernelRun, RunWatcher

from .activity_hub import Lab, lab_hub
from .kernel_ws import run_cell
from .s3_server import MotoServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

HELPER = "".join(f"def helper_{i}(x):\n    return x * {i} + {i * 7}\n\n" for i in range(30))
PASTED = HELPER[:500]
V1 = "print('first version')\n"
V3 = "print('third version')\n"
REPORTS_PER_MINUTE = 100  # the service's limit in these tests


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """These tests talk to processes over HTTP: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server to clean up: the service runs under the hub."""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer) -> Iterator[Lab]:
    """ann and bob study the course, ida teaches it; ola teaches another course."""
    tag = uuid.uuid4().hex[:4]
    people = {k: f"{k}-{tag}" for k in ("ann", "bob", "ida", "ola")}
    base = tmp_path_factory.mktemp("activity-hub")
    with lab_hub(
        base,
        moto_server,
        [people["ann"], people["bob"]],
        [people["ida"]],
        {people["ola"]: f"other{tag}"},
        {"JUPYTER_IDE_ACTIVITY_REPORTS_PER_MINUTE": str(REPORTS_PER_MINUTE)},
    ) as found:
        found.tokens.update({k: found.tokens[v] for k, v in people.items()})
        found.people = {**people, "other": f"other{tag}"}
        yield found


def timeline(lab: Lab, who: str, **params: str) -> list[dict[str, Any]]:
    """The events of a timeline as ``who`` reads it."""
    found = lab.ok(who, "GET", f"/ide/api/courses/{lab.course}/activity", params=params)
    events: list[dict[str, Any]] = found["events"]
    return events


def test_paste_saves_runs_and_submissions_in_order_and_replay(lab: Lab) -> None:
    """A paste of 500 characters taken from another file is a paste naming that file; edits
    coalesce into one burst; saves, a run (with the judge's verdict) and a submission appear in
    the order they happened; replay returns each saved version's text."""
    ann = lab.people["ann"]  # type: ignore[attr-defined]
    course = lab.course
    events = "/ide/api/activity/events"
    lab.ok("ann", "POST", "/ide/api/activity/presence", {"path": "main.py"}, course=course)
    lab.save("ann", "lib/helper.py", HELPER)
    lab.save("ann", "main.py", V1)
    for _ in range(3):  # one burst: three reports, seconds apart at most
        lab.ok("ann", "POST", events, {"kind": "edit", "path": "main.py", "edits": 4, "chars": 9})
    pasted = lab.call(
        "ann", "POST", events, {"kind": "paste", "path": "main.py", "text": PASTED}, course=course
    )
    assert pasted.status_code == 201, pasted.text
    assert pasted.json() == {
        "recorded": "paste",
        "path": "main.py",
        "size": 500,
        "source": "lib/helper.py",
    }
    small = lab.ok("ann", "POST", events, {"kind": "paste", "path": "main.py", "text": "x = 1"})
    assert small["recorded"] == "edit"  # under the threshold: typing, not a paste
    v2 = V1 + PASTED
    lab.save("ann", "main.py", v2)
    ran = lab.run("ann", V1)
    assert ran["status"]["id"] == 3, ran
    lab.ok("ann", "POST", events, {"kind": "run", "path": "main.py", "token": ran["token"]})
    lab.save("ann", "main.py", V3)

    # An assignment: ida makes it, ann fetches it, saves and submits.
    base = f"/ide/api/courses/{course}/assignments"
    lab.save("ida", "hw1/solution.py", "print(2)\n")
    tests = [{"kind": "stdin", "name": "two", "program": "solution.py", "expected_output": "2\n"}]
    lab.ok(
        "ida", "POST", base, {"name": "hw1", "folder": "hw1", "language": "python", "tests": tests}
    )
    lab.ok("ida", "POST", f"{base}/hw1/release")
    lab.save("ann", f"assignments/{course}/hw1/solution.py", "print(3)\n")
    submitted = lab.ok("ann", "POST", f"{base}/hw1/submissions")
    graded = lab.wait_graded("ida", "hw1", submitted["id"])

    seen = timeline(lab, "ida", student=ann)
    kinds = [(e["kind"], e.get("path")) for e in seen]
    assert kinds == [
        ("save", "lib/helper.py"),
        ("save", "main.py"),
        ("edit", "main.py"),
        ("paste", "main.py"),
        ("edit", "main.py"),  # the small paste: a new burst after the paste
        ("save", "main.py"),
        ("run", "main.py"),
        ("save", "main.py"),
        ("save", f"assignments/{course}/hw1/solution.py"),
        ("submission", f"assignments/{course}/hw1"),
    ], kinds
    burst = seen[2]
    assert burst["edits"] == 12 and burst["size"] == 27
    paste = seen[3]
    assert paste["size"] == 500 and paste["source"] == "lib/helper.py" and len(paste["hash"]) == 64
    run = seen[6]
    assert run["verdict"] == {"id": 3, "description": "Accepted"} and run["token"] == ran["token"]
    submission = seen[-1]
    assert submission["assignment"] == "hw1" and submission["status"] == graded["status"]
    times = [e["time"] for e in seen]
    assert times == sorted(times)
    # The database agrees: one edit row for the burst, one paste row with its source.
    rows = lab.rows(
        "SELECT e.kind, e.count, e.source FROM activity_events e JOIN users u ON u.id = e.user_id"
        " WHERE u.name = :n AND e.path = 'main.py' ORDER BY e.id",
        n=ann,
    )
    assert [(k, c) for k, c, _ in rows] == [
        ("save", 1),
        ("edit", 12),
        ("paste", 1),
        ("edit", 1),
        ("save", 1),
        ("run", 1),
        ("save", 1),
    ]
    assert rows[2][2] == "lib/helper.py"

    # One file's timeline; the student's own reads the same.
    only = timeline(lab, "ida", student=ann, path="main.py")
    assert {e["path"] for e in only} == {"main.py"} and len(only) == 7
    assert timeline(lab, "ann") == seen

    # Replay: each saved version of main.py, oldest first, with its text.
    versions = lab.ok(
        "ida",
        "GET",
        f"/ide/api/courses/{course}/activity/versions",
        params={"student": ann, "path": "main.py"},
    )["versions"]
    texts = []
    for version in versions:
        got = lab.ok(
            "ida",
            "GET",
            f"/ide/api/courses/{course}/activity/versions",
            params={"student": ann, "path": "main.py", "hash": version["hash"]},
        )
        texts.append(got["content"])
    assert texts == [V1, v2, V3]
    assert [v["n"] for v in versions] == [1, 2, 3] and versions[-1]["current"] is True


def test_who_reads_whose_and_hostile_reports(lab: Lab) -> None:
    """A student reads only their own timeline; another course's instructor and students get
    403 for the dashboard and others' timelines; bad reports are clear 4xx answers."""
    people = lab.people
    ann, bob = people["ann"], people["bob"]
    course = lab.course
    timeline_url = f"/ide/api/courses/{course}/activity"
    lab.save("bob", "notes.py", "print('bob')\n")
    assert lab.call("bob", "GET", timeline_url, params={"student": ann}).status_code == 403
    assert lab.call("ola", "GET", timeline_url, params={"student": ann}).status_code == 403
    assert lab.call("ola", "GET", f"/ide/api/courses/{course}/dashboard").status_code == 403
    assert lab.call("bob", "GET", f"/ide/api/courses/{course}/dashboard").status_code == 403
    assert lab.call("ida", "GET", timeline_url, params={"student": "nobody"}).status_code == 404
    assert lab.call("ida", "GET", timeline_url, params={"student": "../x"}).status_code == 400
    assert lab.call("ida", "GET", timeline_url, params={"limit": "0"}).status_code == 400
    assert lab.call("ida", "GET", timeline_url).status_code == 400  # name a student
    replay = f"/ide/api/courses/{course}/activity/versions"
    # bob's notes.py was never worked on in the course: not the instructor's to replay.
    refused = lab.call("ida", "GET", replay, params={"student": bob, "path": "notes.py"})
    assert refused.status_code == 404, refused.text
    mine = lab.ok("bob", "GET", replay, params={"path": "notes.py"})
    assert len(mine["versions"]) == 1
    bad_hash = lab.call("bob", "GET", replay, params={"path": "notes.py", "hash": "0" * 64})
    assert bad_hash.status_code == 404
    assert (
        lab.call("bob", "GET", replay, params={"path": "notes.py", "hash": "zz"}).status_code == 400
    )
    assert lab.call("bob", "GET", replay, params={"path": "gone.py"}).status_code == 404

    events = "/ide/api/activity/events"

    def refused_with(body: Any = None, raw: bytes | None = None, **kw: Any) -> int:
        reply = lab.call("bob", "POST", events, body, raw=raw, **kw)
        assert reply.json()["message"], reply.text  # a message a person can read
        return reply.status_code

    assert refused_with(raw=b"{not json") == 400
    assert refused_with([1, 2]) == 400
    assert refused_with({"kind": "shout", "path": "a.py"}) == 400
    assert refused_with({"kind": "edit", "path": "../../etc/passwd"}) == 400
    assert refused_with({"kind": "edit", "path": "/abs.py"}) == 400
    assert refused_with({"kind": "edit"}) == 400
    assert refused_with({"kind": "edit", "path": "a.py", "edits": -1}) == 400
    assert refused_with({"kind": "edit", "path": "a.py", "extra": 1}) == 400
    assert refused_with({"kind": "edit", "path": "a.py", "age_ms": 10**9}) == 400
    assert refused_with({"kind": "paste", "path": "a.py", "text": 5}) == 400
    assert refused_with({"kind": "paste", "path": "a.py", "text": "x" * 1_000_001}) == 413
    assert refused_with(raw=b'{"kind": "paste", "text": "' + b"y" * 5_000_000 + b'"}') == 413
    assert refused_with({"kind": "edit", "path": "a.py", "course": people["other"]}) == 403
    assert refused_with({"kind": "edit", "path": "a.py"}, course="nosuchcourse") == 404
    assert refused_with({"kind": "run", "path": "a.py", "token": "not a token"}) == 400
    ran = lab.run("ann", "print(1)\n")
    # ann's run is not bob's to claim.
    assert refused_with({"kind": "run", "path": "a.py", "token": ran["token"]}) == 404
    presence = lab.call("bob", "POST", "/ide/api/activity/presence", {"path": "a.py"})
    assert presence.status_code == 400  # no course named
    # Nothing of these refusals was written.
    assert not lab.rows(
        "SELECT e.id FROM activity_events e JOIN users u ON u.id = e.user_id"
        " WHERE u.name = :n AND e.path = 'a.py'",
        n=bob,
    )


def test_retention_purges_old_events_and_settings_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events and presence past the retention are purged, newer ones kept; the settings
    read their environment variables and refuse values that cannot work."""
    url = f"sqlite:///{tmp_path / 'activity.db'}"
    ensure_schema(url)
    now = datetime.now(timezone.utc)

    async def scenario() -> tuple[int, list[str], int]:
        db = Database(url)
        try:
            async with db.session() as session:
                user = User(name="ann")
                course = Course(name="c1", title="C1")
                session.add_all([user, course])
                await session.flush()
                for age, path in ((40, "old.py"), (10, "new.py")):
                    at = now - timedelta(days=age)
                    session.add(
                        ActivityEvent(
                            user_id=user.id,
                            course_id=course.id,
                            path=path,
                            kind="save",
                            started_at=at,
                            ended_at=at,
                            detail={},
                        )
                    )
                seen = now - timedelta(days=40)
                session.add(Presence(user_id=user.id, course_id=course.id, seen_at=seen))
            limits = ActivityLimits(retention_days=30)
            manager = AssignmentManager(db, None)  # type: ignore[arg-type]
            recorder = ActivityRecorder(db, manager, None, limits)  # type: ignore[arg-type]
            gone = await recorder.purge(now)
            async with db.session() as session:
                kept = list((await session.execute(select(ActivityEvent.path))).scalars())
                present = len((await session.execute(select(Presence.user_id))).all())
            return gone, kept, present
        finally:
            await db.dispose()

    assert asyncio.run(scenario()) == (1, ["new.py"], 0)
    monkeypatch.setenv("JUPYTER_IDE_PASTE_THRESHOLD", "50")
    monkeypatch.setenv("JUPYTER_IDE_ONLINE_SECONDS", "30")
    settings = ActivitySettings()
    assert (settings.paste_threshold, settings.online_seconds) == (50, 30.0)
    monkeypatch.setenv("JUPYTER_IDE_PASTE_THRESHOLD", "0")
    with pytest.raises(TraitError, match="JUPYTER_IDE_PASTE_THRESHOLD must be above 0"):
        ActivitySettings().paste_threshold  # noqa: B018 - read: checked
    with pytest.raises(TraitError, match="online_seconds must be above 0"):
        ActivitySettings(online_seconds=-1)
    monkeypatch.setenv("JUPYTER_IDE_EDIT_BURST_SECONDS", "soon")
    with pytest.raises(TraitError, match="JUPYTER_IDE_EDIT_BURST_SECONDS"):
        ActivitySettings().edit_burst_seconds  # noqa: B018 - read: checked


def _ws(lab: Lab, path: str) -> str:
    """The websocket URL of a service path."""
    return "ws" + f"{lab.hub.service_url}{path}".removeprefix("http")


def _cell(lab: Lab, who: str, kernel_id: str, code: str, meta: dict[str, Any]) -> str:
    """Run a cell in a kernel through the service's channels websocket, as ``who``."""
    url = _ws(lab, f"/api/kernels/{kernel_id}/channels")
    request = HTTPRequest(url, headers={"Authorization": f"token {lab.tokens[who]}"})
    return asyncio.run(run_cell(request, code, 120, meta))


def test_kernel_cell_runs_are_runs_in_order_with_judge_runs_and_submissions(lab: Lab) -> None:
    """Cells run in a real sandboxed kernel (one ok, one raising) are recorded by the service
    from the kernel's own messages: timeline runs with the notebook, cell, code and outcome,
    in order with a judge run and a submission; the dashboard's last run is the latest cell's.
    Another student cannot reach the kernel, so cannot make runs in its owner's name."""
    bob, course = lab.people["bob"], lab.course  # type: ignore[attr-defined]
    lab.ok("bob", "POST", "/ide/api/activity/presence", {"path": "cells.ipynb"}, course=course)
    judged = lab.run("bob", "print('judged')\n")
    assert judged["status"]["id"] == 3, judged
    body = {"path": "cells.ipynb", "type": "notebook", "name": "", "kernel": {"name": "ide-python"}}
    session = lab.ok("bob", "POST", "/api/sessions", body)
    kernel_id = session["kernel"]["id"]
    try:
        printed = _cell(lab, "bob", kernel_id, "print(6 * 7)", {"cellId": "c-a", "cellIndex": 0})
        assert printed.strip() == "42", printed
        failing = "x = 1\n1 / 0\n"
        raised = _cell(lab, "bob", kernel_id, failing, {"cellId": "c-b", "cellIndex": 1})
        assert "ZeroDivisionError" in raised, raised
        with pytest.raises(Exception, match="404"):  # ann: no such kernel of hers
            _cell(lab, "ann", kernel_id, "print('forged')", {})
    finally:
        lab.ok("bob", "DELETE", f"/api/sessions/{session['id']}")
    board = lab.ok("ida", "GET", f"/ide/api/courses/{course}/dashboard")
    row = next(r for r in board["students"] if r["student"] == bob)
    assert row["last_run"]["description"] == "Error (ZeroDivisionError)", row
    assert row["last_run"]["via"] == "kernel" and row["last_run"]["ok"] is False

    base = f"/ide/api/courses/{course}/assignments"
    lab.save("ida", "hw2/solution.py", "print(2)\n")
    tests = [{"kind": "stdin", "name": "two", "program": "solution.py", "expected_output": "2\n"}]
    spec = {"name": "hw2", "folder": "hw2", "language": "python", "tests": tests}
    lab.ok("ida", "POST", base, spec)
    lab.ok("ida", "POST", f"{base}/hw2/release")
    lab.save("bob", f"assignments/{course}/hw2/solution.py", "print(2)\n")
    lab.ok("bob", "POST", f"{base}/hw2/submissions")

    seen = timeline(lab, "ida", student=bob)
    ordered = [e for e in seen if e["kind"] in ("run", "submission")]
    assert [(e["kind"], e.get("via")) for e in ordered] == [
        ("run", "judge"),
        ("run", "kernel"),
        ("run", "kernel"),
        ("submission", None),
    ], ordered
    ok_run, error_run = ordered[1], ordered[2]
    assert ok_run["path"] == "cells.ipynb" and ok_run["kernel"] == "ide-python"
    assert (ok_run["outcome"], ok_run["cell_id"], ok_run["cell_index"]) == ("ok", "c-a", 0)
    assert ok_run["code_head"] == "print(6 * 7)"
    assert ok_run["code_hash"] == hashlib.sha256(b"print(6 * 7)").hexdigest()
    assert ok_run["verdict"] == {"id": None, "description": "Ran ok", "ok": True}
    assert (error_run["outcome"], error_run["ename"]) == ("error", "ZeroDivisionError")
    assert (error_run["cell_id"], error_run["code_head"]) == ("c-b", "x = 1\n1 / 0")
    times = [e["time"] for e in ordered]
    assert times == sorted(times)
    # Recorded under the kernel's owner only.
    owners = lab.rows(
        "SELECT u.name FROM activity_events e JOIN users u ON u.id = e.user_id"
        " WHERE e.kind = 'run' AND e.ref IS NULL"
    )
    assert [name for (name,) in owners] == [bob, bob]
    # A browser cannot report a kernel run: a run report names a judge token only.
    forged = lab.call(
        "ann",
        "POST",
        "/ide/api/activity/events",
        {"kind": "run", "kernel": kernel_id, "path": "cells.ipynb"},
    )
    assert forged.status_code == 400 and "kernel" in forged.json()["message"]


def test_timeline_etag_answers_304_until_something_new_happens(lab: Lab) -> None:
    """A timeline carries an ETag; asked again with it, an unchanged one is a bodiless 304;
    a new event changes it."""
    bob, course = lab.people["bob"], lab.course  # type: ignore[attr-defined]
    url = f"{lab.hub.service_url}/ide/api/courses/{course}/activity"
    auth = {"Authorization": f"token {lab.tokens['ida']}"}
    first = requests.get(url, params={"student": bob}, headers=auth, timeout=60)
    assert first.status_code == 200 and first.headers["ETag"], first.text
    tag = first.headers["ETag"]
    again = requests.get(
        url, params={"student": bob}, headers={**auth, "If-None-Match": tag}, timeout=60
    )
    assert again.status_code == 304 and again.content == b""
    lab.ok(
        "bob", "POST", "/ide/api/activity/events", {"kind": "edit", "path": "new.py"}, course=course
    )
    changed = requests.get(
        url, params={"student": bob}, headers={**auth, "If-None-Match": tag}, timeout=60
    )
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert json.loads(changed.content)["events"][-1]["path"] == "new.py"


def test_activity_reports_are_rate_limited_per_user(lab: Lab) -> None:
    """A user flooding activity reports gets 429 with a clear message; others are not held."""
    events = "/ide/api/activity/events"
    statuses = []
    for _ in range(2 * REPORTS_PER_MINUTE + 1):  # two minute windows at most
        reply = lab.call("ola", "POST", events, {"kind": "edit", "path": "flood.py"})
        statuses.append(reply.status_code)
        if reply.status_code == 429:
            assert f"at most {REPORTS_PER_MINUTE} a minute" in reply.json()["message"]
            assert reply.headers["Retry-After"]
            break
    assert statuses[-1] == 429 and set(statuses[:-1]) == {200}, statuses
    assert lab.call("bob", "POST", events, {"kind": "edit", "path": "x.py"}).status_code == 200


def test_run_watcher_pairs_requests_and_replies_in_the_v1_protocol() -> None:
    """The browser's v1 frames: a cell's request and its ok / error / aborted replies become
    runs; silent executes and other messages are not runs; unanswered requests are bounded."""
    runs: list[KernelRun] = []
    watcher = RunWatcher(runs.append)

    def frames(msg_type: str, msg_id: str, parent: str, meta: Any, content: Any) -> list[bytes]:
        header = {"msg_id": msg_id, "msg_type": msg_type}
        return [json.dumps(part).encode() for part in (header, {"msg_id": parent}, meta, content)]

    for n in range(3):
        content = {"code": f"print({n})\n" * 9, "silent": False}
        watcher.incoming_v1(
            "shell",
            frames("execute_request", f"r{n}", "", {"cellId": f"c{n}", "cellIndex": n}, content),
        )
    watcher.incoming_v1(
        "shell", frames("execute_request", "s", "", {}, {"code": "x", "silent": True})
    )
    watcher.incoming_v1("shell", frames("complete_request", "q", "", {}, {"code": "pri"}))
    watcher.outgoing_v1(frames("status", "k0", "r0", {}, {"execution_state": "idle"}))
    assert runs == []
    watcher.outgoing_v1(
        frames("execute_reply", "k1", "r0", {}, {"status": "ok", "execution_count": 1})
    )
    watcher.outgoing_v1(
        frames("execute_reply", "k2", "r1", {}, {"status": "error", "ename": "NameError"})
    )
    watcher.outgoing_v1(frames("execute_reply", "k3", "r2", {}, {"status": "aborted"}))
    watcher.outgoing_v1(frames("execute_reply", "k4", "s", {}, {"status": "ok"}))
    assert [(r.outcome, r.ename, r.cell_id, r.cell_index) for r in runs] == [
        ("ok", "", "c0", 0),
        ("error", "NameError", "c1", 1),
        ("aborted", "", "c2", 2),
    ]
    assert runs[0].code_head == "print(0)\n" * 4 + "print(0)" and runs[0].execution_count == 1
    for n in range(1000):  # requests a kernel never answers are forgotten, oldest first
        watcher.incoming_json(
            json.dumps(
                {
                    "channel": "shell",
                    "header": {"msg_id": f"m{n}", "msg_type": "execute_request"},
                    "content": {"code": "1"},
                }
            )
        )
    assert len(watcher._waiting) == 256 and "m999" in watcher._waiting
