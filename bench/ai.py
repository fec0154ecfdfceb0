"""AI proxy overhead: the same local OpenAI-format upstream called directly and through
jupyter-ide's /ide/api/ai/v1 endpoint, in one run.

Three processes: the upstream (tests/fakes/openai_server.py), a real `jupyter server` with
the extension (SQLite ledger, in-process quotas, policy and keys looked up per request), and
this load generator (aiohttp). Non-streaming latency and streaming time to first token, at
concurrency 1 and 32; the table's ratio is proxy / direct, and "added" is the difference of
the medians (p50) and of the p95s.
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
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from .stats import p95, print_table

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
WARMUP = 50
ROUNDS = {1: 400, 32: 32 * 25}
BODY = {"model": "echo", "messages": [{"role": "user", "content": "two plus two, briefly"}]}

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
c.IDESettings.redis_url = ""
c.AISettings.openai_base_url = {upstream!r}
c.AISettings.openai_api_key = "sk-bench-institution"
c.AISettings.routes = {{"echo": ["openai"]}}
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


async def one_request(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> float:
    """POST one whole completion; return milliseconds to the full answer."""
    start = time.perf_counter()
    async with session.post(url, json=BODY, headers=headers) as response:
        body = await response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: {response.status} {body[:200]!r}")
    return (time.perf_counter() - start) * 1000


async def first_token(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> float:
    """POST a streaming completion; return milliseconds to the first content chunk."""
    start = time.perf_counter()
    elapsed = 0.0
    async with session.post(url, json={**BODY, "stream": True}, headers=headers) as response:
        if response.status != 200:
            raise RuntimeError(f"{url}: {response.status}")
        async for line in response.content:
            if not elapsed and line.startswith(b"data: {") and b'"content"' in line:
                elapsed = (time.perf_counter() - start) * 1000
        # read to the end so the connection is reused, as a client would
    return elapsed


async def measure(
    probe: Callable[[aiohttp.ClientSession, str, dict[str, str]], Awaitable[float]],
    url: str,
    headers: dict[str, str],
    concurrency: int,
) -> list[float]:
    """Run ``ROUNDS[concurrency]`` probes with ``concurrency`` workers; return each time."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(WARMUP):
            await probe(session, url, headers)
        todo = ROUNDS[concurrency]
        results: list[float] = []

        async def worker() -> None:
            nonlocal todo
            while todo > 0:
                todo -= 1
                results.append(await probe(session, url, headers))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results


def write_config(tmp: Path, upstream: str) -> None:
    """Write the server's config file into ``tmp``/config."""
    (tmp / "config").mkdir()
    (tmp / "config" / "jupyter_server_config.py").write_text(
        CONFIG.format(token=TOKEN, db=f"sqlite:///{tmp}/ide.db", upstream=upstream)
    )


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a helper process, its output to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


async def main() -> None:
    """Start the upstream and a server, measure both paths, print the tables."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "JUPYTER_DATA_DIR": f"{tmp}/data",
            "JUPYTER_RUNTIME_DIR": f"{tmp}/runtime",
            "JUPYTER_CONFIG_DIR": f"{tmp}/config",
            "JUPYTER_IDE_SANDBOX": "local",
            "PYTHONPATH": str(ROOT),
        }
        up_port, ide_port = free_port(), free_port()
        upstream = f"http://127.0.0.1:{up_port}/v1"
        write_config(Path(tmp), upstream)
        logs = [Path(tmp) / "upstream.log", Path(tmp) / "server.log"]
        procs = [start([sys.executable, "-c", UPSTREAM, str(up_port)], env, logs[0])]
        procs.append(
            start(
                [
                    sys.executable,
                    "-m",
                    "jupyter_server",
                    f"--port={ide_port}",
                    "--ip=127.0.0.1",
                    f"--ServerApp.root_dir={tmp}",
                ],
                env,
                logs[1],
            )
        )
        try:
            await wait_for(f"http://127.0.0.1:{up_port}/v1/models")
            auth = {"Authorization": f"token {TOKEN}"}
            await wait_for(f"http://127.0.0.1:{ide_port}/ide/api/ai/v1/models", auth)
            direct = (f"{upstream}/chat/completions", {"Authorization": "Bearer sk-bench"})
            proxy = (f"http://127.0.0.1:{ide_port}/ide/api/ai/v1/chat/completions", auth)
            rows: dict[str, dict[str, list[float]]] = {}
            for concurrency in (1, 32):
                for label, probe in (("completion", one_request), ("stream TTFT", first_token)):
                    operation = f"{label}, c={concurrency}"
                    rows[operation] = {
                        "direct to upstream": await measure(probe, *direct, concurrency),
                        "through jupyter-ide": await measure(probe, *proxy, concurrency),
                    }
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
    print(f"\n{'added by the proxy':<28}{'p50 ms':>10}{'p95 ms':>10}")
    for operation, peers in rows.items():
        ours, theirs = peers["through jupyter-ide"], peers["direct to upstream"]
        added50 = statistics.median(ours) - statistics.median(theirs)
        print(f"{operation:<28}{added50:>10.3f}{p95(ours) - p95(theirs):>10.3f}")
    print(json.dumps({"rounds": ROUNDS, "warmup": WARMUP}))


if __name__ == "__main__":
    asyncio.run(main())
