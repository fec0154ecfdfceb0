"""Every course-scoped route, read from the running server's handler table: a TA (hub-wide a
student, instructor of course ca only) is refused on course cb's objects (403/404) and the
database stays as it was, also with cb's object ids under ca's URL; on ca the call works and
its answer names nothing of cb. A new route with a course-scoped permission and no case here
fails the test."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update

from jupyter_ide.auth import PERMISSION_ATTR
from jupyter_ide.auth.decorators import VERBS
from jupyter_ide.auth.permissions import COURSE_SCOPED
from jupyter_ide.db.models import AssignmentSubmission, Base
from jupyter_ide.db.similarity_models import SimilarityRun

from .test_ai_common import HubLikeIdentity, call_as, make_course
from .test_classroom_api import classroom, write

# Course cb's people and texts all carry MARK: nothing of cb may show in an answer about ca.
MARK = "bravo"
USERS = {
    "tess": "student",  # hub-wide a student; instructor of ca only (a TA)
    "ann": "student",  # ca
    "amy": "student",  # ca
    "zed": "student",  # ca (removed last)
    f"{MARK}1": "student",  # cb
    f"{MARK}2": "student",  # cb
    "root": "admin",
}
B1, B2 = f"{MARK}1", f"{MARK}2"
HW = "hw"
PROGRAM = "".join(
    f"def step{i}(values):\n    total = 0\n    for v in values:\n        total += v * {i}\n"
    f"    return total - {i}\n\n"
    for i in range(12)
)


@dataclass(frozen=True)
class Case:
    """One course-scoped route and verb: the calls that must be refused, and one that works.

    Paths are under /ide/api; {A}/{B} are the courses, {a_sub}/{b_sub} (graded submissions),
    {a_req}/{b_req} and {a_req2}/{b_req2} (open help requests), {a_pair}/{b_pair} (similarity
    pairs) objects of each. Each ``refused`` path must answer 403 or 404 and change nothing in
    the database; the ``own`` path, on course A, must answer 2xx.
    """

    refused: tuple[str, ...]
    own: str
    body: Any = None


ONE = "courses/{c}/assignments/hw"
SUB = ONE + "/submissions/{s}"

# Keyed by the route's pattern (groups written {name}, unnamed ones {}) and verb, in the order
# they run (what a case creates or removes on ca, later cases may rely on).
CASES: dict[tuple[str, str], Case] = {
    ("/ide/api/ai/policy/{}", "GET"): Case(("ai/policy/{B}",), "ai/policy/{A}"),
    ("/ide/api/ai/policy/{}", "PUT"): Case(("ai/policy/{B}",), "ai/policy/{A}", {"mode": "hint"}),
    ("/ide/api/courses/{course}/assignments/gradebook", "GET"): Case(
        ("courses/{B}/assignments/gradebook",), "courses/{A}/assignments/gradebook"
    ),
    ("/ide/api/courses/{course}/assignments", "POST"): Case(
        ("courses/{B}/assignments",),
        "courses/{A}/assignments",
        {"name": "hw2", "folder": "hwsrc-ca", "language": "python"},
    ),
    ("/ide/api/courses/{course}/assignments/{name}", "PATCH"): Case(
        (ONE.format(c="{B}"),), ONE.format(c="{A}"), {"title": "changed"}
    ),
    ("/ide/api/courses/{course}/assignments/{name}/release", "POST"): Case(
        (ONE.format(c="{B}") + "/release",), ONE.format(c="{A}") + "/release"
    ),
    ("/ide/api/courses/{course}/assignments/{name}/feedback", "PUT"): Case(
        (ONE.format(c="{B}") + "/feedback",), ONE.format(c="{A}") + "/feedback", {"published": True}
    ),
    ("/ide/api/courses/{course}/assignments/{name}/extensions/{student}", "PUT"): Case(
        (
            ONE.format(c="{B}") + f"/extensions/{B1}",
            ONE.format(c="{A}") + f"/extensions/{B1}",  # cb's student under ca's URL
        ),
        ONE.format(c="{A}") + "/extensions/ann",
        {"due_at": "2030-01-01T00:00:00Z"},
    ),
    ("/ide/api/courses/{course}/assignments/{name}/extensions/{student}", "DELETE"): Case(
        (
            ONE.format(c="{B}") + f"/extensions/{B1}",
            ONE.format(c="{A}") + f"/extensions/{B1}",
        ),
        ONE.format(c="{A}") + "/extensions/ann",
    ),
    ("/ide/api/courses/{course}/assignments/{name}/submissions/{submission}/grade", "PUT"): Case(
        (
            SUB.format(c="{B}", s="{b_sub}") + "/grade",
            SUB.format(c="{A}", s="{b_sub}") + "/grade",  # cb's submission under ca's URL
        ),
        SUB.format(c="{A}", s="{a_sub}") + "/grade",
        {"points": {}},
    ),
    (
        "/ide/api/courses/{course}/assignments/{name}/submissions/{submission}/results.json",
        "GET",
    ): Case(
        (
            SUB.format(c="{B}", s="{b_sub}") + "/results.json",
            SUB.format(c="{A}", s="{b_sub}") + "/results.json",
        ),
        SUB.format(c="{A}", s="{a_sub}") + "/results.json",
    ),
    ("/ide/api/courses/{course}/assignments/{name}/submissions/{submission}/regrade", "POST"): Case(
        (
            SUB.format(c="{B}", s="{b_sub}") + "/regrade",
            SUB.format(c="{B}", s="all") + "/regrade",
            SUB.format(c="{A}", s="{b_sub}") + "/regrade",
        ),
        SUB.format(c="{A}", s="{a_sub}") + "/regrade",
    ),
    ("/ide/api/courses/{course}/assignments/{name}/similarity", "GET"): Case(
        (ONE.format(c="{B}") + "/similarity",), ONE.format(c="{A}") + "/similarity"
    ),
    ("/ide/api/courses/{course}/assignments/{name}/similarity/pairs", "GET"): Case(
        (ONE.format(c="{B}") + "/similarity/pairs",), ONE.format(c="{A}") + "/similarity/pairs"
    ),
    ("/ide/api/courses/{course}/assignments/{name}/similarity/pairs/{pair}", "GET"): Case(
        (
            ONE.format(c="{B}") + "/similarity/pairs/{b_pair}",
            ONE.format(c="{A}") + "/similarity/pairs/{b_pair}",  # cb's pair under ca's URL
        ),
        ONE.format(c="{A}") + "/similarity/pairs/{a_pair}",
    ),
    ("/ide/api/courses/{course}/assignments/{name}/similarity", "POST"): Case(
        (ONE.format(c="{B}") + "/similarity",), ONE.format(c="{A}") + "/similarity"
    ),
    ("/ide/api/courses/{course}/help/{request}/file", "GET"): Case(
        ("courses/{B}/help/{b_req}/file", "courses/{A}/help/{b_req}/file"),
        "courses/{A}/help/{a_req}/file",
    ),
    ("/ide/api/courses/{course}/help/{request}/return", "POST"): Case(
        ("courses/{B}/help/{b_req}/return", "courses/{A}/help/{b_req}/return"),
        "courses/{A}/help/{a_req}/return",
        {"note": "see line 1"},
    ),
    ("/ide/api/courses/{course}/help/{request}/resolve", "POST"): Case(
        ("courses/{B}/help/{b_req2}/resolve", "courses/{A}/help/{b_req2}/resolve"),
        "courses/{A}/help/{a_req2}/resolve",
        {},
    ),
    ("/ide/api/courses/{course}/dashboard", "GET"): Case(
        ("courses/{B}/dashboard",), "courses/{A}/dashboard"
    ),
    ("/ide/api/classroom/{course}/live/members", "GET"): Case(
        ("classroom/{B}/live/members",), "classroom/{A}/live/members"
    ),
    ("/ide/api/classroom/{course}/live/{student}/runs", "GET"): Case(
        (f"classroom/{{B}}/live/{B1}/runs", f"classroom/{{A}}/live/{B1}/runs"),
        "classroom/{A}/live/ann/runs",
    ),
    ("/ide/api/classroom/{course}/live/options", "PUT"): Case(
        ("classroom/{B}/live/options",), "classroom/{A}/live/options", {"pair_editing": True}
    ),
    ("/ide/api/classroom/{course}/live/pairs", "POST"): Case(
        ("classroom/{B}/live/pairs",),
        "classroom/{A}/live/pairs",
        {"students": ["ann", "amy"]},
    ),
    ("/ide/api/classroom/{course}/live/pairs/{student}", "DELETE"): Case(
        (f"classroom/{{B}}/live/pairs/{B1}", f"classroom/{{A}}/live/pairs/{B1}"),
        "classroom/{A}/live/pairs/ann",
    ),
    ("/ide/api/courses/{}/members/{}", "DELETE"): Case(
        (f"courses/{{B}}/members/{B1}", f"courses/{{A}}/members/{B1}"),
        "courses/{A}/members/zed",
    ),
}


def _routes(router: Any) -> list[tuple[str, Any]]:
    """Every (path regex, handler class) in a tornado router, nested routers included."""
    found = []
    for rule in router.rules:
        if hasattr(rule.target, "rules"):
            found += _routes(rule.target)
        elif getattr(rule.matcher, "regex", None) is not None:
            found.append((rule.matcher.regex.pattern, rule.target))
    return found


def _shape(pattern: str) -> str:
    """Write a route's regex groups as {name} (named) or {} and drop "/?" and "$"."""
    out, depth, start, i = [], 0, 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                group = pattern[start : i + 1]
                name = group[4 : group.index(">")] if group.startswith("(?P<") else ""
                out.append("{" + name + "}")
        elif depth == 0:
            out.append(ch)
        i += 1
    return "".join(out).replace("/?", "").rstrip("$")


def course_scoped_routes(app: Any) -> set[tuple[str, str]]:
    """(route shape under the base URL, VERB) of every verb declaring a course-scoped permission."""
    base = app.base_url.rstrip("/")
    found = set()
    for pattern, handler in _routes(app.web_app.default_router):
        if not pattern.startswith(base + "/ide/"):
            continue
        for verb in VERBS:
            permission = getattr(getattr(handler, verb, None), PERMISSION_ATTR, None)
            if permission in COURSE_SCOPED:
                found.add((_shape(pattern[len(base) :]), verb.upper()))
    return found


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Hub-like users, signed in by their test tokens."""
    HubLikeIdentity.USERS.update(USERS)
    return {
        **jp_server_config,
        "ServerApp": {**jp_server_config["ServerApp"], "identity_provider_class": HubLikeIdentity},
    }


async def snapshot(app: Any) -> dict[str, list[str]]:
    """Every row of every table (the audit log too), as text."""
    db = app.web_app.settings["jupyter_ide_courses"].db
    rows: dict[str, list[str]] = {}
    async with db.session() as session:
        for table in Base.metadata.sorted_tables:
            found = (await session.execute(select(table))).all()
            rows[table.name] = sorted(repr(tuple(r)) for r in found)
    return rows


async def settle(app: Any, graded: list[int]) -> None:
    """Wait for what a call started in the background: similarity checks, regrades."""
    db = app.web_app.settings["jupyter_ide_courses"].db
    deadline = time.monotonic() + 180
    while True:
        async with db.session() as session:
            running = (
                await session.execute(
                    select(SimilarityRun.id).where(SimilarityRun.status == "running")
                )
            ).first()
            grading = (
                await session.execute(
                    select(AssignmentSubmission.id).where(
                        AssignmentSubmission.id.in_(graded),
                        AssignmentSubmission.status.in_(("queued", "grading")),
                    )
                )
            ).first()
        if running is None and grading is None:
            return
        assert time.monotonic() < deadline, "background work did not finish"
        await asyncio.sleep(0.1)


async def _ok(fetch: Any, who: str, method: str, path: str, body: Any = None) -> Any:
    """Call /ide/api/<path> as ``who``; insist on a 2xx; return the JSON answer."""
    code, text, _ = await call_as(fetch, who, method, "ide", "api", *path.split("/"), body=body)
    assert 200 <= code < 300, (who, method, path, code, text)
    return json.loads(text) if text else None


async def _course(app: Any, fetch: Any, course: str, teacher: str, students: list[str]) -> None:
    """A course with an assignment "hw" released and submitted by each student, a hand
    raised by each (the first linked to their file); grading is not under test."""
    await write(app, teacher, f"hwsrc-{course}/main.py", b"def f():\n    return 1\n")
    await _ok(
        fetch,
        teacher,
        "POST",
        f"courses/{course}/assignments",
        {"name": HW, "folder": f"hwsrc-{course}", "language": "python"},
    )
    await _ok(fetch, teacher, "POST", f"courses/{course}/assignments/{HW}/release")
    for n, student in enumerate(students):
        text = PROGRAM + f"# {student}\n"  # the same work: the check keeps the pair
        await write(app, student, f"assignments/{course}/{HW}/main.py", text.encode())
        await _ok(fetch, student, "POST", f"courses/{course}/assignments/{HW}/submissions")
        link = {"path": f"assignments/{course}/{HW}/main.py", "line": 1} if n == 0 else {}
        await _ok(
            fetch,
            student,
            "POST",
            f"courses/{course}/help",
            {"message": f"{student} stuck", **link},
        )


async def _ids(app: Any, fetch: Any, course: str, who: str) -> tuple[list[int], list[int], int]:
    """Return the course's submission ids, open help request ids and a similarity pair id."""
    subs = await _ok(fetch, who, "GET", f"courses/{course}/assignments/{HW}/submissions")
    queue = await _ok(fetch, who, "GET", f"courses/{course}/help")
    deadline = time.monotonic() + 120
    sim = f"courses/{course}/assignments/{HW}/similarity"
    while (state := await _ok(fetch, who, "GET", sim))["run"]["status"] == "running":
        assert time.monotonic() < deadline, state
        await asyncio.sleep(0.1)
    pairs = await _ok(fetch, who, "GET", sim + "/pairs")
    return (
        sorted(s["id"] for s in subs["submissions"]),
        [r["id"] for r in queue["queue"]],
        int(pairs["pairs"][0]["id"]),
    )


async def test_course_scoped_routes_reach_only_the_callers_course(
    jp_serverapp: Any, jp_fetch: Any
) -> None:
    """Each course-scoped route and verb: a TA of ca is refused on cb's objects (also under
    ca's URL) and nothing changes; on ca it works and answers nothing of cb."""
    app = jp_serverapp
    found = course_scoped_routes(app)
    missing = sorted(found - set(CASES))
    assert not missing, (
        f"Course-scoped routes without a case in {__name__}.CASES: {missing}. Add one: what a "
        "TA of another course is refused (403/404, nothing changes) and what works on her own"
    )
    stale = sorted(set(CASES) - found)
    assert not stale, f"CASES names routes the server no longer has (or not course-scoped): {stale}"

    classroom(app).submissions.enqueue = None  # grading is not under test
    await make_course(app, "ca", ["ann", "amy", "zed"], ["tess"])
    await make_course(app, "cb", [B1, B2])
    await _course(app, jp_fetch, "ca", "tess", ["ann", "amy"])
    await _course(app, jp_fetch, "cb", "root", [B1, B2])
    for course in ("ca", "cb"):
        await _ok(jp_fetch, "root", "POST", f"courses/{course}/assignments/{HW}/similarity")
    a_subs, a_reqs, a_pair = await _ids(app, jp_fetch, "ca", "tess")
    b_subs, b_reqs, b_pair = await _ids(app, jp_fetch, "cb", "root")
    # Objects of cb for the refused calls to aim at: an extension, a pair, graded submissions.
    await _ok(
        jp_fetch,
        "root",
        "PUT",
        f"courses/cb/assignments/{HW}/extensions/{B1}",
        {"due_at": "2030-01-01T00:00:00Z"},
    )
    await _ok(jp_fetch, "root", "POST", "classroom/cb/live/pairs", {"students": [B1, B2]})
    db = app.web_app.settings["jupyter_ide_courses"].db
    async with db.session() as session:
        await session.execute(
            update(AssignmentSubmission)
            .where(AssignmentSubmission.id.in_([a_subs[0], b_subs[0]]))
            .values(status="graded", results=[], score=0.0, max_score=0.0)
        )
    names = {
        "A": "ca",
        "B": "cb",
        "a_sub": a_subs[0],
        "b_sub": b_subs[0],
        "a_req": a_reqs[0],
        "a_req2": a_reqs[1],
        "b_req": b_reqs[0],
        "b_req2": b_reqs[1],
        "a_pair": a_pair,
        "b_pair": b_pair,
    }

    for (route, verb), case in CASES.items():
        for template in case.refused:
            path = template.format(**names)
            before = await snapshot(app)
            code, text, _ = await call_as(
                jp_fetch, "tess", verb, "ide", "api", *path.split("/"), body=case.body
            )
            assert code in (403, 404), (route, verb, path, code, text)
            assert await snapshot(app) == before, (route, verb, path, "changed the database")
        path = case.own.format(**names)
        code, text, _ = await call_as(
            jp_fetch, "tess", verb, "ide", "api", *path.split("/"), body=case.body
        )
        assert 200 <= code < 300, (route, verb, path, code, text)
        assert MARK.encode() not in text, (route, verb, path, "shows course cb's data", text)
        await settle(app, [a_subs[0], b_subs[0]])

    # The regrade's 404 for another course's id is not its 409 for one of this assignment's
    # submissions that is not graded yet.
    code, text, _ = await call_as(
        jp_fetch, "tess", "POST", *f"ide/api/{SUB}/regrade".format(c="ca", s=a_subs[1]).split("/")
    )
    assert code == 409 and b"not graded yet" in text, (code, text)
