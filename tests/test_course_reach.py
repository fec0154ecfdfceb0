"""Instructors reach only their own courses: they cannot enrol people, and a student shared
with another course keeps that course's submissions, usage and kept prompts out of their
sight; admins still see everything; hub groups still enrol."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_ide.auth import Role

from .test_ai_common import HubLikeIdentity, Upstream, ai_config, as_user, chat, make_course
from .test_ai_common import upstream as upstream  # fixture
from .test_judge_common import call, docker_or_fail, judge_config

USERS = {
    "sam": "student",
    "newbie": "student",
    "alan": "instructor",  # teaches cs101
    "bea": "instructor",  # teaches cs102
    "root": "admin",
}


@pytest.fixture(scope="module")
def judge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One judge folder for the module."""
    docker_or_fail()
    return tmp_path_factory.mktemp("judge-reach")


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], upstream: Upstream, judge_dir: Path
) -> dict[str, Any]:
    """The judge and the AI proxy, with hub-like users."""
    config = ai_config(judge_config(jp_server_config, judge_dir), upstream)
    HubLikeIdentity.USERS.update(USERS)
    return config


async def _two_courses(app: Any) -> None:
    """cs101 (alan teaches) and cs102 (bea teaches); sam studies in both."""
    await make_course(app, "cs101", ["sam"], ["alan"])
    await make_course(app, "cs102", ["sam"], ["bea"])


async def _status(call: Any) -> int:
    """The HTTP status of a request (errors included)."""
    try:
        return int((await call).code)
    except HTTPClientError as e:
        return int(e.code)


async def _get(jp_fetch: Any, who: str, *path: str, **params: str) -> Any:
    """GET an /ide/api path as ``who`` and parse its JSON."""
    response = await jp_fetch("ide", "api", *path, params=params, headers=as_user(who))
    return json.loads(response.body)


async def test_an_instructor_cannot_enrol_anyone_over_http(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """Instructor of cs101 enrols a stranger, or another course's student: 403, and the
    stranger's course list stays empty; the admin enrols people who signed in (404 else)."""
    await _two_courses(jp_serverapp)
    users = jp_serverapp.web_app.settings["jupyter_ide_users"]
    await users.saw("newbie", Role.STUDENT)

    def enrol(who: str, member: str) -> Any:
        return jp_fetch(
            "ide",
            "api",
            "courses",
            "cs101",
            "members",
            member,
            method="PUT",
            body=json.dumps({"role": "student"}),
            headers=as_user(who),
        )

    assert await _status(enrol("alan", "stranger")) == 403
    assert await _status(enrol("alan", "newbie")) == 403
    assert (await _get(jp_fetch, "newbie", "courses"))["courses"] == []
    assert await _status(enrol("root", "stranger")) == 404
    assert await _status(enrol("root", "newbie")) == 200
    mine = (await _get(jp_fetch, "newbie", "courses"))["courses"]
    assert [(c["name"], c["my_role"]) for c in mine] == [("cs101", "student")]


async def test_an_instructor_sees_only_their_courses_submissions(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """sam submits in cs101 and in cs102 (X-IDE-Course): alan lists only the cs101 one, bea
    only the cs102 one, the admin both; naming a course one is not in is refused."""
    await _two_courses(jp_serverapp)

    async def submit(course: str, who: str = "sam") -> tuple[int, Any]:
        headers = {**as_user(who), "X-IDE-Course": course}
        try:
            response = await jp_fetch(
                "ide",
                "api",
                "judge",
                "submissions",
                method="POST",
                body=json.dumps({"language_id": 71, "source_code": f"print('{course}')"}),
                params={"wait": "true"},
                headers=headers,
            )
        except HTTPClientError as e:
            return e.code, None
        return response.code, json.loads(response.body)["token"]

    (code_101, in_101), (code_102, in_102) = await submit("cs101"), await submit("cs102")
    assert code_101 == code_102 == 201

    async def listed(who: str, user: str) -> set[str]:
        code, body, _ = await call(jp_fetch, "GET", "submissions", who=who, user=user)
        assert code == 200, body
        return {s["token"] for s in body["submissions"]}

    assert await listed("alan", "sam") == await listed("alan", "*") == {in_101}
    assert await listed("bea", "sam") == {in_102}
    assert await listed("root", "sam") == {in_101, in_102}
    assert await listed("sam", "sam") == {in_101, in_102}
    assert (await submit("cs102", who="alan"))[0] == 403


async def test_an_instructor_reads_only_their_courses_usage_and_prompts(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """Both courses keep prompts; sam asks in each. alan reads sam's cs101 usage and prompts
    only; cs102's, or sam's without a course, are refused; the admin reads both."""
    await _two_courses(jp_serverapp)
    for course, instructor in (("cs101", "alan"), ("cs102", "bea")):
        await jp_fetch(
            "ide",
            "api",
            "ai",
            "policy",
            course,
            method="PUT",
            body=json.dumps({"store_prompts": True}),
            headers=as_user(instructor),
        )
        await chat(
            jp_fetch,
            "sam",
            course=course,
            model="echo",
            messages=[{"role": "user", "content": f"my {course} homework"}],
        )

    usage = await _get(jp_fetch, "alan", "ai", "usage", user="sam", course="cs101")
    assert usage["totals"]["requests"] == 1
    prompts = await _get(jp_fetch, "alan", "ai", "transcripts", user="sam", course="cs101")
    assert [(t["course"], "cs101 homework" in t["prompt"]) for t in prompts["transcripts"]] == [
        ("cs101", True)
    ]
    whole = await _get(jp_fetch, "alan", "ai", "transcripts", course="cs101", scope="course")
    assert [t["course"] for t in whole["transcripts"]] == ["cs101"]
    for path in ("usage", "transcripts"):
        for params in ({"user": "sam", "course": "cs102"}, {"user": "sam"}):
            with pytest.raises(HTTPClientError) as refused:
                await _get(jp_fetch, "alan", "ai", path, **params)
            assert refused.value.code == 403, (path, params)
    everything = await _get(jp_fetch, "root", "ai", "transcripts", user="sam")
    assert sorted(t["course"] for t in everything["transcripts"]) == ["cs101", "cs102"]
    own = await _get(jp_fetch, "sam", "ai", "transcripts")
    assert len(own["transcripts"]) == 2
