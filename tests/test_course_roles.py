"""Course-scoped instructors: a TA who teaches one course (course membership, hub-wide a
student) manages that course's help queue, assignments, live view and AI policy, and no other
course's (nor the judge submissions of another course's students); students are refused
everywhere; hub-wide admins still manage every course."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .test_ai_common import HubLikeIdentity, call_as, make_course

USERS = {
    "tess": "student",  # hub-wide a student; instructor of course ca only (a TA)
    "ann": "student",  # student of ca
    "bob": "student",  # student of cb
    "root": "admin",
}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Hub-like users, signed in by their test tokens."""
    HubLikeIdentity.USERS.update(USERS)
    return {
        **jp_server_config,
        "ServerApp": {**jp_server_config["ServerApp"], "identity_provider_class": HubLikeIdentity},
    }


async def _raise_hand(fetch: Any, who: str, course: str) -> str:
    """Raise ``who``'s hand in ``course``; return the request's id."""
    code, body, _ = await call_as(
        fetch, who, "POST", "ide", "api", "courses", course, "help", body={"message": "stuck"}
    )
    assert code == 201, body
    return str(json.loads(body)["id"])


# (method, path under /ide/api, body) of a course-managing call per area; {c} is the course.
MANAGING = [
    ("GET", "courses/{c}/assignments/gradebook", None),  # assignments:manage
    ("GET", "classroom/{c}/live/members", None),  # teaching:manage (live view)
    ("PUT", "classroom/{c}/live/options", {"pair_editing": False}),  # teaching:manage
    ("GET", "ai/policy/{c}", None),  # ai:policy:manage
]


async def _call(fetch: Any, who: str, method: str, path: str, course: str, body: Any) -> int:
    """Return the status of ``method path`` on ``course`` as ``who``."""
    parts = path.format(c=course).split("/")
    code, _, _ = await call_as(fetch, who, method, "ide", "api", *parts, body=body)
    return code


async def test_course_instructor_manages_own_course_only(jp_serverapp: Any, jp_fetch: Any) -> None:
    """A TA manages course A (help queue, gradebook, live view, AI policy), is refused on B;
    a student is refused on both; an admin manages both."""
    await make_course(jp_serverapp, "ca", ["ann"], ["tess"])
    await make_course(jp_serverapp, "cb", ["bob"])
    ann_req = await _raise_hand(jp_fetch, "ann", "ca")
    bob_req = await _raise_hand(jp_fetch, "bob", "cb")

    def resolve(who: str, course: str, req: str) -> Any:
        return call_as(
            jp_fetch, who, "POST", "ide", "api", "courses", course, "help", req, "resolve", body={}
        )

    # A student may not resolve, not even her own request; nothing changes.
    code, body, _ = await resolve("ann", "ca", ann_req)
    assert code == 403, body
    # The TA resolves in her course, and not in another one (the request stays open).
    code, body, _ = await resolve("tess", "cb", bob_req)
    assert code == 403 and b"cb" in body, body
    code, body, _ = await resolve("tess", "ca", ann_req)
    assert code == 200 and json.loads(body)["closed_by"] == "tess", body
    code, body, _ = await call_as(jp_fetch, "bob", "GET", "ide", "api", "courses", "cb", "help")
    assert json.loads(body)["open"]["id"] == int(bob_req)
    # The admin still manages any course.
    code, body, _ = await resolve("root", "cb", bob_req)
    assert code == 200, body

    for method, path, payload in MANAGING:
        assert await _call(jp_fetch, "tess", method, path, "ca", payload) == 200, path
        assert await _call(jp_fetch, "tess", method, path, "cb", payload) == 403, path
        for course in ("ca", "cb"):
            assert await _call(jp_fetch, "ann", method, path, course, payload) == 403, path
            assert await _call(jp_fetch, "root", method, path, course, payload) == 200, path


async def test_course_instructor_lists_her_students_judge_submissions_only(
    jp_serverapp: Any, jp_fetch: Any
) -> None:
    """The judge's list of others' submissions: a TA may ask for her course's members (and
    "*", her courses'), not for a student of another course; a student for nobody else."""
    await make_course(jp_serverapp, "ca", ["ann"], ["tess"])
    await make_course(jp_serverapp, "cb", ["bob"])

    async def listing(who: str, user: str) -> int:
        code, _, _ = await call_as(
            jp_fetch, who, "GET", "ide", "api", "judge", "submissions", params={"user": user}
        )
        return code

    assert await listing("tess", "ann") == 200
    assert await listing("tess", "*") == 200
    assert await listing("tess", "bob") == 403
    assert await listing("ann", "*") == 403
    assert await listing("ann", "bob") == 403
    assert await listing("root", "bob") == 200


async def test_teaching_no_course_is_refused_by_the_permission_check(jp_fetch: Any) -> None:
    """Someone who teaches no course gets the role's 403 before any course is looked at."""
    code, body, _ = await call_as(
        jp_fetch, "ann", "GET", "ide", "api", "classroom", "nowhere", "live", "members"
    )
    assert code == 403 and b"teaching:manage" in body, body
