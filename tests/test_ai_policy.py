"""Course policy enforced in the proxy: off / hint-only / full, exam windows, the course's
models, the admin's allow and block lists, and who may change a policy."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_ide.ai_handlers.settings import HINT_PROMPT

from .test_ai_common import HubLikeIdentity, Upstream, ai_config, as_user, chat, make_course
from .test_ai_common import upstream as upstream  # fixture

USERS = {
    "ada": "student",
    "bob": "student",
    "grace": "instructor",
    "ivan": "instructor",
    "root": "admin",
}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], upstream: Upstream) -> dict[str, Any]:
    """Hub-like users; the admin blocks "broken" and allows only echo, other and slow."""
    HubLikeIdentity.USERS.update(USERS)
    return ai_config(
        jp_server_config,
        upstream,
        blocked_models=["broken"],
        allowed_models=["echo", "other", "slow", "broken"],
    )


async def _setup(app: Any) -> None:
    """cs101 (ada, bob; grace teaches), cs102 (ada; ivan teaches)."""
    await make_course(app, "cs101", ["ada", "bob"], ["grace"])
    await make_course(app, "cs102", ["ada"], ["ivan"])


async def _put(jp_fetch: Any, user: str, course: str, **body: Any) -> Any:
    """PUT a course policy as ``user``."""
    return await jp_fetch(
        "ide",
        "api",
        "ai",
        "policy",
        course,
        method="PUT",
        body=json.dumps(body),
        headers=as_user(user),
    )


async def _policy(jp_fetch: Any, user: str, course: str | None = None) -> Any:
    """GET the effective policy as ``user``."""
    headers = as_user(user)
    if course:
        headers["X-IDE-Course"] = course
    return json.loads((await jp_fetch("ide", "api", "ai", "policy", headers=headers)).body)


def _iso(delta: timedelta) -> str:
    """A time ``delta`` from now, ISO 8601 with zone."""
    return (datetime.now(timezone.utc) + delta).isoformat()


async def _refusal(call: Any) -> tuple[int, dict[str, Any]]:
    """Await a request that must fail; return its status and JSON body."""
    with pytest.raises(HTTPClientError) as e:
        await call
    return e.value.code, json.loads(e.value.response.body)


async def test_hint_only_and_off(jp_fetch: Any, jp_serverapp: Any, upstream: Upstream) -> None:
    """Hint-only puts the policy prompt first; off refuses students, not the instructor."""
    await _setup(jp_serverapp)
    state = await _policy(jp_fetch, "bob")
    assert (state["course"], state["mode"], state["until"]) == ("cs101", "full", None)
    assert state["models"] == ["echo", "other", "slow"]

    await _put(jp_fetch, "grace", "cs101", mode="hint")
    response = await chat(
        jp_fetch, "bob", model="echo", messages=[{"role": "user", "content": "solve it"}]
    )
    assert response.headers["X-IDE-AI-Mode"] == "hint"
    assert response.headers["X-IDE-Course"] == "cs101"
    sent = upstream.seen[-1]["body"]["messages"]
    assert sent[0] == {"role": "system", "content": HINT_PROMPT}
    assert sent[1]["content"] == "solve it"
    state = await _policy(jp_fetch, "bob")
    assert state["mode"] == "hint" and state["reason"] == "Course policy of cs101"

    await _put(jp_fetch, "grace", "cs101", mode="off")
    status, body = await _refusal(
        chat(jp_fetch, "bob", model="echo", messages=[{"role": "user", "content": "x"}])
    )
    assert status == 403 and body["error"]["code"] == "ai_off" and body["mode"] == "off"
    assert (await _policy(jp_fetch, "bob"))["models"] == []
    # The course's instructor is not bound by the students' mode.
    teacher = await chat(
        jp_fetch, "grace", course="cs101", model="echo", messages=[{"role": "user", "content": "x"}]
    )
    assert teacher.headers["X-IDE-AI-Mode"] == "full"


async def test_exam_windows(jp_fetch: Any, jp_serverapp: Any) -> None:
    """A window now switches the course off until its end, whatever course is named;
    a later window is announced; an ended one no longer applies."""
    await _setup(jp_serverapp)
    ends = datetime.now(timezone.utc) + timedelta(hours=1)
    stored = json.loads(
        (
            await _put(
                jp_fetch,
                "grace",
                "cs101",
                exam_windows=[
                    {
                        "starts_at": _iso(-timedelta(hours=3)),
                        "ends_at": _iso(-timedelta(hours=2)),
                        "mode": "off",
                        "reason": "Quiz",
                    },
                    {
                        "starts_at": _iso(-timedelta(minutes=5)),
                        "ends_at": ends.isoformat(),
                        "mode": "off",
                        "reason": "Midterm",
                    },
                    {
                        "starts_at": _iso(timedelta(days=2)),
                        "ends_at": _iso(timedelta(days=2, hours=2)),
                        "mode": "hint",
                        "reason": "Final",
                    },
                ],
            )
        ).body
    )
    assert [w["reason"] for w in stored["exam_windows"]] == ["Quiz", "Midterm", "Final"]
    state = await _policy(jp_fetch, "bob")
    assert state["mode"] == "off"
    assert datetime.fromisoformat(state["until"]) == ends.replace(microsecond=ends.microsecond)
    assert state["reason"] == "Exam: Midterm (cs101)"
    assert state["next_window"]["reason"] == "Final" and state["next_window"]["mode"] == "hint"
    status, body = await _refusal(
        chat(jp_fetch, "bob", model="echo", messages=[{"role": "user", "content": "x"}])
    )
    assert status == 403 and body["until"] == state["until"] and "Midterm" in body["message"]
    # ada is also in cs102 (full): naming it does not escape cs101's exam.
    status, _ = await _refusal(
        chat(
            jp_fetch,
            "ada",
            course="cs102",
            model="echo",
            messages=[{"role": "user", "content": "x"}],
        )
    )
    assert status == 403
    assert (await _policy(jp_fetch, "ada", "cs102"))["mode"] == "off"
    # Removing the windows lifts it at once.
    await _put(jp_fetch, "grace", "cs101", exam_windows=[])
    assert (await _policy(jp_fetch, "bob"))["mode"] == "full"


async def test_hint_window_until(jp_fetch: Any, jp_serverapp: Any) -> None:
    """A hint-only window gives hint mode with its end time, for the banner."""
    await _setup(jp_serverapp)
    await _put(
        jp_fetch,
        "grace",
        "cs101",
        exam_windows=[
            {
                "starts_at": _iso(-timedelta(minutes=1)),
                "ends_at": _iso(timedelta(minutes=30)),
                "mode": "hint",
                "reason": "Lab test",
            }
        ],
    )
    state = await _policy(jp_fetch, "bob")
    assert (
        state["mode"] == "hint" and state["until"] and state["reason"] == "Exam: Lab test (cs101)"
    )
    response = await chat(
        jp_fetch, "bob", model="echo", messages=[{"role": "user", "content": "x"}]
    )
    assert response.headers["X-IDE-AI-Mode"] == "hint"


async def test_course_models_and_admin_lists(jp_fetch: Any, jp_serverapp: Any) -> None:
    """A course's model choice narrows what its students may call; blocked models are
    refused to everyone and never listed."""
    await _setup(jp_serverapp)
    await _put(jp_fetch, "grace", "cs101", models=["other"])
    listed = json.loads(
        (await jp_fetch("ide", "api", "ai", "v1", "models", headers=as_user("bob"))).body
    )
    assert [m["id"] for m in listed["data"]] == ["other"]
    status, body = await _refusal(
        chat(jp_fetch, "bob", model="echo", messages=[{"role": "user", "content": "x"}])
    )
    assert (
        status == 403
        and body["error"]["code"] == "model_not_allowed"
        and "other" in body["message"]
    )
    assert (
        await chat(jp_fetch, "bob", model="other", messages=[{"role": "user", "content": "x"}])
    ).code == 200
    status, body = await _refusal(
        chat(jp_fetch, "root", model="broken", messages=[{"role": "user", "content": "x"}])
    )
    assert status == 403 and body["error"]["code"] == "model_not_allowed"
    status, body = await _refusal(
        chat(jp_fetch, "root", model="failover", messages=[{"role": "user", "content": "x"}])
    )
    assert status == 403  # routed, but not on the allow list
    everyone = json.loads(
        (await jp_fetch("ide", "api", "ai", "v1", "models", headers=as_user("root"))).body
    )
    assert [m["id"] for m in everyone["data"]] == ["echo", "other", "slow"]


async def test_who_may_change_a_policy(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Students may not; another course's instructor may not; the admin may; bad bodies are
    400 and change nothing."""
    await _setup(jp_serverapp)
    status, body = await _refusal(_put(jp_fetch, "ada", "cs101", mode="off"))
    assert status == 403 and "student" in body["message"]
    status, body = await _refusal(_put(jp_fetch, "ivan", "cs101", mode="off"))
    assert status == 403 and body["error"]["code"] == "not_an_instructor"
    status, _ = await _refusal(
        jp_fetch("ide", "api", "ai", "policy", "cs101", headers=as_user("ivan"))
    )
    assert status == 403
    assert (await _put(jp_fetch, "root", "cs101", mode="hint")).code == 200
    status, _ = await _refusal(_put(jp_fetch, "root", "nosuch", mode="hint"))
    assert status == 404
    before = json.loads(
        (await jp_fetch("ide", "api", "ai", "policy", "cs101", headers=as_user("grace"))).body
    )
    assert before["mode"] == "hint" and before["updated_by"] == "root"
    hostile = [
        {"mode": "maybe"},
        {"models": "echo"},
        {"store_prompts": "yes"},
        {"colour": "red"},
        {
            "mode": "off",
            "exam_windows": [
                {"starts_at": "2030-01-01T10:00:00", "ends_at": "2030-01-01T12:00:00+00:00"}
            ],
        },
        {
            "mode": "off",
            "exam_windows": [
                {"starts_at": _iso(timedelta(hours=2)), "ends_at": _iso(timedelta(hours=1))}
            ],
        },
        {"mode": "off", "exam_windows": [{"starts_at": "soon", "ends_at": "later"}]},
        {
            "mode": "off",
            "exam_windows": [
                {
                    "starts_at": _iso(timedelta(0)),
                    "ends_at": _iso(timedelta(hours=1)),
                    "mode": "full",
                }
            ],
        },
    ]
    for body in hostile:
        status, reply = await _refusal(_put(jp_fetch, "grace", "cs101", **body))
        assert status == 400, body
        assert reply["message"]
    status, _ = await _refusal(
        jp_fetch(
            "ide",
            "api",
            "ai",
            "policy",
            "cs101",
            method="PUT",
            body="{oops",
            headers=as_user("grace"),
        )
    )
    assert status == 400
    after = json.loads(
        (await jp_fetch("ide", "api", "ai", "policy", "cs101", headers=as_user("grace"))).body
    )
    assert after == before


async def test_course_membership_and_keys(
    jp_fetch: Any, jp_serverapp: Any, upstream: Upstream
) -> None:
    """Naming a course one is not in is refused; a course that forbids institution keys
    needs the student's own key."""
    await _setup(jp_serverapp)
    status, body = await _refusal(
        chat(
            jp_fetch,
            "bob",
            course="cs102",
            model="echo",
            messages=[{"role": "user", "content": "x"}],
        )
    )
    assert status == 403 and body["error"]["code"] == "not_a_member"
    # ada is in two courses and names none: no one course, the strictest of both.
    state = await _policy(jp_fetch, "ada")
    assert state["course"] is None and state["strictest_of"] == ["cs101", "cs102"]
    await _put(jp_fetch, "grace", "cs101", institution_keys=False)
    status, body = await _refusal(
        chat(jp_fetch, "bob", model="echo", messages=[{"role": "user", "content": "x"}])
    )
    assert status == 403 and body["error"]["code"] == "no_key"
    await jp_fetch(
        "ide",
        "api",
        "ai",
        "keys",
        "openai",
        method="PUT",
        body=json.dumps({"api_key": "sk-bobs-own-key-0123456789"}),
        headers=as_user("bob"),
    )
    await chat(jp_fetch, "bob", model="echo", messages=[{"role": "user", "content": "x"}])
    assert upstream.seen[-1]["auth"] == "Bearer sk-bobs-own-key-0123456789"
    # Bob's key is his alone: ada, naming cs102 (which allows them), gets the institution's.
    await chat(
        jp_fetch, "ada", course="cs102", model="echo", messages=[{"role": "user", "content": "x"}]
    )
    assert upstream.seen[-1]["auth"] == "Bearer sk-institution-0000000000"
    # Naming no course, cs101's ban on institution keys binds her too.
    status, body = await _refusal(
        chat(jp_fetch, "ada", model="echo", messages=[{"role": "user", "content": "x"}])
    )
    assert status == 403 and body["error"]["code"] == "no_key"
