"""A student of several courses who names none gets the strictest of them all: mode, models,
institution keys, kept prompts, exam windows and every course's quotas (not the server's
default mode, institution keys and no course quota)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select
from tornado.httpclient import HTTPClientError

from jupyter_ide.ai_handlers.settings import HINT_PROMPT
from jupyter_ide.db import AIUsage

from .test_ai_common import HubLikeIdentity, Upstream, ai_config, as_user, chat, make_course
from .test_ai_common import upstream as upstream  # fixture

COURSE_REQUESTS_PER_MINUTE = 3
ASK = [{"role": "user", "content": "how do I reverse a list?"}]


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], upstream: Upstream) -> dict[str, Any]:
    """Hub-like users; each course may send three requests a minute."""
    HubLikeIdentity.USERS.update(
        {"ada": "student", "bob": "student", "grace": "instructor", "ivan": "instructor"}
    )
    return ai_config(
        jp_server_config, upstream, course_requests_per_minute=COURSE_REQUESTS_PER_MINUTE
    )


async def _put(jp_fetch: Any, user: str, course: str, **body: Any) -> None:
    """Set a course policy as its instructor."""
    await jp_fetch(
        "ide",
        "api",
        "ai",
        "policy",
        course,
        method="PUT",
        body=json.dumps(body),
        headers=as_user(user),
    )


async def _setup(app: Any, jp_fetch: Any) -> None:
    """cs101 (ada, bob; hint-only, echo or other) and cs102 (ada; full, other or slow, no
    institution keys, prompts kept)."""
    await make_course(app, "cs101", ["ada", "bob"], ["grace"])
    await make_course(app, "cs102", ["ada"], ["ivan"])
    await _put(jp_fetch, "grace", "cs101", mode="hint", models=["echo", "other"])
    await _put(
        jp_fetch,
        "ivan",
        "cs102",
        models=["other", "slow"],
        institution_keys=False,
        store_prompts=True,
    )


async def _refusal(call: Any) -> tuple[int, dict[str, Any]]:
    """Await a request that must fail; return its status and JSON body."""
    with pytest.raises(HTTPClientError) as e:
        await call
    return e.value.code, json.loads(e.value.response.body)


async def test_naming_no_course_applies_the_strictest_of_the_students_courses(
    jp_fetch: Any, jp_serverapp: Any, upstream: Upstream
) -> None:
    """Hint-only from cs101, only the model both allow, no institution key (cs102), the
    prompt kept (cs102); naming a course gives that course's own rules."""
    await _setup(jp_serverapp, jp_fetch)
    state = json.loads((await jp_fetch("ide", "api", "ai", "policy", headers=as_user("ada"))).body)
    assert (state["course"], state["mode"], state["models"]) == (None, "hint", ["other"])
    assert state["strictest_of"] == ["cs101", "cs102"] and "cs101" in state["reason"]
    assert state["store_prompts"] is True

    status, body = await _refusal(chat(jp_fetch, "ada", model="echo", messages=ASK))
    assert status == 403 and body["error"]["code"] == "model_not_allowed"
    assert "cs101, cs102" in body["message"]
    status, body = await _refusal(chat(jp_fetch, "ada", model="other", messages=ASK))
    assert status == 403 and body["error"]["code"] == "no_key"

    await jp_fetch(
        "ide",
        "api",
        "ai",
        "keys",
        "openai",
        method="PUT",
        body=json.dumps({"api_key": "sk-adas-own-key-0123456789"}),
        headers=as_user("ada"),
    )
    response = await chat(jp_fetch, "ada", model="other", messages=ASK)
    assert response.headers["X-IDE-AI-Mode"] == "hint"
    sent = upstream.seen[-1]
    assert sent["auth"] == "Bearer sk-adas-own-key-0123456789"
    assert sent["body"]["messages"][0] == {"role": "system", "content": HINT_PROMPT}
    await jp_serverapp.web_app.settings["jupyter_ide_ai"].ledger.flush()
    async with jp_serverapp.web_app.settings["jupyter_ide_db"].session() as session:
        (row,) = (await session.execute(select(AIUsage))).scalars()
    assert row.course is None and row.prompt is not None and "reverse a list" in row.prompt

    # Naming cs102: its own rules (full mode, its models), not cs101's.
    named = await chat(jp_fetch, "ada", course="cs102", model="slow", messages=ASK)
    assert named.headers["X-IDE-AI-Mode"] == "full"
    assert upstream.seen[-1]["body"]["messages"] == ASK


async def test_naming_no_course_counts_against_every_course_quota(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """cs101's requests per minute are used up by bob: ada, naming no course, is held to
    them too; naming cs102 she is not. Her own usage shows both courses' limits."""
    await make_course(jp_serverapp, "cs101", ["ada", "bob"], ["grace"])
    await make_course(jp_serverapp, "cs102", ["ada"], ["ivan"])
    for _ in range(COURSE_REQUESTS_PER_MINUTE):
        await chat(jp_fetch, "bob", model="echo", messages=ASK)
    status, body = await _refusal(chat(jp_fetch, "ada", model="echo", messages=ASK))
    assert status == 429 and body["error"]["code"] == "course_requests_per_minute"
    assert "cs101" in body["message"]
    assert (await chat(jp_fetch, "ada", course="cs102", model="echo", messages=ASK)).code == 200
    usage = json.loads((await jp_fetch("ide", "api", "ai", "usage", headers=as_user("ada"))).body)
    courses = {q["course"] for q in usage["quota"]["limits"] if q["scope"] == "course"}
    assert courses == {"cs101", "cs102"}


async def test_an_exam_window_of_any_course_still_applies(jp_fetch: Any, jp_serverapp: Any) -> None:
    """An exam in cs102 (off) binds ada whether she names no course or cs101."""
    await _setup(jp_serverapp, jp_fetch)
    now = datetime.now(timezone.utc)
    window = {
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
        "mode": "off",
        "reason": "Midterm",
    }
    await _put(jp_fetch, "ivan", "cs102", exam_windows=[window])
    for course in (None, "cs101"):
        status, body = await _refusal(
            chat(jp_fetch, "ada", course=course, model="other", messages=ASK)
        )
        assert status == 403 and body["error"]["code"] == "ai_off", course
