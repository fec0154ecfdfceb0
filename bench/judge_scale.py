"""Judge scale-out: submissions per second with one and two judge-worker processes on the
shared Redis queue, against raw ``docker run`` of the same work, and the failover time of a
worker killed with SIGKILL.

Setup, in one run on this machine: a fresh PostgreSQL database and the Redis the tests use
(``JUPYTER_IDE_TEST_PG_URL``, ``JUPYTER_IDE_TEST_REDIS_URL``); the bench process submits
through a ``JudgeManager`` that runs no submissions itself (``run_workers=False``), and
``jupyter ide judge-worker`` processes (one worker each, their own data dir as on another
node) run them. The program is a Python one-liner that squares a number (``docker run``:
the number as an argument; the judge: on stdin); every output is checked.

- ``docker run``: closed loop, as many clients as the judge has workers (SDK: create, start,
  wait, logs, remove), no profile, no judge;
- judge, N workers: closed loop with 2 clients per worker (so a worker always has the next
  submission waiting); latency is submit -> verdict seen in the database (polled every 20 ms);
- failover: a burst of slow submissions, one worker SIGKILLed while it holds one; the time
  from the kill to the verdict of what it held (bounded below by ``claim_idle_seconds``).

Grading workload (C, 10 stdin cases per submission; each submission's source differs, so each
compiles): the judge's ``run_cases`` (kernels/judge/cases.py: compile once, every case as a job
of the submission's one box) with 1 and 2 submissions at once, against raw ``docker run``: one
run compiles into a host folder, then one run per case (``./prog < case``). Goal: one worker
grades at least 3x raw ``docker run``'s submissions per second.

Run alone: ``.venv/bin/python -m bench.judge_scale [--n 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import psycopg
from sqlalchemy.engine import make_url

from jupyter_ide.cache import MemoryCache, RedisCache
from jupyter_ide.db import Database, ensure_schema
from jupyter_ide.kernels.image_names import image_for
from jupyter_ide.kernels.judge.cases import Case, run_cases
from jupyter_ide.kernels.judge.manager import JudgeManager
from jupyter_ide.kernels.judge.settings import JudgeSettings
from jupyter_ide.kernels.judge.statuses import Status
from jupyter_ide.kernels.judge.worker_app import READY_LINE
from jupyter_ide.kernels.profile import LABEL_SERVER

from .judge import cpu_model
from .quick import quick
from .stats import p95

ROOT = Path(__file__).resolve().parents[1]
JUPYTER = Path(sys.executable).parent / "jupyter"
N = 4 if quick() else 30
GRADED = 2 if quick() else 10  # C submissions per peer in the grading workload
CASES = 10
C_SQUARE = (
    '#include <stdio.h>\nint main(void) { long n; if (scanf("%ld", &n) != 1) return 1;'
    ' printf("%ld\\n", n * n + OFFSET); return 0; }\n'
)
CLAIM_IDLE = 5.0
SQUARE = "import sys\nn = int(sys.stdin.read())\nprint(n * n + 7)\n"
RAW_SQUARE = "import sys\nn = int(sys.argv[1])\nprint(n * n + 7)\n"
SLOW = "import time\ntime.sleep(2)\nprint('slow')\n"
WORKER_ARGS = (
    "--JudgeSettings.workers=1",
    f"--JudgeSettings.claim_idle_seconds={CLAIM_IDLE}",
    "--JudgeSettings.warm_languages=python",
    "--JudgeSettings.pool_size=2",
)


def pg_url() -> str:
    """The PostgreSQL server to make the bench's database in."""
    return os.environ.get(
        "JUPYTER_IDE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )


def redis_url() -> str:
    """The Redis the bench's queue lives in."""
    return os.environ.get("JUPYTER_IDE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A throwaway PostgreSQL database with the schema, dropped afterwards."""
    admin = pg_url()
    name = f"jupyter_ide_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(admin), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        url = make_url(admin).set(database=name).render_as_string(hide_password=False)
        try:
            ensure_schema(url)
            yield url
        finally:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class WorkerProcess:
    """A `jupyter ide judge-worker` process and its HOME."""

    process: subprocess.Popen[bytes]
    home: Path
    consumer: str = ""

    def log(self) -> str:
        """What it printed."""
        with contextlib.suppress(OSError):
            return (self.home / "worker.log").read_text(errors="replace")
        return ""

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop it, remove its boxes and its HOME."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        server_id = ""
        with contextlib.suppress(OSError):
            path = self.home / ".local/share/jupyter/jupyter_ide/server_id"
            server_id = path.read_text().strip()
        if server_id:
            client = docker.from_env(timeout=60)
            for box in client.containers.list(
                all=True, filters={"label": f"{LABEL_SERVER}={server_id}"}
            ):
                with contextlib.suppress(docker.errors.DockerException):
                    box.remove(force=True)
            client.close()
        shutil.rmtree(self.home, ignore_errors=True)


def _spawn(home: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start `jupyter ide judge-worker` in ``home``, its output in worker.log."""
    with (home / "worker.log").open("wb") as log:
        return subprocess.Popen(
            [str(JUPYTER), "ide", "judge-worker", *WORKER_ARGS],
            env=env,
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def start_worker(db_url: str) -> WorkerProcess:
    """Start one judge-worker process; return once it says it is ready."""
    home = Path(tempfile.mkdtemp(prefix="bench-judge-worker-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update(
        HOME=str(home),
        JUPYTER_IDE_DB_URL=db_url,
        JUPYTER_IDE_REDIS_URL=redis_url(),
        JUPYTER_IDE_SANDBOX="docker",
    )
    worker = WorkerProcess(_spawn(home, env), home)
    process = worker.process
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        found = re.search(rf"{READY_LINE}: .* as (\S+)", worker.log())
        if found:
            worker.consumer = found.group(1)
            return worker
        if process.poll() is not None:
            break
        await asyncio.sleep(0.2)
    text = worker.log()
    worker.stop()
    raise RuntimeError(f"judge-worker did not start:\n{text[-3000:]}")


@contextlib.asynccontextmanager
async def front_judge(db_url: str, root: Path) -> AsyncIterator[JudgeManager]:
    """The JudgeManager the bench submits through; it runs nothing itself."""
    settings = JudgeSettings(
        data_dir=str(root / "front"),
        run_workers=False,
        submissions_per_minute=0,
        max_queue_size=10_000,
        warm_languages="",
        claim_idle_seconds=CLAIM_IDLE,
    )
    db = Database(db_url)
    cache = RedisCache(redis_url())
    judge = JudgeManager(settings, db, cache, None, root)
    await judge.start()
    await judge.available()
    try:
        yield judge
    finally:
        await judge.stop()
        await cache.close()
        await db.dispose()


async def verdict(judge: JudgeManager, token: str, every: float = 0.02) -> tuple[Status, bytes]:
    """Poll the database until the submission has its verdict; return status and stdout."""
    while True:
        sub = await judge.store.load_token(token)
        if sub is not None and sub.status.finished:
            stdout = sub.outcome.stdout if sub.outcome is not None else None
            return sub.status, stdout or b""
        await asyncio.sleep(every)


async def one(judge: JudgeManager, user: str, n: int) -> float:
    """Submit one square, wait for its right verdict; return ms."""
    start = time.perf_counter()
    body = {"language_id": 71, "source_code": SQUARE, "stdin": str(n)}
    (sub,) = await judge.submit(user, [body], False)
    assert not isinstance(sub, dict), sub
    status, stdout = await verdict(judge, sub.token)
    assert status == Status.ACCEPTED and stdout == f"{n * n + 7}\n".encode(), (status, stdout)
    return (time.perf_counter() - start) * 1000


def raw_run(client: docker.DockerClient, n: int) -> float:
    """One ``docker run --rm`` of the same square; return ms."""
    start = time.perf_counter()
    out = client.containers.run(
        image_for("python"), ["python", "-c", RAW_SQUARE, str(n)], remove=True, network_mode="none"
    )
    assert out == f"{n * n + 7}\n".encode(), out
    return (time.perf_counter() - start) * 1000


async def closed_loop(
    operation: Callable[[int, int], Awaitable[float]], clients: int, total: int
) -> tuple[list[float], float]:
    """``clients`` clients share ``total`` operations; return latencies (ms) and seconds."""
    latencies: list[float] = []
    numbers = iter(range(total))

    async def client(number: int) -> None:
        for n in numbers:
            latencies.append(await operation(number, 1000 + n))

    start = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return latencies, time.perf_counter() - start


async def warm_up(judge: JudgeManager, count: int) -> None:
    """Two untimed submissions per worker (the workers' pools fill, their code paths load)."""

    async def sub(number: int, k: int) -> float:
        return await one(judge, f"bench-warm-{number}", k)

    await closed_loop(sub, count, 2 * count)


async def failover(judge: JudgeManager, victim: WorkerProcess) -> tuple[float, int]:
    """Kill ``victim`` while it holds a slow submission; return seconds to its verdict."""
    shared = judge.shared
    assert shared is not None
    tokens = []
    for i in range(4):
        body = {"language_id": 71, "source_code": SLOW}
        (sub,) = await judge.submit(f"bench-failover-{i}", [body], False)
        assert not isinstance(sub, dict)
        tokens.append(sub.token)
    client = shared._client
    held: list[str] = []
    deadline = time.monotonic() + 60
    while not held and time.monotonic() < deadline:
        rows = await client.xpending_range(
            shared.stream, "workers", "-", "+", 10, consumername=victim.consumer
        )
        held = [r["message_id"].decode() for r in rows]
        await asyncio.sleep(0.02)
    assert held, "the victim never held a submission"
    entries = await client.xrange(shared.stream, held[0], held[0])
    token = entries[0][1][b"token"].decode()
    killed = time.perf_counter()
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(timeout=30)
    status, stdout = await verdict(judge, token, every=0.05)
    seconds = time.perf_counter() - killed
    assert status == Status.ACCEPTED and stdout == b"slow\n", (status, stdout)
    for other in tokens:
        await verdict(judge, other, every=0.1)
    return seconds, len(held)


def c_source(number: int) -> str:
    """A C square whose constant differs per submission (every one compiles)."""
    return C_SQUARE.replace("OFFSET", str(number))


def c_expected(number: int, case: int) -> bytes:
    """The output of submission ``number`` on case ``case``."""
    return f"{case * case + number}\n".encode()


def raw_grade(client: docker.DockerClient, root: Path, number: int) -> float:
    """Compile in one ``docker run``, then one ``docker run`` per case; check; return ms."""
    folder = root / f"raw-{number}-{uuid.uuid4().hex[:6]}"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    (folder / "main.c").write_text(c_source(number))
    for case in range(CASES):
        (folder / f"case{case}").write_text(f"{case}\n")
    mount = {str(folder): {"bind": "/work", "mode": "rw"}}
    image = image_for("c")
    start = time.perf_counter()
    client.containers.run(
        image,
        ["gcc", "-O2", "-o", "/work/prog", "/work/main.c"],
        remove=True,
        network_mode="none",
        volumes=mount,
    )
    for case in range(CASES):
        out = client.containers.run(
            image,
            ["sh", "-c", f"/work/prog < /work/case{case}"],
            remove=True,
            network_mode="none",
            volumes={str(folder): {"bind": "/work", "mode": "ro"}},
        )
        assert out == c_expected(number, case), out
    elapsed = (time.perf_counter() - start) * 1000
    shutil.rmtree(folder, ignore_errors=True)
    return elapsed


async def judge_grade(judge: JudgeManager, number: int) -> float:
    """Grade one submission's 10 cases in its one box; check every verdict; return ms."""
    assert judge.judge is not None
    cases = [Case(f"{c}\n".encode(), c_expected(number, c)) for c in range(CASES)]
    start = time.perf_counter()
    compiled, outcomes, boxes = await run_cases(
        judge.judge, "c", {"main.c": c_source(number).encode()}, "main.c", cases
    )
    elapsed = (time.perf_counter() - start) * 1000
    assert compiled.status == Status.ACCEPTED, compiled
    assert len(boxes) == 1, boxes
    for case, outcome in enumerate(outcomes):
        assert outcome.status == Status.ACCEPTED, (case, outcome)
        assert outcome.stdout == c_expected(number, case), (case, outcome.stdout)
    return elapsed


async def grading(client: docker.DockerClient, root: Path, graded: int) -> None:
    """The grading workload: raw docker run against run_cases, 1 and 2 at once."""
    settings = JudgeSettings(
        data_dir=str(root / "grading"),
        compile_cache=False,
        pool_size=2,
        warm_languages="c",
        submissions_per_minute=0,
        workers=2,
    )
    url = f"sqlite:///{root / 'grading.db'}"
    await asyncio.to_thread(ensure_schema, url)
    judge = JudgeManager(settings, Database(url), MemoryCache(), None, root)
    await judge.start()
    await judge.available()
    rows: list[tuple[str, int, list[float], float]] = []
    try:
        await judge_grade(judge, 10_000)  # untimed: the pool fills, the code paths load
        offset = iter(range(graded * 10))
        for clients in (1, 2):

            async def raw(_: int, __: int) -> float:
                return await asyncio.to_thread(raw_grade, client, root, next(offset))

            values, seconds = await closed_loop(raw, clients, graded)
            rows.append((f"docker run per case, {clients} at once", clients, values, seconds))

            async def ours(_: int, __: int) -> float:
                return await judge_grade(judge, next(offset))

            values, seconds = await closed_loop(ours, clients, graded)
            name = f"judge run_cases, one box, {clients} at once"
            rows.append((name, clients, values, seconds))
    finally:
        await judge.stop()
        await judge.store.db.dispose()
    print_table(
        f"judge grading: C, {CASES} stdin cases per submission, compile cache off; "
        f"{cpu_model()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        rows,
    )
    rate = {r[0]: len(r[2]) / r[3] for r in rows}
    ratio = rate["judge run_cases, one box, 1 at once"] / rate["docker run per case, 1 at once"]
    verdict = "met" if ratio >= 3 else "NOT met"
    print(f"goal: one worker grades >= 3x raw docker run's submissions/s: {ratio:.2f}x, {verdict}")


def print_table(title: str, rows: list[tuple[str, int, list[float], float]]) -> None:
    """Median, p95 and throughput per peer."""
    print(f"\n{title}")
    print(f"{'peer':<46}{'clients':>8}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'subs/s':>9}")
    for name, clients, values, seconds in rows:
        print(
            f"{name:<46}{clients:>8}{len(values):>5}{statistics.median(values):>10.1f}"
            f"{p95(values):>10.1f}{len(values) / seconds:>9.2f}"
        )


async def main(n: int = N, graded: int = GRADED) -> None:
    """Run the scale-out bench and print its tables."""
    client = docker.from_env(timeout=120)
    root = Path(tempfile.mkdtemp(prefix="bench-judge-scale-"))
    workers: list[WorkerProcess] = []
    rows: list[tuple[str, int, list[float], float]] = []
    try:
        with fresh_database() as db_url:
            async with front_judge(db_url, root) as judge:
                for clients in (1, 2):

                    async def raw(_: int, number: int) -> float:
                        return await asyncio.to_thread(raw_run, client, number)

                    values, seconds = await closed_loop(raw, clients, n)
                    rows.append((f"docker run python, {clients} at once", clients, values, seconds))
                for count in (1, 2):
                    while len(workers) < count:
                        workers.append(await start_worker(db_url))
                    await warm_up(judge, count)

                    async def sub(number: int, k: int) -> float:
                        return await one(judge, f"bench-{number}", k)

                    values, seconds = await closed_loop(sub, 2 * count, n)
                    name = f"judge, {count} worker process{'es' if count > 1 else ''}"
                    rows.append((name, 2 * count, values, seconds))
                print_table(
                    f"judge scale-out: python square, {n} per peer; judge-worker processes "
                    f"with 1 worker each on one Docker engine; {cpu_model()}, "
                    f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
                    rows,
                )
                by_name = {r[0]: len(r[2]) / r[3] for r in rows}
                one_w, two_w = (
                    by_name["judge, 1 worker process"],
                    by_name["judge, 2 worker processes"],
                )
                raw1, raw2 = (
                    by_name["docker run python, 1 at once"],
                    by_name["docker run python, 2 at once"],
                )
                print(
                    f"ratios: 1 worker / docker run x1 = {one_w / raw1:.2f}; "
                    f"2 workers / docker run x2 = {two_w / raw2:.2f}; "
                    f"2 workers / 1 worker = {two_w / one_w:.2f}"
                )
                seconds, held = await failover(judge, workers[0])
                print(
                    f"failover: worker SIGKILLed holding {held} submission(s); its submission's "
                    f"verdict {seconds:.1f} s after the kill (claim_idle_seconds={CLAIM_IDLE:g})"
                )
        await grading(client, root, graded)
    finally:
        for worker in workers:
            worker.stop()
        client.close()
        shutil.rmtree(root, ignore_errors=True)


def cli() -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=N, help="submissions (runs) per peer")
    parser.add_argument("--graded", type=int, default=GRADED, help="C submissions per peer")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.graded))


if __name__ == "__main__":
    cli()
