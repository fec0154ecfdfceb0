"""Judge: submissions per second and latency of the Judge0-compatible API's manager.

Peers, in one run on this machine, for a C and a Python hello world:
- ``docker run``: the raw cost of ``docker run --rm`` of the same image (SDK: create, start,
  wait, logs, remove), running the same hello world (C: compiled in the run, and a prebuilt
  binary-free ``true`` to show the container alone), no profile, no judge;
- jupyter-ide judge, compile cache on (the second and later runs of the same source skip the
  compiler) and off (every C submission compiles);
- "warm, one at a time": concurrency 1 with the warm pool filled (untimed) before each
  submission — the latency a student pressing Run sees on an idle server.

Closed loop at concurrency 1, 8 and 32: that many clients each submit, wait for the result and
submit again. Latency is submit → finished (queue, compile or cache, run, verdict, database
row); it goes through ``JudgeManager`` (the HTTP layer adds about a millisecond).

Run alone: ``.venv/bin/python -m bench.judge [--per-client N] [--only c python]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import docker

from jupyter_ide.cache import MemoryCache
from jupyter_ide.db import Database, ensure_schema
from jupyter_ide.kernels.image_names import image_for
from jupyter_ide.kernels.judge.manager import JudgeManager
from jupyter_ide.kernels.judge.settings import JudgeSettings
from jupyter_ide.kernels.judge.statuses import Status

from .quick import quick
from .stats import p95

C_HELLO = '#include <stdio.h>\nint main(void) { puts("hello, world"); return 0; }\n'
PY_HELLO = 'print("hello, world")\n'
PROGRAMS = {
    "c": {"language_id": 50, "source_code": C_HELLO},
    "python": {"language_id": 71, "source_code": PY_HELLO},
}
RAW_COMMANDS = {
    "c": [
        "sh",
        "-c",
        "printf '%s' \"$0\" > /tmp/m.c && gcc -O2 -o /tmp/m /tmp/m.c && /tmp/m",
        C_HELLO,
    ],
    "python": ["python", "-c", PY_HELLO],
}
CONCURRENCY = (1, 8) if quick() else (1, 8, 32)
PER_CLIENT = 4 if quick() else 20
POOL_SIZE = 4


def cpu_model() -> str:
    """Return the CPU's model name."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


async def open_judge(root: Path, compile_cache: bool) -> JudgeManager:
    """Start a JudgeManager with its own SQLite file and judge folder."""
    url = f"sqlite:///{root / 'bench.db'}"
    await asyncio.to_thread(ensure_schema, url)
    settings = JudgeSettings(
        data_dir=str(root / "judge"),
        compile_cache=compile_cache,
        pool_size=POOL_SIZE,
        warm_languages="c,python",
        submissions_per_minute=0,
        max_queue_size=10_000,
    )
    judge = JudgeManager(settings, Database(url), MemoryCache(), None, root)
    await judge.start()
    await judge.available()
    return judge


async def pool_full(judge: JudgeManager, key: str) -> None:
    """Wait until the language's warm pool is full."""
    assert judge.pool is not None
    while judge.pool.ready_count(key) < POOL_SIZE:  # noqa: ASYNC110 - the pool has no event
        await asyncio.sleep(0.02)


async def one_submission(judge: JudgeManager, user: str, body: dict[str, Any]) -> float:
    """Submit, wait for the result; return the latency in ms."""
    start = time.perf_counter()
    (sub,) = await judge.submit(user, [body], False)
    assert not isinstance(sub, dict), sub
    await judge.wait(sub.token)
    elapsed = (time.perf_counter() - start) * 1000
    assert sub.status == Status.ACCEPTED, (sub.status, sub.outcome)
    return elapsed


async def closed_loop(
    operation: Callable[[int], Awaitable[float]], concurrency: int, per_client: int
) -> tuple[list[float], float]:
    """Run ``concurrency`` clients, each doing ``per_client`` operations; return latencies, s."""
    latencies: list[float] = []

    async def client(number: int) -> None:
        for _ in range(per_client):
            latencies.append(await operation(number))

    start = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    return latencies, time.perf_counter() - start


def raw_docker_run(client: docker.DockerClient, image: str, command: list[str]) -> float:
    """Time one ``docker run --rm`` of the image; return ms."""
    start = time.perf_counter()
    output = client.containers.run(image, command, remove=True, network_mode="none")
    assert b"hello" in output or command == ["true"], output
    return (time.perf_counter() - start) * 1000


Row = tuple[str, int, list[float], float]


def print_rows(title: str, rows: list[Row]) -> None:
    """Print median, p95 and throughput per peer and concurrency."""
    print(f"\n{title}")
    print(f"{'peer':<44}{'conc':>5}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'subs/s':>9}")
    for name, concurrency, values, seconds in rows:
        print(
            f"{name:<44}{concurrency:>5}{len(values):>5}{statistics.median(values):>10.1f}"
            f"{p95(values):>10.1f}{len(values) / seconds:>9.2f}"
        )


async def bench_language(
    key: str,
    judges: dict[str, JudgeManager],
    per_client: int,
    client: docker.DockerClient,
    levels: tuple[int, ...] = CONCURRENCY,
) -> list[Row]:
    """Every peer of one language."""
    rows: list[Row] = []
    body = PROGRAMS[key]
    image = image_for(key)
    for concurrency in levels:
        count = max(2, per_client // concurrency)

        async def raw(_: int) -> float:
            return await asyncio.to_thread(raw_docker_run, client, image, RAW_COMMANDS[key])

        values, seconds = await closed_loop(raw, concurrency, count)
        rows.append((f"docker run {key} hello", concurrency, values, seconds))
        if key == "c":

            async def bare(_: int) -> float:
                return await asyncio.to_thread(raw_docker_run, client, image, ["true"])

            values, seconds = await closed_loop(bare, concurrency, count)
            rows.append(("docker run (true, no program)", concurrency, values, seconds))
        for label, judge in judges.items():
            if key == "python" and label != "cache on":
                continue
            await pool_full(judge, key)

            async def submit(number: int, judge: JudgeManager = judge) -> float:
                return await one_submission(judge, f"bench-{number}", body)

            values, seconds = await closed_loop(submit, concurrency, count)
            name = f"judge {key}" + (f", compile cache {label[6:]}" if key == "c" else "")
            rows.append((name, concurrency, values, seconds))
    for label, judge in judges.items():
        if key == "python" and label != "cache on":
            continue
        warm: list[float] = []
        start = time.perf_counter()
        spent_waiting = 0.0
        for _ in range(per_client):
            before = time.perf_counter()
            await pool_full(judge, key)
            spent_waiting += time.perf_counter() - before
            warm.append(await one_submission(judge, "bench-warm", body))
        seconds = time.perf_counter() - start - spent_waiting
        name = f"judge {key}, warm, one at a time" + (f", cache {label[6:]}" if key == "c" else "")
        rows.append((name, 1, warm, seconds))
    return rows


async def main(
    per_client: int = PER_CLIENT,
    only: list[str] | None = None,
    levels: tuple[int, ...] = CONCURRENCY,
) -> None:
    """Run the judge benchmark and print its table."""
    client = docker.from_env(timeout=120)
    root = Path(tempfile.mkdtemp(prefix="bench-judge-"))
    judges: dict[str, JudgeManager] = {}
    try:
        judges["cache on"] = await open_judge(root / "cached", compile_cache=True)
        judges["cache off"] = await open_judge(root / "uncached", compile_cache=False)
        # One untimed submission each, so the cached judge holds the hello world's artefact.
        for judge in judges.values():
            for body in PROGRAMS.values():
                await one_submission(judge, "bench-warmup", body)
        rows: list[Row] = []
        for key in only or list(PROGRAMS):
            rows += await bench_language(key, judges, per_client, client, levels)
        hits = judges["cache on"].state()["compile_cache"]
        print_rows(
            f"judge: closed loop, {judges['cache on'].settings.worker_count()} workers, warm pool "
            f"{POOL_SIZE} per language; {cpu_model()}, {os.cpu_count()} cores, "
            f"load {os.getloadavg()[0]:.1f}; python {platform.python_version()}; "
            f"compile cache {hits}",
            rows,
        )
        warm_c = [r for r in rows if r[0].startswith("judge c, warm") and "cache on" in r[0]]
        if warm_c:
            p50 = statistics.median(warm_c[0][2])
            verdict = "met" if p50 < 300 else "NOT met"
            print(
                f"goal: C hello world p50 < 300 ms at concurrency 1, warm: {p50:.0f} ms, {verdict}"
            )
    finally:
        for judge in judges.values():
            await judge.stop()
            await judge.store.db.dispose()
        shutil.rmtree(root, ignore_errors=True)


def cli() -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-client", type=int, default=PER_CLIENT, help="submissions per client")
    parser.add_argument("--only", nargs="*", choices=sorted(PROGRAMS), help="languages")
    parser.add_argument("--concurrency", nargs="*", type=int, default=list(CONCURRENCY))
    args = parser.parse_args()
    asyncio.run(main(args.per_client, args.only, tuple(args.concurrency)))


if __name__ == "__main__":
    cli()
