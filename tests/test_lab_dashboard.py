"""The lab dashboard (issue #16) for a scripted lab of 20 students, all through the real APIs
of the jupyter-ide service under JupyterHub: presence heartbeats, saves, judge runs, graded
submissions, raised hands and AI requests through the proxy (to the local OpenAI-format
fake). Every figure on the dashboard equals the count computed from the database's rows,
and the script's own expectations.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest

from .activity_hub import Lab, lab_hub
from .s3_server import MotoServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

N = 20
SOURCE = "a, b = map(int, input().split())\nprint(a + b)\n"
WRONG_ONE = "a, b = map(int, input().split())\nprint(a + b if a else 0)\n"  # fails "zero"
WRONG_ALL = "print('no')\n"
TESTS = [
    {
        "kind": "stdin",
        "name": "sum",
        "program": "main.py",
        "stdin": "2 3\n",
        "expected_output": "5\n",
    },
    {
        "kind": "stdin",
        "name": "zero",
        "program": "main.py",
        "stdin": "0 4\n",
        "expected_output": "4\n",
    },
]


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """These tests talk to processes over HTTP: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server to clean up: the service runs under the hub."""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer) -> Iterator[Lab]:
    """20 students and their instructor in one course."""
    tag = uuid.uuid4().hex[:4]
    students = [f"s{i:02d}-{tag}" for i in range(N)]
    base = tmp_path_factory.mktemp("lab-dashboard-hub")
    with lab_hub(base, moto_server, students, [f"tia-{tag}"]) as found:
        found.people = {"tia": f"tia-{tag}", **{f"s{i}": s for i, s in enumerate(students)}}
        found.tokens["tia"] = found.tokens[f"tia-{tag}"]
        yield found


def beat(lab: Lab, i: int) -> None:
    """/ide's presence heartbeat: 16 students have it open, each on a file."""
    if i < 16:
        me, course = lab.people[f"s{i}"], lab.course
        path = f"assignments/{course}/lab/main.py" if i % 2 == 0 else f"scratch{i % 3}.py"
        lab.ok(me, "POST", "/ide/api/activity/presence", {"course": course, "path": path})


def student_script(lab: Lab, i: int) -> None:
    """What student ``i`` does in the lab (the figures below are derived from ``i``)."""
    me = lab.people[f"s{i}"]
    course = lab.course
    folder = f"assignments/{course}/lab"
    beat(lab, i)
    if i < 8:  # 8 save a solution and submit it: right, one test wrong, all wrong
        source = (SOURCE, WRONG_ONE, WRONG_ALL)[i % 3]
        lab.save(me, f"{folder}/main.py", source)
        lab.ok(me, "POST", f"/ide/api/courses/{course}/assignments/lab/submissions")
    if i % 3 == 0:  # 7 run their program; the last run's verdict counts
        lab.run(me, "print(6 * 7)\n")
    if i % 5 == 1 or i == 0:  # some runs end in an error (s00: its second, last run)
        lab.run(me, "raise SystemExit(3)\n")
    if i in (3, 7, 11, 19):
        reply = lab.call(me, "POST", f"/ide/api/courses/{course}/help", {"message": "stuck"})
        assert reply.status_code == 201, reply.text
    if i == 7:  # s07 lowers the hand again
        lab.ok(me, "DELETE", f"/ide/api/courses/{course}/help")
    for _ in range((i % 4) + 1 if i % 3 == 0 else 0):  # AI requests in the course
        chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"hint {i}"}]}
        lab.ok(me, "POST", "/ide/api/ai/v1/chat/completions", chat, course=course)


def expected_row(i: int) -> dict[str, Any]:
    """The script's own expectations of student ``i``'s row (before the clock games below)."""
    runs = []
    if i % 3 == 0:
        runs.append("Accepted")
    if i % 5 == 1 or i == 0:
        runs.append("Runtime Error (NZEC)")
    return {
        "online": i < 14,  # s14 and s15 were seen too long ago (below)
        "last_run": runs[-1] if runs else None,
        "failing_tests": (0, 1, 2)[i % 3] if i < 8 else None,
        "hand_raised": i in (3, 11, 19),
        "ai_requests_10m": ((i % 4) + 1 if i % 3 == 0 else 0) - (1 if i == 3 else 0),
    }


def from_database(lab: Lab, now: datetime, online_seconds: float) -> dict[str, dict[str, Any]]:
    """Each student's figures computed from the service's rows, independently of the app."""
    course = lab.course
    (cid,) = lab.rows("SELECT id FROM courses WHERE name = :c", c=course)[0]
    students = dict(
        lab.rows(
            "SELECT u.id, u.name FROM users u JOIN course_members m ON m.user_id = u.id"
            " WHERE m.course_id = :c AND m.role = 'student'",
            c=cid,
        )
    )
    seen = {
        uid: (path, at)
        for uid, path, at in lab.rows(
            "SELECT user_id, path, seen_at FROM activity_presence WHERE course_id = :c", c=cid
        )
    }
    statuses = {3: "Accepted", 11: "Runtime Error (NZEC)"}
    runs: dict[int, str] = {}
    for uid, status in lab.rows(
        "SELECT user_id, status_id FROM submissions WHERE course_id = :c ORDER BY id", c=cid
    ):
        runs[uid] = statuses.get(status, str(status))
    failing: dict[int, int] = {}
    for uid, results in lab.rows(
        "SELECT s.user_id, s.results FROM assignment_submissions s"
        " JOIN assignments a ON a.id = s.assignment_id"
        " WHERE a.course_id = :c AND a.name = 'lab' ORDER BY s.id",
        c=cid,
    ):
        failing[uid] = sum(1 for r in results if r["status"] != "passed")
    hands = {
        uid
        for (uid,) in lab.rows(
            "SELECT user_id FROM help_requests WHERE course_id = :c AND open_slot", c=cid
        )
    }
    ai: dict[int, int] = {}
    for (uid,) in lab.rows(
        "SELECT user_id FROM ai_usage WHERE course = :c AND created_at >= :t",
        c=course,
        t=now - timedelta(minutes=10),
    ):
        ai[uid] = ai.get(uid, 0) + 1
    found = {}
    for uid, name in students.items():
        path, at = seen.get(uid, (None, None))
        found[name] = {
            "online": at is not None and at >= now - timedelta(seconds=online_seconds),
            "path": path,
            "last_run": runs.get(uid),
            "failing_tests": failing.get(uid),
            "hand_raised": uid in hands,
            "ai_requests_10m": ai.get(uid, 0),
        }
    return found


def test_the_dashboard_matches_the_records_of_a_scripted_lab(lab: Lab) -> None:
    """20 students work at once; every figure equals the rows' counts and the script's."""
    tia, course = "tia", lab.course
    lab.save(tia, "lab/main.py", SOURCE)
    body = {"name": "lab", "folder": "lab", "language": "python", "tests": TESTS}
    lab.ok(tia, "POST", f"/ide/api/courses/{course}/assignments", body)
    lab.ok(tia, "POST", f"/ide/api/courses/{course}/assignments/lab/release")
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda i: student_script(lab, i), range(N)))
    script = {lab.people[f"s{i}"]: expected_row(i) for i in range(N)}
    url = f"/ide/api/courses/{course}/dashboard"
    deadline = time.monotonic() + 300
    while True:  # until grading and the AI ledger have caught up
        board = lab.ok(tia, "GET", url)
        rows = {r["student"]: r for r in board["students"]}
        graded = all(
            rows[lab.people[f"s{i}"]]["submission_status"] in ("graded", "error") for i in range(8)
        )
        ai_done = board["totals"]["ai_requests_10m"] == sum(
            ((i % 4) + 1 if i % 3 == 0 else 0) for i in range(N)
        )
        if graded and ai_done:
            break
        assert time.monotonic() < deadline, board
        time.sleep(0.5)
    for i in range(N):  # the heartbeat goes on while the lab works (every 20 s in /ide)
        beat(lab, i)
    # Clock games on the rows, as time would play them: two students were last seen 5 minutes
    # ago, and one of s03's AI requests was made 20 minutes ago.
    for i in (14, 15):
        lab.change(
            "UPDATE activity_presence SET seen_at = seen_at - interval '5 minutes'"
            " WHERE user_id = (SELECT id FROM users WHERE name = :n)",
            n=lab.people[f"s{i}"],
        )
    lab.change(
        "UPDATE ai_usage SET created_at = created_at - interval '20 minutes' WHERE id ="
        " (SELECT min(id) FROM ai_usage WHERE user_id = (SELECT id FROM users WHERE name = :n))",
        n=lab.people["s3"],
    )
    board = lab.ok(tia, "GET", url)
    now = datetime.fromisoformat(board["now"])
    truth = from_database(lab, now, board["online_seconds"])
    assert board["assignment"] == "lab"
    shown = {
        r["student"]: {
            "online": r["online"],
            "path": r["path"],
            "last_run": r["last_run"]["description"] if r["last_run"] else None,
            "failing_tests": r["failing_tests"],
            "hand_raised": r["hand_raised"],
            "ai_requests_10m": r["ai_requests_10m"],
        }
        for r in board["students"]
    }
    assert len(shown) == N
    assert shown == truth  # the dashboard is the records, figure by figure
    for name, expected in script.items():  # and the records are what the script did
        assert {k: shown[name][k] for k in expected} == expected, name
    totals = board["totals"]
    assert totals == {
        "students": N,
        "online": 14,
        "hands": 3,
        "failing": sum(1 for i in range(8) if i % 3),
        "ai_requests_10m": sum(e["ai_requests_10m"] for e in script.values()),
    }
    # Only the course's instructors read it.
    assert lab.call(lab.people["s0"], "GET", url).status_code == 403
