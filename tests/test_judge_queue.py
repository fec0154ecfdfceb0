"""The judge's queue: fair turns between users, a bounded length (503 + Retry-After), a
per-user share and a per-user rate limit, on one worker against the real Docker engine; each
test runs with the queue in the process and with the queue shared in Redis."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from .services import redis_url
from .test_ai_common import HubLikeIdentity
from .test_judge_common import call, docker_or_fail, judge_config, poll

SLEEPER = {"language_id": 71, "source_code": "import time; time.sleep(0.4); print('done')"}


@pytest.fixture(scope="module")
def judge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One judge folder for the module."""
    docker_or_fail()
    return tmp_path_factory.mktemp("judge-queue")


@pytest.fixture
def people() -> tuple[str, str]:
    """Two students with fresh names (the Redis counters outlive a test)."""
    first, second = (f"student-{uuid.uuid4().hex[:8]}" for _ in range(2))
    return first, second


@pytest.fixture(params=["memory", "redis"])
def queue_mode(request: pytest.FixtureRequest) -> str:
    """The queue in the process (no Redis), or shared in Redis."""
    return str(request.param)


@pytest.fixture
def per_user_cap() -> int:
    """Submissions one user may have waiting (0: only the queue's length)."""
    return 0


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any],
    judge_dir: Path,
    people: tuple[str, str],
    queue_mode: str,
    per_user_cap: int,
) -> dict[str, Any]:
    """One worker, a short queue, 15 submissions a minute; the cache and queue per mode."""
    config = judge_config(
        jp_server_config,
        judge_dir,
        workers=1,
        max_queue_size=6,
        submissions_per_minute=15,
        warm_languages="python",
        pool_size=2,
        retry_after=3,
        max_queued_per_user=per_user_cap,
    )
    url = redis_url() if queue_mode == "redis" else ""
    config["IDESettings"] = {**config["IDESettings"], "redis_url": url}
    HubLikeIdentity.USERS.update({name: "student" for name in people})
    return config


async def test_one_users_many_do_not_starve_anothers_one(
    jp_fetch: Any, people: tuple[str, str]
) -> None:
    """With one worker, a user's single submission runs before most of another's batch."""
    busy, other = people
    code, created, _ = await call(
        jp_fetch, "POST", "submissions", "batch", who=busy, body={"submissions": [SLEEPER] * 5}
    )
    assert code == 201
    code, single, _ = await call(jp_fetch, "POST", "submissions", who=other, body=SLEEPER)
    assert code == 201
    busy_done = [await poll(jp_fetch, item["token"], who=busy) for item in created]
    other_done = await poll(jp_fetch, single["token"], who=other)
    finished = sorted(d["finished_at"] for d in busy_done)
    # Round robin: the other user's one is at most third, never after the busy user's five.
    assert other_done["finished_at"] < finished[3], (other_done["finished_at"], finished)
    assert all(d["stdout"] == "done\n" for d in [*busy_done, other_done])


async def test_a_full_queue_answers_503_with_retry_after(
    jp_fetch: Any, people: tuple[str, str]
) -> None:
    """Past the queue's length, a submission is refused with 503 and Retry-After."""
    user, _ = people
    accepted: list[str] = []
    refused = None
    for _ in range(12):
        code, body, headers = await call(jp_fetch, "POST", "submissions", who=user, body=SLEEPER)
        if code == 503:
            refused = (body, headers)
            break
        assert code == 201, body
        accepted.append(body["token"])
    assert refused is not None, "the queue never filled"
    body, headers = refused
    assert body["error"] == "queue is full" and headers["Retry-After"] == "3"
    assert len(accepted) >= 6
    for token in accepted:  # everything accepted still runs
        assert (await poll(jp_fetch, token, who=user))["status"]["id"] == 3


async def test_rate_limit_per_user(jp_fetch: Any, people: tuple[str, str]) -> None:
    """More than the per-minute limit is 429 with Retry-After; another user is not affected."""
    user, other = people
    code, body, headers = await call(
        jp_fetch,
        "POST",
        "submissions",
        "batch",
        who=user,
        body={"submissions": [{"language_id": 71, "source_code": "pass"}] * 16},
    )
    assert code == 429 and "too many submissions" in body["error"]
    assert 1 <= int(headers["Retry-After"]) <= 60
    code, body, _ = await call(
        jp_fetch,
        "POST",
        "submissions",
        who=other,
        body={"language_id": 71, "source_code": "print('ok')"},
        wait=True,
    )
    assert code == 201 and body["stdout"] == "ok\n"
    await asyncio.sleep(0)


@pytest.mark.parametrize("per_user_cap", [3])
async def test_a_users_share_of_the_queue(
    jp_fetch: Any, jp_serverapp: Any, people: tuple[str, str], queue_mode: str
) -> None:
    """Past a user's share, their batch is refused whole (503, nothing kept); others get in."""
    user, other = people
    code, body, headers = await call(
        jp_fetch, "POST", "submissions", "batch", who=user, body={"submissions": [SLEEPER] * 4}
    )
    assert code == 503 and body["error"] == "queue is full", body
    assert headers["Retry-After"] == "3"
    code, listed, _ = await call(jp_fetch, "GET", "submissions", who=user)
    assert code == 200 and listed["meta"]["total_count"] == 0, listed  # no row left behind
    code, created, _ = await call(
        jp_fetch, "POST", "submissions", "batch", who=user, body={"submissions": [SLEEPER] * 3}
    )
    assert code == 201, created
    code, single, _ = await call(jp_fetch, "POST", "submissions", who=other, body=SLEEPER)
    assert code == 201, single
    for token, who in [*((c["token"], user) for c in created), (single["token"], other)]:
        done = await poll(jp_fetch, token, who=who)
        assert done["status"]["id"] == 3 and done["stdout"] == "done\n", done
    judge = jp_serverapp.web_app.settings["jupyter_ide_judge"]
    assert (judge.shared is not None) == (queue_mode == "redis")  # the mode really in use
