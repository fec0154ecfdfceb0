"""The judge scaled out (issue #20): servers and judge workers share one queue in Redis.

Real PostgreSQL, Redis and Docker. Servers start as tests/launch.py starts them (`jupyter
server`, which lets the test name its students), workers as
`jupyter ide judge-worker` processes (tests/judge_workers.py), each with its own data dir as on
another node. A trigger the test adds to its own database logs every update that writes a
verdict, so "exactly one verdict" is counted in the database, not taken on trust.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import psycopg
import pytest
import redis

from jupyter_ide.db import Database, ensure_schema
from jupyter_ide.kernels.judge.judging import Outcome
from jupyter_ide.kernels.judge.replay import request_of
from jupyter_ide.kernels.judge.request import parse_submission
from jupyter_ide.kernels.judge.settings import JudgeSettings
from jupyter_ide.kernels.judge.shared_queue import GROUP, queue_name
from jupyter_ide.kernels.judge.statuses import Status
from jupyter_ide.kernels.judge.store import SubmissionStore
from jupyter_ide.kernels.judge.submission import Submission

from .judge_identity import ENV as STUDENTS_ENV
from .judge_workers import Worker, judge_worker
from .launch import REPO, Launched, launch
from .services import _libpq, redis_url
from .test_ai_common import as_user
from .test_judge_common import docker_or_fail

STUDENTS = 20
PER_STUDENT = 10
CLAIM_IDLE = 4.0  # seconds before another worker takes a dead one's submission over
IDENTITY = "--ServerApp.identity_provider_class=tests.judge_identity.StudentsIdentity"
SQUARE = "import sys\nn = int(sys.stdin.read())\nprint(n * n + 7)\n"
SLOW = "import time\ntime.sleep(5)\nprint('slow and sure')\n"
PREFIX = "jupyter-ide:"
VERDICT_LOG = """
CREATE TABLE verdict_log (token varchar(36) NOT NULL, status_id integer NOT NULL);
CREATE FUNCTION log_verdict() RETURNS trigger AS $$
BEGIN
  INSERT INTO verdict_log (token, status_id) VALUES (NEW.token, NEW.status_id);
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER verdicts AFTER UPDATE ON submissions
  FOR EACH ROW WHEN (NEW.status_id >= 3) EXECUTE FUNCTION log_verdict();
"""


@dataclass
class Cluster:
    """The database, the queue's Redis keys and the environment every process shares."""

    db_url: str
    env: dict[str, str]
    students: list[str]
    stream: str

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run one query on the test's database; return its rows (none for DDL)."""
        with psycopg.connect(_libpq(self.db_url), autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def verdicts(self) -> dict[str, int]:
        """How many updates wrote a verdict, per token."""
        rows = self.sql("SELECT token, count(*) FROM verdict_log GROUP BY token")
        return {str(token): int(count) for token, count in rows}


def server_args(*extra: str) -> tuple[str, ...]:
    """A server's judge settings for these tests."""
    return (
        IDENTITY,
        "--JudgeSettings.max_queue_size=400",
        f"--JudgeSettings.claim_idle_seconds={CLAIM_IDLE}",
        "--JudgeSettings.warm_languages=python",
        "--JudgeSettings.pool_size=2",
        *extra,
    )


WORKER_ARGS = (
    "--JudgeSettings.workers=1",
    f"--JudgeSettings.claim_idle_seconds={CLAIM_IDLE}",
    "--JudgeSettings.warm_languages=python",
    "--JudgeSettings.pool_size=2",
)


@pytest.fixture
def cluster(pg_database_url: str) -> Iterator[Cluster]:
    """A fresh database with its schema and verdict log, and the students' names."""
    docker_or_fail()
    ensure_schema(pg_database_url)
    students = [f"scale-{uuid.uuid4().hex[:6]}-{i:02d}" for i in range(STUDENTS)]
    env = {
        "JUPYTER_IDE_DB_URL": pg_database_url,
        "JUPYTER_IDE_REDIS_URL": redis_url(),
        "JUPYTER_IDE_SANDBOX": "docker",
        STUDENTS_ENV: ",".join(students),
        "PYTHONPATH": str(REPO),
    }
    stream = f"{PREFIX}judge:{queue_name(pg_database_url)}:stream"
    found = Cluster(pg_database_url, env, students, stream)
    found.sql(VERDICT_LOG)
    client = redis.Redis.from_url(redis_url())
    try:
        yield found
    finally:
        keys = list(client.scan_iter(match=stream.removesuffix("stream") + "*"))
        if keys:
            client.delete(*keys)
        client.close()


def submit(server: Launched, student: str, bodies: list[dict[str, Any]]) -> list[str]:
    """Submit a batch as ``student``; return the tokens."""
    reply = server.fetch(
        "POST", "ide/api/judge/submissions/batch", {"submissions": bodies}, headers=as_user(student)
    )
    assert reply.status == 201, (reply.status, reply.text)
    tokens = [item.get("token") for item in reply.body]
    assert all(tokens), reply.body
    return [str(t) for t in tokens]


def result(server: Launched, student: str, token: str) -> dict[str, Any]:
    """GET one submission as its owner."""
    reply = server.fetch(
        "GET",
        f"ide/api/judge/submissions/{token}",
        params={"fields": "stdout,status,token"},
        headers=as_user(student),
    )
    assert reply.status == 200, (reply.status, reply.text)
    body: dict[str, Any] = reply.body
    return body


def pending_of(cluster: Cluster, consumer: str) -> list[str]:
    """The stream entries ``consumer`` holds (read, not acknowledged)."""
    client = redis.Redis.from_url(redis_url(), decode_responses=True)
    try:
        rows = client.xpending_range(cluster.stream, GROUP, "-", "+", 1000, consumername=consumer)
    except redis.ResponseError:
        return []
    finally:
        client.close()
    return [str(row["message_id"]) for row in rows]


def wait_for(check: Any, timeout: float, what: str, every: float = 0.3) -> Any:
    """Poll ``check`` until it returns something true; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f} s: {what}")


@pytest.mark.timeout(900)
def test_200_submissions_of_20_students_while_a_worker_is_killed(cluster: Cluster) -> None:
    """Two servers (one worker each) and two judge workers; one worker is SIGKILLed midway.

    Every submission ends Accepted with its own right output, read through the server it was
    not submitted to; the database saw exactly one verdict written per submission; what the
    killed worker held was taken over.
    """
    expected: dict[str, tuple[str, str]] = {}  # token: (student, stdout)
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(
                launch(app="server", env=cluster.env, args=server_args("--JudgeSettings.workers=1"))
            )
            for _ in range(2)
        ]
        workers: list[Worker] = [
            stack.enter_context(judge_worker(cluster.env, WORKER_ARGS)) for _ in range(2)
        ]

        def send(index: int) -> None:
            student = cluster.students[index]
            for half in range(2):  # each student through both servers
                numbers = [1000 * index + 5 * half + k for k in range(PER_STUDENT // 2)]
                bodies = [
                    {"language_id": 71, "source_code": SQUARE, "stdin": str(n)} for n in numbers
                ]
                server = servers[(index + half) % 2]
                for token, n in zip(submit(server, student, bodies), numbers, strict=True):
                    expected[token] = (student, f"{n * n + 7}\n")

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(send, range(STUDENTS)))
        assert len(expected) == STUDENTS * PER_STUDENT
        victim, survivor = workers
        # Kill the worker while it holds a submission, once some verdicts are in.
        wait_for(
            lambda: pending_of(cluster, victim.consumer) and len(cluster.verdicts()) >= 20,
            120,
            "the victim worker never held a submission",
            every=0.05,
        )
        held = pending_of(cluster, victim.consumer)
        victim.kill()
        assert held, "the victim held nothing when killed"

        def finished() -> bool:
            return len(cluster.verdicts()) >= len(expected)

        wait_for(finished, 420, f"only {len(cluster.verdicts())} of {len(expected)} verdicts")
        # Every result through the server it was not submitted to (either one here).
        by_token = {}
        for number, (token, (student, _)) in enumerate(expected.items()):
            by_token[token] = result(servers[number % 2], student, token)
        assert not pending_of(cluster, victim.consumer), "the dead worker still holds entries"
        survivor_log = survivor.log()
    wrong = {
        t: (r["status"], r["stdout"], expected[t][1])
        for t, r in by_token.items()
        if r["status"]["id"] != 3 or r["stdout"] != expected[t][1]
    }
    assert not wrong, wrong
    counts = cluster.verdicts()
    assert set(counts) == set(expected), len(set(counts) ^ set(expected))
    assert all(count == 1 for count in counts.values()), {t: c for t, c in counts.items() if c != 1}
    rows = cluster.sql("SELECT status_id, count(*) FROM submissions GROUP BY status_id")
    assert rows == [(3, len(expected))], rows
    # The entries the killed worker held were taken over by a live worker.
    assert "took over" in survivor_log or any("took over" in s.final_log for s in servers), (
        survivor_log[-3000:]
    )


@pytest.mark.timeout(600)
def test_a_killed_workers_submission_is_run_again_by_another(cluster: Cluster) -> None:
    """Worker A takes a slow submission and is SIGKILLed; worker B takes it over and runs it."""
    student = cluster.students[0]
    with launch(
        app="server", env=cluster.env, args=server_args("--JudgeSettings.run_workers=False")
    ) as server:
        with judge_worker(cluster.env, WORKER_ARGS) as first:
            (token,) = submit(server, student, [{"language_id": 71, "source_code": SLOW}])
            wait_for(lambda: pending_of(cluster, first.consumer), 60, "A never took it")
            wait_for(
                lambda: (
                    cluster.sql("SELECT status_id FROM submissions WHERE token = %s", token)
                    == [(2,)]
                ),
                30,
                "A never marked it processing",
            )
            first.kill()
        assert result(server, student, token)["status"]["id"] == 2  # nobody runs it now
        with judge_worker(cluster.env, WORKER_ARGS) as second:
            done = wait_for(
                lambda: (r := result(server, student, token))["status"]["id"] > 2 and r,
                90,
                "B never finished it",
            )
            log = second.log()
    assert done["status"]["id"] == 3 and done["stdout"] == "slow and sure\n", done
    assert f"took over {token}" in log, log[-3000:]
    assert cluster.verdicts() == {token: 1}


@pytest.mark.timeout(600)
def test_malformed_and_repeated_stream_entries(cluster: Cluster) -> None:
    """Entries that name no submission are dropped; a repeated one does not run it again."""
    student = cluster.students[1]
    client = redis.Redis.from_url(redis_url(), decode_responses=True)
    with launch(
        app="server", env=cluster.env, args=server_args("--JudgeSettings.run_workers=False")
    ) as server:
        with judge_worker(cluster.env, WORKER_ARGS) as worker:
            (token,) = submit(
                server, student, [{"language_id": 71, "source_code": "print('once')"}]
            )
            first = wait_for(
                lambda: (r := result(server, student, token))["status"]["id"] > 2 and r,
                60,
                "the submission never finished",
            )
            finished_at = cluster.sql("SELECT finished_at FROM submissions WHERE token = %s", token)
            # Hostile entries: no token, a token that is no UUID, a UUID nobody submitted,
            # and the finished submission's own token again (a repeated delivery).
            hostile: list[dict[Any, Any]] = [
                {"garbage": "x" * 100},
                {"token": "../../etc/passwd"},
                {"token": str(uuid.uuid4()), "user": student},
                {"token": token, "user": student},
            ]
            for fields in hostile:
                client.xadd(cluster.stream, fields)
            # A new submission still runs after them, on the same worker.
            (later,) = submit(
                server, student, [{"language_id": 71, "source_code": "print('after')"}]
            )
            after = wait_for(
                lambda: (r := result(server, student, later))["status"]["id"] > 2 and r,
                60,
                "the later submission never finished",
            )
            wait_for(lambda: client.xlen(cluster.stream) == 0, 30, "entries left in the stream")
            log = worker.log()
    client.close()
    assert first["stdout"] == "once\n" and after["stdout"] == "after\n", (first, after)
    assert log.count("no such submission") == 3, log[-3000:]
    assert f"{token} already has its verdict" in log, log[-3000:]
    assert cluster.verdicts() == {token: 1, later: 1}
    assert cluster.sql("SELECT finished_at FROM submissions WHERE token = %s", token) == finished_at


@pytest.mark.timeout(600)
def test_submissions_redis_lost_are_queued_again(cluster: Cluster) -> None:
    """Redis loses the queue (a restart without its data): the rows still waiting run anyway."""
    student = cluster.students[2]
    client = redis.Redis.from_url(redis_url())
    numbers = [41, 42, 43]
    args = server_args("--JudgeSettings.run_workers=False")
    with launch(app="server", env=cluster.env, args=args) as server:
        bodies = [{"language_id": 71, "source_code": SQUARE, "stdin": str(n)} for n in numbers]
        tokens = submit(server, student, bodies)
        keys = list(client.scan_iter(match=cluster.stream.removesuffix("stream") + "*"))
        assert keys and client.delete(*keys)  # the lists, the stream and its group: all gone
        with judge_worker(cluster.env, WORKER_ARGS) as worker:
            done = [
                wait_for(
                    lambda t=token: (r := result(server, student, t))["status"]["id"] > 2 and r,
                    120,
                    "a lost submission never ran",
                )
                for token in tokens
            ]
            log = worker.log()
    client.close()
    assert [d["stdout"] for d in done] == [f"{n * n + 7}\n" for n in numbers], done
    assert "queued 3 submissions again that Redis had lost" in log, log[-3000:]
    assert cluster.verdicts() == dict.fromkeys(tokens, 1)


async def test_two_workers_racing_record_one_verdict(pg_database_url: str) -> None:
    """Two verdicts of one submission written at once: one lands, the other changes nothing.

    The stored request reads back as the one accepted (what a worker elsewhere runs).
    """
    await asyncio.to_thread(ensure_schema, pg_database_url)
    db = Database(pg_database_url)
    store = SubmissionStore(db)
    body = {"language_id": 50, "source_code": "int main(void) { return 0; }", "stdin": "7"}
    request, errors = parse_submission(body, False, JudgeSettings(cpu_time_limit=2.5))
    assert request is not None, errors
    sub = Submission.from_request(str(uuid.uuid4()), "racer", request, datetime.now(timezone.utc))
    try:
        await store.add([sub])
        stored = await store.load_token(sub.token)
        assert stored is not None and stored.user == "racer"
        assert request_of(stored) == request
        first, second = (
            dataclasses.replace(
                sub,
                outcome=Outcome(status, stdout=out),
                status=status,
                finished_at=datetime.now(timezone.utc),
            )
            for status, out in ((Status.ACCEPTED, b"a"), (Status.WRONG_ANSWER, b"b"))
        )
        results = await asyncio.gather(store.finish(first), store.finish(second))
        assert sorted(results) == [False, True], results
        winner = first if results[0] else second
        row = await store.load_token(sub.token)
        assert row is not None and row.outcome is not None
        assert (row.status, row.outcome.stdout) == (winner.status, winner.outcome.stdout)  # type: ignore[union-attr]
        assert not await store.finish(second if winner is first else first)
        row = await store.load_token(sub.token)
        assert row is not None and row.outcome is not None
        assert row.outcome.stdout == winner.outcome.stdout  # type: ignore[union-attr]
    finally:
        await db.dispose()
