"""AI proxy overhead: the same local OpenAI-format upstream called directly and through
jupyter-ide's /ide/api/ai/v1 endpoint, in one run.

Four processes: the upstream (tests/fakes/openai_server.py), two real `jupyter ide` servers
(SQLite ledger, policy and keys looked up per request; one keeps quotas in process, the
other in Redis as deployments do), and this load generator (aiohttp).

Non-streaming latency and streaming time to first token at concurrency 1 and 32, first
against an upstream that answers at once (the proxy's own cost; at 32, a closed loop that
measures how many requests a second one server process carries), then against a model that
takes ``THINK_MS`` to its first token, with requests sent at a steady rate that keeps 32 in
flight (an open loop: the same arrivals for every peer, so no peer's bursts shape another's).
Each operation measures the peers in a rotating order. The table's ratio is proxy / direct,
and "added" is the difference of the medians (p50) and of the p95s.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from .quick import quick
from .stats import p95, print_table

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
WARMUP = 5 if quick() else 50
ROUNDS = {1: 10, 32: 32 * 2} if quick() else {1: 400, 32: 32 * 25}
THINK_MS = int(os.environ.get("JUPYTER_IDE_BENCH_THINK_MS", "100"))  # model pace rows
MESSAGES = [{"role": "user", "content": "two plus two, briefly"}]
REDIS_URL = os.environ.get("JUPYTER_IDE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
Probe = Callable[[aiohttp.ClientSession, str, dict[str, str], str], Awaitable[float]]

UPSTREAM = """
import asyncio, sys
from tornado.httpserver import HTTPServer
from tests.fakes.openai_server import make_app
async def main():
    server = HTTPServer(make_app([]), xheaders=False)
    server.listen(int(sys.argv[1]), "127.0.0.1")
    await asyncio.Event().wait()
asyncio.run(main())
"""

CONFIG = """
c.IdentityProvider.token = {token!r}
c.ServerApp.open_browser = False
c.ServerApp.allow_root = True
c.ServerApp.jpserver_extensions = {{"jupyter_ide": True}}
c.ServerApp.log_level = "WARN"
c.IDESettings.db_url = {db!r}
c.IDESettings.redis_url = {redis!r}
c.AISettings.cache_namespace = {namespace!r}
c.AISettings.openai_base_url = {upstream!r}
c.AISettings.openai_api_key = "sk-bench-institution"
c.AISettings.routes = {{"echo": ["openai"], "think-{think}": ["openai"]}}
c.AISettings.requests_per_minute = 10**9
c.AISettings.daily_tokens = 10**12
c.AISettings.monthly_tokens = 10**12
"""


def free_port() -> int:
    """Return a free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_for(url: str, headers: dict[str, str] | None = None) -> None:
    """Wait until ``url`` answers (any status below 500)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(url, headers=headers) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def one_request(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], model: str
) -> float:
    """POST one whole completion; return milliseconds to the full answer."""
    start = time.perf_counter()
    request = {"model": model, "messages": MESSAGES}
    async with session.post(url, json=request, headers=headers) as response:
        answer = await response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: {response.status} {answer[:200]!r}")
    return (time.perf_counter() - start) * 1000


async def first_token(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], model: str
) -> float:
    """POST a streaming completion; return milliseconds to the first content chunk."""
    start = time.perf_counter()
    elapsed = 0.0
    body = {"model": model, "messages": MESSAGES, "stream": True}
    async with session.post(url, json=body, headers=headers) as response:
        if response.status != 200:
            raise RuntimeError(f"{url}: {response.status}")
        async for line in response.content:
            if not elapsed and line.startswith(b"data: {") and b'"content"' in line:
                elapsed = (time.perf_counter() - start) * 1000
        # read to the end so the connection is reused, as a client would
    return elapsed


async def measure(
    probe: Probe, url: str, headers: dict[str, str], model: str, concurrency: int
) -> list[float]:
    """Run ``ROUNDS[concurrency]`` probes with ``concurrency`` workers; return each time."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(WARMUP):
            await probe(session, url, headers, model)
        todo = ROUNDS[concurrency]
        results: list[float] = []

        async def worker() -> None:
            nonlocal todo
            while todo > 0:
                todo -= 1
                results.append(await probe(session, url, headers, model))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results


async def measure_paced(
    probe: Probe, url: str, headers: dict[str, str], model: str, in_flight: int
) -> list[float]:
    """Send ``2 * ROUNDS[in_flight]`` probes at the rate that keeps ``in_flight`` requests open
    against a model of ``THINK_MS``; return each time."""
    interval = THINK_MS / 1000 / in_flight
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def paced(count: int) -> list[float]:
            start = time.perf_counter()

            async def one(i: int) -> float:
                await asyncio.sleep(max(0.0, start + i * interval - time.perf_counter()))
                return await probe(session, url, headers, model)

            return list(await asyncio.gather(*(one(i) for i in range(count))))

        await paced(2 * in_flight)  # warm-up: open the connections
        return await paced(2 * ROUNDS[in_flight])


def write_config(config_dir: Path, upstream: str, redis: str) -> None:
    """Write a server's config file into ``config_dir``."""
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.py").write_text(
        CONFIG.format(
            token=TOKEN,
            db=f"sqlite:///{config_dir}/ide.db",
            upstream=upstream,
            redis=redis,
            namespace=f"bench-{uuid.uuid4().hex}",
            think=THINK_MS,
        )
    )


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a helper process, its output to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def start_server(
    tmp: Path, name: str, upstream: str, redis: str
) -> tuple[int, Path, subprocess.Popen[bytes]]:
    """Start a `jupyter ide` server; return its port, log and process."""
    port = free_port()
    config_dir = tmp / name
    write_config(config_dir, upstream, redis)
    env = {
        **os.environ,
        "JUPYTER_DATA_DIR": f"{tmp}/data",
        "JUPYTER_RUNTIME_DIR": f"{tmp}/runtime-{name}",
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_IDE_SANDBOX": "local",
        "PYTHONPATH": str(ROOT),
    }
    log = tmp / f"{name}.log"
    # `jupyter ide`, as `make run` and deployments start it (its identity provider, etc.).
    launch = "from jupyter_ide.server_extension.app import main; main()"
    args = [sys.executable, "-c", launch, f"--port={port}", "--ip=127.0.0.1"]
    return port, log, start([*args, f"--ServerApp.root_dir={tmp}"], env, log)


MODEL = f"think-{THINK_MS}"
SCENARIOS: list[tuple[str, Probe, int, str]] = [
    ("completion, c=1", one_request, 1, "echo"),
    ("stream TTFT, c=1", first_token, 1, "echo"),
    ("completion, c=32", one_request, 32, "echo"),
    ("stream TTFT, c=32", first_token, 32, "echo"),
    (f"completion, 32 open, {THINK_MS} ms model", one_request, 32, MODEL),
    (f"stream TTFT, 32 open, {THINK_MS} ms model", first_token, 32, MODEL),
]


async def main() -> None:
    """Start the upstream and both servers, measure every path, print the tables."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        up_port = free_port()
        upstream = f"http://127.0.0.1:{up_port}/v1"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        logs = [tmp / "upstream.log"]
        procs = [start([sys.executable, "-c", UPSTREAM, str(up_port)], env, logs[0])]
        peers: dict[str, tuple[str, dict[str, str]]] = {
            "direct to upstream": (f"{upstream}/chat/completions", {"Authorization": "Bearer sk"})
        }
        auth = {"Authorization": f"token {TOKEN}"}
        for peer, name, redis in (
            ("through jupyter-ide", "memory", ""),
            ("through jupyter-ide, Redis", "redis", REDIS_URL),
        ):
            port, log, proc = start_server(tmp, name, upstream, redis)
            procs.append(proc)
            logs.append(log)
            peers[peer] = (f"http://127.0.0.1:{port}/ide/api/ai/v1/chat/completions", auth)
        try:
            await wait_for(f"http://127.0.0.1:{up_port}/v1/models")
            for url, headers in list(peers.values())[1:]:
                await wait_for(url.replace("chat/completions", "models"), headers)
            rows: dict[str, dict[str, list[float]]] = {}
            names = list(peers)
            for turn, (operation, probe, concurrency, model) in enumerate(SCENARIOS):
                how = measure if model == "echo" else measure_paced
                measured = {}
                for peer in names[turn % len(names) :] + names[: turn % len(names)]:
                    url, headers = peers[peer]
                    measured[peer] = await how(probe, url, headers, model, concurrency)
                rows[operation] = {peer: measured[peer] for peer in names}
        except Exception:
            for log in logs:
                print(f"--- {log.name}", log.read_text()[-9000:], file=sys.stderr)
            raise
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(10)
    print_table(
        f"AI proxy overhead (Python {platform.python_version()}, {os.cpu_count()} CPUs; "
        "ratio = median / direct)",
        rows,
        baseline="direct to upstream",
    )
    print(f"\n{'added by the proxy':<40}{'quotas':<12}{'p50 ms':>10}{'p95 ms':>10}")
    for operation, measured in rows.items():
        theirs = measured["direct to upstream"]
        for peer, quotas in (
            ("through jupyter-ide", "in process"),
            ("through jupyter-ide, Redis", "Redis"),
        ):
            ours = measured[peer]
            added50 = statistics.median(ours) - statistics.median(theirs)
            added95 = p95(ours) - p95(theirs)
            print(f"{operation:<40}{quotas:<12}{added50:>10.3f}{added95:>10.3f}")
    print(json.dumps({"rounds": ROUNDS, "warmup": WARMUP, "think_ms": THINK_MS}))


if __name__ == "__main__":
    asyncio.run(main())
