"""The usage ledger over HTTP (own, a course's, nobody else's), CSV export, prompts kept
only when the course says so and with secrets redacted, and the response cache."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from sqlalchemy import select
from tornado.httpclient import HTTPClientError

from jupyter_ide.db import AIUsage

from .test_ai_common import HubLikeIdentity, Upstream, ai_config, as_user, chat, make_course
from .test_ai_common import upstream as upstream  # fixture


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], upstream: Upstream) -> dict[str, Any]:
    """Hub-like users; a price for "echo" so costs show."""
    HubLikeIdentity.USERS.update(
        {
            "ada": "student",
            "bob": "student",
            "eve": "student",
            "grace": "instructor",
            "root": "admin",
        }
    )
    return ai_config(jp_server_config, upstream, prices={"echo": [1000.0, 2000.0]})


def _ask(text: str, **extra: Any) -> dict[str, Any]:
    """A one-message request to "echo"."""
    return {"model": "echo", "messages": [{"role": "user", "content": text}], **extra}


async def _usage(jp_fetch: Any, caller: str, **params: str) -> Any:
    """GET /ide/api/ai/usage as ``caller``."""
    response = await jp_fetch("ide", "api", "ai", "usage", params=params, headers=as_user(caller))
    return response if params.get("format") == "csv" else json.loads(response.body)


async def _rows(app: Any) -> list[AIUsage]:
    """Every ledger row."""
    await app.web_app.settings["jupyter_ide_ai"].ledger.flush()
    async with app.web_app.settings["jupyter_ide_db"].session() as s:
        return list((await s.execute(select(AIUsage).order_by(AIUsage.id))).scalars())


async def test_usage_is_private_and_courses_are_for_their_instructors(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """Each student sees their own usage; the course's instructor and admins see everyone's
    in the course; a student never sees another's."""
    await make_course(jp_serverapp, "cs101", ["ada", "bob"], ["grace"])
    await chat(jp_fetch, "ada", **_ask("one"))
    await chat(jp_fetch, "ada", **_ask("two"))
    await chat(jp_fetch, "bob", **_ask("three"))
    await chat(jp_fetch, "eve", **_ask("outside any course"))

    ada = await _usage(jp_fetch, "ada")
    assert ada["user"] == "ada" and ada["totals"]["requests"] == 2
    assert [d["user"] for d in ada["days"]] == ["ada"]
    day = ada["days"][0]
    assert day["total_tokens"] == day["prompt_tokens"] + day["completion_tokens"] > 0
    expected_cost = (day["prompt_tokens"] * 1000 + day["completion_tokens"] * 2000) / 1e6
    assert float(day["cost"]) == pytest.approx(expected_cost)
    assert {q["name"] for q in ada["quota"]["limits"]} >= {"user_tokens_per_day"}
    assert ada["quota"]["warning"] is None

    course = await _usage(jp_fetch, "grace", course="cs101", scope="course")
    assert course["user"] is None
    assert {(d["user"], d["requests"]) for d in course["days"]} == {("ada", 2), ("bob", 1)}
    assert "quota" not in course
    bob = await _usage(jp_fetch, "grace", course="cs101", user="bob")
    assert bob["totals"]["requests"] == 1
    everyone = await _usage(jp_fetch, "root", course="cs101", scope="course")
    assert everyone["totals"]["requests"] == 3
    assert (await _usage(jp_fetch, "root", user="eve"))["totals"]["requests"] == 1

    for user, params in [
        ("ada", {"user": "bob"}),
        ("ada", {"course": "cs101", "scope": "course"}),
        ("ada", {"course": "cs101", "user": "bob"}),
        ("grace", {"user": "eve"}),  # eve is in none of grace's courses
        ("eve", {"course": "cs101", "scope": "course"}),
    ]:
        with pytest.raises(HTTPClientError) as e:
            await _usage(jp_fetch, user, **params)
        assert e.value.code == 403, (user, params)
    for params in [
        {"from": "yesterday"},
        {"from": "2030-01-02", "to": "2030-01-01"},
        {"format": "xml"},
        {"scope": "course"},
    ]:
        with pytest.raises(HTTPClientError) as e:
            await _usage(jp_fetch, "ada", **params)
        assert e.value.code == 400, params


async def test_csv_export(jp_fetch: Any, jp_serverapp: Any) -> None:
    """?format=csv gives one row per day, user, course, provider and model."""
    await make_course(jp_serverapp, "cs101", ["ada", "bob"], ["grace"])
    await chat(jp_fetch, "ada", **_ask("a"))
    await chat(jp_fetch, "bob", **_ask("b"))
    await chat(jp_fetch, "bob", **_ask("c"))
    response = await _usage(jp_fetch, "grace", course="cs101", scope="course", format="csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert [(r["user"], r["course"], r["provider"], r["model"], r["requests"]) for r in rows] == [
        ("ada", "cs101", "openai", "echo", "1"),
        ("bob", "cs101", "openai", "echo", "2"),
    ]
    own = await _usage(jp_fetch, "ada", format="csv")
    assert [r["user"] for r in csv.DictReader(io.StringIO(own.body.decode()))] == ["ada"]


async def test_prompts_kept_only_when_the_course_says_so(jp_fetch: Any, jp_serverapp: Any) -> None:
    """No prompt is stored by default; with store_prompts, prompts are stored redacted."""
    await make_course(jp_serverapp, "cs101", ["ada"], ["grace"])
    secret_prompt = (
        "my key is sk-live-abcdefghijklmnopqrstuvwx and password = hunter2hunter2, "
        "db at postgres://me:pa55word@db/x; why does my loop fail?"
    )
    await chat(jp_fetch, "ada", **_ask(secret_prompt))
    await jp_fetch(
        "ide",
        "api",
        "ai",
        "policy",
        "cs101",
        method="PUT",
        body=json.dumps({"store_prompts": True}),
        headers=as_user("grace"),
    )
    await chat(jp_fetch, "ada", **_ask(secret_prompt))
    first, second = await _rows(jp_serverapp)
    assert first.prompt is None
    assert second.prompt is not None and "why does my loop fail?" in second.prompt
    for secret in ("sk-live-abcdefghijklmnopqrstuvwx", "hunter2hunter2", "pa55word"):
        assert secret not in second.prompt
    assert second.prompt.count("[REDACTED]") == 3


async def test_response_cache(jp_fetch: Any, jp_serverapp: Any, upstream: Upstream) -> None:
    """Identical single-shot temperature-0 requests are answered from the cache (marked in the
    ledger and the X-IDE-Cache header), per course; other requests always go upstream."""
    await make_course(jp_serverapp, "cs101", ["ada", "bob"])
    await make_course(jp_serverapp, "cs102", ["eve"])
    first = await chat(jp_fetch, "ada", **_ask("what is a list?", temperature=0))
    sent = len(upstream.seen)
    again = await chat(jp_fetch, "bob", **_ask("what is a list?", temperature=0))
    assert (first.headers["X-IDE-Cache"], again.headers["X-IDE-Cache"]) == ("miss", "hit")
    assert len(upstream.seen) == sent  # answered without the upstream
    assert json.loads(again.body)["choices"][0]["message"]["content"] == "echo: what is a list?"
    streamed = await chat(jp_fetch, "bob", **_ask("what is a list?", temperature=0, stream=True))
    assert streamed.headers["X-IDE-Cache"] == "hit" and len(upstream.seen) == sent
    assert b"echo: what is a list?" in streamed.body and streamed.body.endswith(b"data: [DONE]\n\n")
    # Another course: its own cache.
    other = await chat(jp_fetch, "eve", **_ask("what is a list?", temperature=0))
    assert other.headers["X-IDE-Cache"] == "miss" and len(upstream.seen) == sent + 1
    # Not cached: a temperature above 0, none given, other parameters, a multi-turn chat.
    uncached = [
        _ask("what is a list?", temperature=0.7),
        _ask("what is a list?"),
        _ask("what is a list?", temperature=0, max_tokens=7),
        {
            "model": "echo",
            "temperature": 0,
            "messages": [
                {"role": "user", "content": "what is a list?"},
                {"role": "assistant", "content": "a sequence"},
                {"role": "user", "content": "what is a list?"},
            ],
        },
    ]
    for body in uncached:
        before = len(upstream.seen)
        response = await chat(jp_fetch, "ada", **body)
        assert len(upstream.seen) == before + 1
        assert response.headers.get("X-IDE-Cache") != "hit"
    rows = await _rows(jp_serverapp)
    assert [r.cache_hit for r in rows].count(True) == 2
    hit = next(r for r in rows if r.cache_hit)
    assert (hit.provider, hit.course, float(hit.cost)) == ("cache", "cs101", 0.0)
    assert (await _usage(jp_fetch, "bob"))["totals"]["cache_hits"] == 2
