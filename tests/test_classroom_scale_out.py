"""Classroom grading scaled out (issue #15): gradings go through the judge's queue in Redis.

The server (PostgreSQL, Redis, files in S3 on moto's server) grades nothing itself
(``run_workers`` off): two `jupyter ide judge-worker` processes, each with a data dir of its
own as on another node, take the gradings from Redis and read the submissions' files from
S3. One of them is SIGKILLed while it grades. A trigger the test adds to its own database
logs every update that records a grade, so "graded once" is counted in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

import pytest
import redis

from jupyter_ide.classroom import spec
from jupyter_ide.classroom.grading_run import GradingRun
from jupyter_ide.classroom.shared_grading import grade_token, submission_of
from jupyter_ide.kernels.judge.shared_queue import queue_name

from .judge_workers import Worker, judge_worker
from .s3_server import CREDENTIALS, MotoServer
from .services import redis_url
from .test_ai_common import HubLikeIdentity, make_course
from .test_classroom_api import Client, classroom, write
from .test_judge_common import docker_or_fail, judge_config
from .test_judge_scale_out import Cluster, pending_of, wait_for

STUDENTS = [f"g{n:02d}" for n in range(8)]
PER_STUDENT = 2
CLAIM_IDLE = 4.0
PREFIX = "jupyter-ide:"
CASES = [(1, 2), (40, 2), (-5, 5)]
TESTS = [
    {
        "kind": "stdin",
        "name": f"case {i}",
        "program": "main.c",
        "stdin": f"{a} {b}\n",
        "expected_output": f"{a + b}\n",
        "points": 1,
    }
    for i, (a, b) in enumerate(CASES)
]
# Each student's program differs (each compiles); it naps 0.2 s a case, so that a grading
# lasts long enough to be killed in the middle of. Every fourth student's is wrong.
SOURCE = """/* %(student)s */
#include <stdio.h>
#include <time.h>
int main(void) {
    long a, b;
    struct timespec nap = {0, 200000000};
    if (scanf("%%ld %%ld", &a, &b) != 2) return 1;
    nanosleep(&nap, NULL);
    printf("%%ld\\n", a + b%(bug)s);
    return 0;
}
"""
GRADE_LOG = """
CREATE TABLE grade_log (submission_id integer NOT NULL, grade_runs integer NOT NULL);
CREATE FUNCTION log_grade() RETURNS trigger AS $$
BEGIN
  INSERT INTO grade_log (submission_id, grade_runs) VALUES (NEW.id, NEW.grade_runs);
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER grades AFTER UPDATE ON assignment_submissions FOR EACH ROW
  WHEN (NEW.status = 'graded' AND (OLD.status <> 'graded' OR
        OLD.graded_at IS DISTINCT FROM NEW.graded_at))
  EXECUTE FUNCTION log_grade();
"""
WORKER_ARGS = (
    "--JudgeSettings.workers=1",
    f"--JudgeSettings.claim_idle_seconds={CLAIM_IDLE}",
    "--JudgeSettings.warm_languages=c",
    "--JudgeSettings.pool_size=1",
)


def wrong(student: str) -> bool:
    """Whether this student's program adds one too many."""
    return STUDENTS.index(student) % 4 == 3


@pytest.fixture
def ide_db_url(pg_database_url: str) -> str:
    """The server's database: PostgreSQL, shared with the workers."""
    return pg_database_url


@pytest.fixture
def cluster(ide_db_url: str, s3_bucket: str, moto_server: MotoServer) -> Cluster:
    """The database, the grading stream and the environment every worker gets."""
    docker_or_fail()
    env = {
        "JUPYTER_IDE_DB_URL": ide_db_url,
        "JUPYTER_IDE_REDIS_URL": redis_url(),
        "JUPYTER_IDE_SANDBOX": "docker",
        "JUPYTER_IDE_STORAGE_URL": f"s3://{s3_bucket}/ide",
        "JUPYTER_IDE_S3_ENDPOINT_URL": moto_server.url,
        **CREDENTIALS,
    }
    stream = f"{PREFIX}judge:{queue_name(ide_db_url)}:grading:stream"
    return Cluster(ide_db_url, env, STUDENTS, stream)


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], cluster: Cluster, tmp_path: Any
) -> dict[str, Any]:
    """A server on the shared queue that leaves every grading to the judge workers."""
    config = judge_config(
        jp_server_config,
        tmp_path / "judge",
        pool_size=0,
        warm_languages="",
        workers=1,
        run_workers=False,
        claim_idle_seconds=CLAIM_IDLE,
    )
    HubLikeIdentity.USERS.update(dict.fromkeys(STUDENTS, "student"))
    HubLikeIdentity.USERS["alan"] = "instructor"
    config["IDESettings"] = {
        **config["IDESettings"],
        "redis_url": redis_url(),
        "storage_url": cluster.env["JUPYTER_IDE_STORAGE_URL"],
        "s3_endpoint_url": cluster.env["JUPYTER_IDE_S3_ENDPOINT_URL"],
    }
    return config


@pytest.fixture
def redis_keys(cluster: Cluster) -> Any:
    """A Redis client; the queue's keys (judge and grading) are removed afterwards."""
    client = redis.Redis.from_url(redis_url(), decode_responses=True)
    yield client
    keys = list(client.scan_iter(match=f"{PREFIX}judge:{queue_name(cluster.db_url)}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def submission_held(cluster: Cluster, client: Any, consumer: str) -> int | None:
    """The submission ``consumer`` holds and has claimed in the database (grading), if any."""
    for entry in pending_of(cluster, consumer):
        found = client.xrange(cluster.stream, entry, entry)
        token = found[0][1].get("token", "") if found else ""
        if token.startswith("grade:"):
            sid = int(token.removeprefix("grade:"))
            status = cluster.sql("SELECT status FROM assignment_submissions WHERE id = %s", sid)
            if status == [("grading",)]:
                return sid
    return None


@pytest.mark.timeout(600)
async def test_gradings_run_on_judge_workers_once_each_while_one_is_killed(
    jp_fetch: Any, jp_serverapp: Any, cluster: Cluster, redis_keys: Any
) -> None:
    """A burst of C submissions graded by two judge workers; one SIGKILLed mid-grading.

    Every submission gets its right score, one grade recorded each; the killed worker's
    submission was taken over and graded again (two runs, one grade). Hostile entries in the
    grading stream change nothing. A grading Redis lost is found by a worker's sweep and
    done again. A late run that lost its claim records nothing.
    """
    cluster.sql(GRADE_LOG)
    queue = classroom(jp_serverapp).queue
    assert queue.shared is not None and not queue.shared.run_here  # the server grades nothing
    api = Client(jp_fetch)
    await make_course(jp_serverapp, "cs300", STUDENTS, ["alan"])
    await write(
        jp_serverapp, "alan", "adder/main.c", (SOURCE % {"student": "alan", "bug": ""}).encode()
    )
    body = {"name": "adder", "folder": "adder", "language": "c", "tests": TESTS}
    await api.ok("alan", "POST", "cs300", "assignments", body=body)
    await api.ok("alan", "POST", "cs300", "assignments", "adder", "release")
    for student in STUDENTS:
        source = SOURCE % {"student": student, "bug": " + 1" if wrong(student) else ""}
        await write(jp_serverapp, student, "assignments/cs300/adder/main.c", source.encode())

    with contextlib.ExitStack() as stack:
        workers: list[Worker] = await asyncio.gather(
            *(
                asyncio.to_thread(stack.enter_context, judge_worker(cluster.env, WORKER_ARGS))
                for _ in range(2)
            )
        )
        replies = await asyncio.gather(
            *(
                api.call(student, "POST", "cs300", "assignments", "adder", "submissions")
                for _ in range(PER_STUDENT)
                for student in STUDENTS
            )
        )
        assert [code for code, _, _ in replies] == [201] * len(replies), replies[:3]
        owner = {body["id"]: body["student"] for _, body, _ in replies}
        await queue.idle()  # every grading is in Redis now

        victim, survivor = workers
        held = await asyncio.to_thread(
            wait_for,
            lambda: (
                len(cluster.sql("SELECT 1 FROM grade_log")) >= 3
                and submission_held(cluster, redis_keys, victim.consumer)
            ),
            180,
            "the victim never held a grading",
            0.02,
        )
        await asyncio.to_thread(victim.kill)

        def all_graded() -> bool:
            rows = cluster.sql("SELECT status FROM assignment_submissions")
            return len(rows) == len(owner) and all(s == "graded" for (s,) in rows)

        await asyncio.to_thread(wait_for, all_graded, 300, "not every submission was graded")
        listed = await api.ok("alan", "GET", "cs300", "assignments", "adder", "submissions")

        # Hostile entries: no token, a token that names no number, a submission nobody
        # made, and a graded one again (a repeated delivery). None grades anything.
        graded_before = cluster.sql("SELECT id, graded_at, grade_runs FROM assignment_submissions")
        repeated = next(sid for sid in owner if sid != held)
        for fields in (
            {"garbage": "x" * 100},
            {"token": "grade:../../etc/passwd"},
            {"token": "grade:999999999", "user": STUDENTS[0]},
            {"token": f"grade:{repeated}", "user": owner[repeated]},
        ):
            redis_keys.xadd(cluster.stream, fields)
        await asyncio.to_thread(
            wait_for, lambda: redis_keys.xlen(cluster.stream) == 0, 60, "entries left"
        )
        assert not pending_of(cluster, victim.consumer), "the dead worker still holds entries"
        log = cluster.sql("SELECT submission_id, count(*) FROM grade_log GROUP BY submission_id")
        after = cluster.sql("SELECT id, graded_at, grade_runs FROM assignment_submissions")

        # Redis loses the queue (restarted without its data) while a grading was claimed:
        # the survivor's sweep finds the row with no entry, and it is graded again.
        lost = next(sid for sid in owner if sid not in (held, repeated))
        cluster.sql(
            "UPDATE assignment_submissions SET status = 'grading', "
            "graded_at = now() - interval '1 day', created_at = now() - interval '1 day' "
            "WHERE id = %s",
            lost,
        )
        keys = list(redis_keys.scan_iter(match=cluster.stream.removesuffix("stream") + "*"))
        assert keys and redis_keys.delete(*keys)

        def regraded() -> bool:
            return cluster.sql(
                "SELECT status, grade_runs FROM assignment_submissions WHERE id = %s", lost
            ) == [("graded", 2)]

        await asyncio.to_thread(wait_for, regraded, 60, "the lost grading was never redone")
        survivor_log = survivor.log()

    subs = {s["id"]: s for s in listed["submissions"]}
    assert set(subs) == set(owner)
    scores = {sid: (s["status"], s["score"]) for sid, s in subs.items()}
    assert scores == {sid: ("graded", 0.0 if wrong(owner[sid]) else 3.0) for sid in owner}
    # One grade recorded per submission; the killed worker's one graded in two runs.
    assert dict(log) == dict.fromkeys(owner, 1), log
    runs = {sid: s["grade_runs"] for sid, s in subs.items()}
    assert runs == {sid: 2 if sid == held else 1 for sid in owner}, (held, runs)
    assert f"took over grade:{held}" in survivor_log, survivor_log[-3000:]
    assert survivor_log.count("no such submission") == 2, survivor_log[-3000:]
    assert survivor_log.count("is not waiting") == 2, survivor_log[-3000:]
    assert sorted(after) == sorted(graded_before)
    assert "queued 1 submissions again that Redis had lost" in survivor_log, survivor_log[-3000:]
    assert cluster.sql(
        "SELECT submission_id, grade_runs FROM grade_log WHERE submission_id = %s "
        "ORDER BY grade_runs",
        lost,
    ) == [(lost, 1), (lost, 2)]

    # A run taken over cannot record: the first claimant ends late and writes nothing.
    db = classroom(jp_serverapp).assignments.db
    grading = GradingRun(
        db,
        classroom(jp_serverapp).assignments.files.read,
        queue.grader,
        logging.getLogger(__name__),
    )
    cluster.sql("UPDATE assignment_submissions SET status = 'queued' WHERE id = %s", repeated)
    first = await grading.claim(repeated)
    assert first is not None and await grading.claim(repeated) is None  # claimed: not again
    second = await grading.claim(repeated, takeover=True)
    assert second == first + 1
    report = spec.GradeReport((spec.TestResult("late", 1.0, 1.0, "passed", "", "visible"),))
    assert not await grading.record(repeated, first, report)
    assert await grading.record(repeated, second, None, "the one that counts")
    assert not await grading.record(repeated, second, report)  # once only
    row = cluster.sql(
        "SELECT status, error, grade_runs FROM assignment_submissions WHERE id = %s", repeated
    )
    assert row == [("error", "the one that counts", second)]


def test_grading_tokens() -> None:
    """Only ``grade:<number>`` names a submission to grade."""
    assert submission_of(grade_token(42)) == 42
    for token in ("", "grade:", "grade:-1", "grade:1e3", "grade:../x", str(uuid.uuid4()), "42"):
        assert submission_of(token) is None, token
    assert submission_of("grade:" + "9" * 19) is None
