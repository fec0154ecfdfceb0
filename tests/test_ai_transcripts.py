"""AI transcripts (issue #16): conversations sent through the proxy in a course, read and
exported by its instructors, each student's own by them, purged after the retention.

Requests go through the real `openai` SDK to our endpoint and on to the local fake upstream;
the database is PostgreSQL.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import openai
import pytest
from sqlalchemy import select
from tornado.httpclient import AsyncHTTPClient

from jupyter_ide.auth import Role
from jupyter_ide.classroom.teaching_setup import TEACHING, TeachingSettings
from jupyter_ide.db import Course, User
from jupyter_ide.db.teaching_models import AITranscript

from .test_ai_common import HubLikeIdentity, Upstream, ai_config, as_user, make_course
from .test_ai_common import sdk_as as sdk_as  # fixture
from .test_ai_common import upstream as upstream  # fixture

USERS = {
    "ida": "instructor",  # teaches c1
    "ola": "instructor",  # teaches c2
    "ann": "student",  # in c1 and c2
    "bob": "student",  # in c1
    "dan": "student",  # in no course
}


@pytest.fixture
def ide_db_url(pg_database_url: str) -> str:
    """Transcripts live in PostgreSQL, as in a deployment."""
    return pg_database_url


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], upstream: Upstream) -> dict[str, Any]:
    """AI routed to the local fake; the server purges transcripts every 0.3 s."""
    HubLikeIdentity.USERS.update(USERS)
    config = ai_config(jp_server_config, upstream)
    config["TeachingSettings"] = {"transcript_purge_seconds": 0.3}
    return config


@pytest.fixture
def http(http_server: Any, jp_http_port: int, jp_base_url: str) -> Iterator[Callable[..., Any]]:
    """GET /ide/api/courses/<course>/ai-transcripts as someone: (status, headers, text)."""
    client = AsyncHTTPClient(force_instance=True)

    async def get(who: str | None, course: str, **params: str) -> tuple[int, Any, str]:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}ide/api/courses/{course}/ai-transcripts"
        response = await client.fetch(
            f"{url}?{query}" if query else url,
            headers=as_user(who) if who else {},
            raise_error=False,
        )
        return response.code, response.headers, (response.body or b"").decode()

    yield get
    client.close()


async def setup_courses(app: Any) -> None:
    """c1: ida teaches ann and bob; c2: ola teaches ann."""
    await make_course(app, "c1", ["ann", "bob"], ["ida"])
    await make_course(app, "c2", ["ann"], ["ola"])


async def ask(client: openai.AsyncOpenAI, question: str, stream: bool = False) -> str:
    """Ask through the SDK; return the answer's text as the SDK read it."""
    messages: list[Any] = [
        {"role": "system", "content": "You are a tutor."},
        {"role": "user", "content": question},
    ]
    if not stream:
        result = await client.chat.completions.create(model="echo", messages=messages)
        return result.choices[0].message.content or ""
    pieces: list[str] = []
    async for chunk in await client.chat.completions.create(
        model="echo", messages=messages, stream=True
    ):
        pieces.extend(c.delta.content or "" for c in chunk.choices)
    return "".join(pieces)


def question_of(item: dict[str, Any]) -> str:
    """The last user message of a transcript."""
    return str([m for m in item["messages"] if m["role"] == "user"][-1]["content"])


async def test_the_export_holds_exactly_the_course_conversations(
    jp_serverapp: Any, sdk_as: Callable[..., openai.AsyncOpenAI], http: Any
) -> None:
    """c1's export (JSON, JSONL and CSV) holds c1's conversations, whole and streamed, and
    nothing from c2, from no course, or from a user in no course."""
    await setup_courses(jp_serverapp)
    sent: dict[str, tuple[str, str, bool]] = {}  # question -> (student, answer, streamed)
    for who, course, question, stream in [
        ("ann", "c1", "alpha: why is my loop infinite?", False),
        ("ann", "c1", "beta: what does IndexError mean?", True),
        ("bob", "c1", "gamma: how do I read a file?", False),
        ("ann", "c2", "delta: a c2 question", False),
        ("ann", None, "epsilon: no course named", False),
        ("dan", None, "zeta: a user in no course", True),
    ]:
        answer = await ask(sdk_as(who, course), question, stream)
        assert answer  # the fake upstream echoes
        sent[question] = (who, answer, stream)
    in_c1 = {q: v for q, v in sent.items() if q[:5] in ("alpha", "beta:", "gamma")}

    code, headers, text = await http("ida", "c1", format="jsonl")
    assert code == 200 and "attachment" in headers["Content-Disposition"]
    lines = [json.loads(line) for line in text.splitlines()]
    assert {question_of(i): (i["student"], i["answer"], i["streamed"]) for i in lines} == in_c1
    assert len(lines) == 3
    assert all(i["course"] == "c1" and i["model"] == "echo" for i in lines)
    assert lines[0]["messages"][0] == {"role": "system", "content": "You are a tutor."}

    code, _, text = await http("ida", "c1", format="csv")
    assert code == 200
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {
        question_of({"messages": json.loads(r["messages"])}): (
            r["student"],
            r["answer"],
            r["streamed"] == "yes",
        )
        for r in rows
    } == in_c1
    assert len(rows) == 3

    code, _, text = await http("ida", "c1")
    found = json.loads(text)
    assert code == 200 and found["retention_days"] == 180
    assert [question_of(i) for i in found["transcripts"]] == list(in_c1)  # oldest first
    code, _, text = await http("ida", "c1", student="ann")
    assert {question_of(i) for i in json.loads(text)["transcripts"]} == {
        q for q, v in in_c1.items() if v[0] == "ann"
    }

    code, _, text = await http("ola", "c2", format="jsonl")
    assert code == 200
    assert [question_of(json.loads(line)) for line in text.splitlines()] == ["delta: a c2 question"]


async def test_a_student_reads_only_their_own(
    jp_serverapp: Any, sdk_as: Callable[..., openai.AsyncOpenAI], http: Any
) -> None:
    """A student reads their own; another student's, another course's instructor and
    anonymous callers are refused; bad requests answer 4xx."""
    await setup_courses(jp_serverapp)
    await ask(sdk_as("ann", "c1"), "ann's question")
    await ask(sdk_as("bob", "c1"), "bob's question", stream=True)

    code, _, text = await http("ann", "c1")
    assert code == 200
    mine = json.loads(text)
    assert mine["student"] == "ann"
    assert [(i["student"], question_of(i)) for i in mine["transcripts"]] == [
        ("ann", "ann's question")
    ]
    assert "bob" not in text
    code, _, text = await http("ann", "c1", format="csv")
    assert code == 200 and "ann's question" in text and "bob" not in text
    code, _, text = await http("bob", "c1", student="bob")
    assert code == 200 and [question_of(i) for i in json.loads(text)["transcripts"]] == [
        "bob's question"
    ]

    code, _, text = await http("ann", "c1", student="bob")
    assert code == 403 and "own" in json.loads(text)["message"]
    assert (await http("ola", "c1"))[0] == 403  # teaches c2, not c1
    assert (await http("ola", "c1", student="ann"))[0] == 403
    assert (await http("dan", "c1"))[0] == 403
    assert (await http(None, "c1"))[0] in (401, 403)
    assert (await http("ida", "c1", format="xml"))[0] == 400
    assert (await http("ida", "c1", limit="0"))[0] == 400
    assert (await http("ida", "c1", limit="-1"))[0] == 400
    assert (await http("ida", "c1", limit="%C2%B2"))[0] == 400  # a digit, not an ASCII one
    assert (await http("ida", "c1", student="a%2Fb"))[0] == 400
    assert (await http("ida", "nope"))[0] == 404
    # c2 holds nothing of ann's c1 conversation.
    code, _, text = await http("ann", "c2")
    assert code == 200 and json.loads(text)["transcripts"] == []


async def test_secrets_are_redacted_and_hint_mode_keeps_what_the_student_sent(
    jp_serverapp: Any, sdk_as: Callable[..., openai.AsyncOpenAI], http: Any
) -> None:
    """A key pasted into a question is masked; in hint-only mode the transcript holds the
    student's own messages, not the rewritten ones sent upstream."""
    await setup_courses(jp_serverapp)
    key = "sk-proj-" + "Z" * 40
    await ask(sdk_as("bob", "c1"), f"my key is {key}, why does it fail?")
    proxy = jp_serverapp.web_app.settings["jupyter_ide_ai"]
    await proxy.policies.put("c2", {"mode": "hint"}, "ola", Role.INSTRUCTOR)
    await ask(sdk_as("ann", "c2"), "just give me the solution")
    _, _, text = await http("ida", "c1", format="jsonl")
    assert key not in text and "[REDACTED]" in text
    _, _, text = await http("ola", "c2")
    (item,) = json.loads(text)["transcripts"]
    assert item["messages"] == [
        {"role": "system", "content": "You are a tutor."},
        {"role": "user", "content": "just give me the solution"},
    ]


async def test_purge_after_retention(
    jp_serverapp: Any, sdk_as: Callable[..., openai.AsyncOpenAI], http: Any
) -> None:
    """Rows older than 180 days go, by the server's own periodic purge and when called;
    younger ones stay."""
    await setup_courses(jp_serverapp)
    await ask(sdk_as("ann", "c1"), "a fresh question")
    teaching = jp_serverapp.web_app.settings[TEACHING]
    db = jp_serverapp.web_app.settings["jupyter_ide_db"]
    now = datetime.now(timezone.utc)
    async with db.session() as session:
        course_id = (
            await session.execute(select(Course.id).where(Course.name == "c1"))
        ).scalar_one()
        user_id = (await session.execute(select(User.id).where(User.name == "bob"))).scalar_one()
        for days, label in ((400, "ancient"), (181, "old"), (179, "kept")):
            session.add(
                AITranscript(
                    course_id=course_id,
                    user_id=user_id,
                    model="echo",
                    messages=[{"role": "user", "content": label}],
                    answer=label,
                    created_at=now - timedelta(days=days),
                )
            )

    async def questions() -> list[str]:
        _, _, text = await http("ida", "c1")
        return sorted(question_of(i) for i in json.loads(text)["transcripts"])

    for _ in range(100):  # the server purges every 0.3 s here
        if await questions() == ["a fresh question", "kept"]:
            break
        await asyncio.sleep(0.1)
    assert await questions() == ["a fresh question", "kept"]
    # Called directly, with a clock 2 days on: the 179-day row is past 180 days then.
    assert await teaching.transcripts.purge(now + timedelta(days=2)) == 1
    assert await questions() == ["a fresh question"]


def test_retention_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """180 days by default; from the environment or config; refused when not above 0."""
    monkeypatch.delenv("JUPYTER_IDE_TRANSCRIPT_RETENTION_DAYS", raising=False)
    assert TeachingSettings().transcript_retention_days == 180
    monkeypatch.setenv("JUPYTER_IDE_TRANSCRIPT_RETENTION_DAYS", "30")
    assert TeachingSettings().transcript_retention_days == 30
    with pytest.raises(Exception, match="above 0"):
        TeachingSettings(transcript_retention_days=0)
    # The environment's value is checked too (traitlets do not validate a default).
    monkeypatch.setenv("JUPYTER_IDE_TRANSCRIPT_RETENTION_DAYS", "0")
    with pytest.raises(Exception, match="above 0"):
        _ = TeachingSettings().transcript_retention_days
