"""AI proxy scale-out: jupyter-ide with one and two processes (behind haproxy) beside LiteLLM.

The same local OpenAI-format upstream (tests/fakes/openai_server.py, answering at once) is
called directly, through one `jupyter ide` process, through two behind haproxy (the README's
config, tests/balancer.py), and through LiteLLM's proxy (PyPI ``litellm[proxy]``, installed
into a venv of its own under the user's cache folder, never into ours). Both jupyter-ide
processes share PostgreSQL (ledger) and Redis (per-user limits); LiteLLM counts its limits in
the same Redis (its router's per-deployment rpm: per-key limits need its own database).

Two figures per peer: the added latency at c=1 (median and p95 of peer minus direct), and the
capacity, the highest offered rate (an open loop, requests sent at a steady pace) at which
the p95 added over direct at that rate stays under 50 ms and no request fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import aiohttp

from .ai import (
    CONFIG,
    ROOT,
    THINK_MS,
    TOKEN,
    UPSTREAM,
    free_port,
    one_request,
    start,
    wait_for,
)
from .peer_venvs import CACHE, peer_venv
from .quick import quick, skipped
from .stats import p95

C1_ROUNDS = 20 if quick() else 300
RATES = (20, 40) if quick() else (25, 50, 100, 200, 300, 400, 600)
SECONDS_PER_RATE = 1.0 if quick() else 4.0
ADDED_P95_LIMIT = 50.0  # ms: the capacity is the highest rate under this
REDIS_URL = os.environ.get("JUPYTER_IDE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
LITELLM_SPEC = "litellm[proxy]"
LITELLM_KEY = "sk-bench-master"

LITELLM_CONFIG = """\
model_list:
  - model_name: echo
    litellm_params:
      model: openai/echo
      api_base: {upstream}
      api_key: sk-bench-institution
      rpm: 1000000000
router_settings:
  routing_strategy: usage-based-routing-v2
  redis_host: 127.0.0.1
  redis_port: 6379
general_settings:
  master_key: {key}
litellm_settings:
  telemetry: false
  turn_off_message_logging: true
"""


def litellm_binary() -> Path | None:
    """Return LiteLLM's CLI from its own venv under the cache folder, installing it once."""
    venv = peer_venv("litellm", LITELLM_SPEC, install=not quick())
    if venv is None:
        skipped("LiteLLM's proxy", f"not installed yet in {CACHE / 'litellm'}; a full run does")
        return None
    return venv / "bin" / "litellm"


async def paced(url: str, headers: dict[str, str], rate: int) -> tuple[list[float], int]:
    """Send ``rate`` requests a second for SECONDS_PER_RATE; return the times and failures."""
    count = max(10, int(rate * SECONDS_PER_RATE))
    interval = 1 / rate
    failures = 0
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for _ in range(5):  # open a connection or two first
            await one_request(session, url, headers, "echo")
        begin = time.perf_counter()

        async def one(i: int) -> float | None:
            nonlocal failures
            await asyncio.sleep(max(0.0, begin + i * interval - time.perf_counter()))
            try:
                return await one_request(session, url, headers, "echo")
            except (aiohttp.ClientError, RuntimeError, asyncio.TimeoutError):
                failures += 1
                return None

        times = await asyncio.gather(*(one(i) for i in range(count)))
    return [t for t in times if t is not None], failures


async def wait_up(url: str, headers: dict[str, str], proc: subprocess.Popen[bytes]) -> None:
    """Wait until ``url`` is served (a busy machine: up to two minutes)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"the process behind {url} exited")
            try:
                async with session.get(url, headers=headers) as response:
                    if response.status < 500 and response.status != 404:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


async def serial(url: str, headers: dict[str, str]) -> list[float]:
    """Send C1_ROUNDS requests one after another; return each time."""
    async with aiohttp.ClientSession() as session:
        for _ in range(10):
            await one_request(session, url, headers, "echo")
        return [await one_request(session, url, headers, "echo") for _ in range(C1_ROUNDS)]


@contextmanager
def fresh_database() -> Iterator[str]:
    """A PostgreSQL database for the two jupyter-ide processes' shared ledger."""
    from tests.hubfixture import fresh_postgres

    with fresh_postgres() as url:
        yield url


def start_ide(tmp: Path, name: str, upstream: str, db: str, namespace: str) -> tuple[int, Path]:
    """Write a `jupyter ide` config and return its port and config dir (not started yet)."""
    port = free_port()
    config_dir = tmp / name
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.py").write_text(
        CONFIG.format(
            token=TOKEN,
            db=db,
            upstream=upstream,
            redis=REDIS_URL,
            namespace=namespace,
            think=THINK_MS,
        )
    )
    return port, config_dir


def ide_process(tmp: Path, name: str, port: int, config_dir: Path) -> subprocess.Popen[bytes]:
    """Start one `jupyter ide` process on ``port`` with ``config_dir``."""
    env = {
        **os.environ,
        "JUPYTER_DATA_DIR": f"{tmp}/data-{name}",
        "JUPYTER_RUNTIME_DIR": f"{tmp}/runtime-{name}",
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_IDE_SANDBOX": "local",
        "PYTHONPATH": str(ROOT),
    }
    launch = "from jupyter_ide.server_extension.app import main; main()"
    args = [sys.executable, "-c", launch, f"--port={port}", "--ip=127.0.0.1"]
    return start([*args, f"--ServerApp.root_dir={tmp}"], env, tmp / f"{name}.log")


def litellm_process(
    tmp: Path, binary: Path, upstream: str, workers: int
) -> tuple[int, subprocess.Popen[bytes]]:
    """Start LiteLLM's proxy with ``workers`` worker processes; return its port and process."""
    port = free_port()
    config = tmp / f"litellm-{workers}.yaml"
    config.write_text(LITELLM_CONFIG.format(upstream=upstream, key=LITELLM_KEY))
    env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no download of its price list at start
        "LITELLM_TELEMETRY": "False",
        "LITELLM_LOG": "ERROR",
    }
    args = [str(binary), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    args += ["--num_workers", str(workers)]
    return port, start(args, env, tmp / f"litellm-{workers}.log")


def print_logs(tmp: Path) -> None:
    """Print the end of every peer's log (a failed run)."""
    for log in sorted(tmp.glob("*.log")):
        print(f"--- {log.name}", log.read_text(errors="replace")[-6000:], file=sys.stderr)


def summary(direct: list[float], ours: list[float]) -> tuple[float, float]:
    """Return the added median and p95 of ``ours`` over ``direct``."""
    return statistics.median(ours) - statistics.median(direct), p95(ours) - p95(direct)


async def main() -> None:
    """Start every peer, measure c=1 and the paced rates, print the table."""
    from tests.balancer import haproxy

    with tempfile.TemporaryDirectory() as tmp_name, ExitStack() as stack:
        tmp = Path(tmp_name)
        procs: list[subprocess.Popen[bytes]] = []
        up_port = free_port()
        upstream = f"http://127.0.0.1:{up_port}/v1"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        procs.append(start([sys.executable, "-c", UPSTREAM, str(up_port)], env, tmp / "up.log"))
        db = stack.enter_context(fresh_database())
        namespace = f"bench-scale-{uuid.uuid4().hex}"
        ours = {"Authorization": f"token {TOKEN}"}
        peers: dict[str, tuple[str, dict[str, str]]] = {
            "direct to upstream": (f"{upstream}/chat/completions", {"Authorization": "Bearer sk"})
        }
        ports = []
        for n in range(2):  # one after the other: the first one migrates the fresh database
            port, config_dir = start_ide(tmp, f"ide{n}", upstream, db, namespace)
            procs.append(ide_process(tmp, f"ide{n}", port, config_dir))
            ports.append(port)
            await wait_up(f"http://127.0.0.1:{port}/ide/api/ai/v1/models", ours, procs[-1])
        path = "/ide/api/ai/v1/chat/completions"
        peers["jupyter-ide, 1 process"] = (f"http://127.0.0.1:{ports[0]}{path}", ours)
        binary = litellm_binary()
        if binary is not None:
            port, proc = litellm_process(tmp, binary, upstream, 1)
            procs.append(proc)
            litellm = {"Authorization": f"Bearer {LITELLM_KEY}"}
            peers["LiteLLM proxy, 1 worker"] = (
                f"http://127.0.0.1:{port}/v1/chat/completions",
                litellm,
            )
        try:
            await wait_for(f"{upstream}/models")
            if binary is not None:
                url, headers = peers["LiteLLM proxy, 1 worker"]
                await wait_up(url.replace("chat/completions", "models"), headers, procs[3])
            front = stack.enter_context(
                haproxy(tmp, free_port(), [f"127.0.0.1:{p}" for p in ports])
            )
            peers["jupyter-ide, 2 processes + haproxy"] = (f"{front.url}{path}", ours)
            names = list(peers)
            c1 = {}
            for peer in names:
                url, headers = peers[peer]
                c1[peer] = await serial(url, headers)
            by_rate: dict[int, dict[str, tuple[list[float], int]]] = {}
            for turn, rate in enumerate(RATES):
                order = names[turn % len(names) :] + names[: turn % len(names)]
                by_rate[rate] = {}
                for peer in order:
                    url, headers = peers[peer]
                    by_rate[rate][peer] = await paced(url, headers, rate)
        except Exception:
            print_logs(tmp)
            raise
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
    print_report(c1, by_rate)


def print_report(
    c1: dict[str, list[float]], by_rate: dict[int, dict[str, tuple[list[float], int]]]
) -> None:
    """Print the c=1 added latency and each rate's p95 added, then each peer's capacity."""
    direct = "direct to upstream"
    print(
        f"\nAI proxy scale-out (Python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"non-streaming completions, upstream answers at once)"
    )
    print(f"{'peer':<38}{'c=1 p50':>9}{'added p50':>11}{'added p95':>11}{'capacity/s':>12}")
    capacity: dict[str, int] = {}
    for peer in c1:
        if peer == direct:
            continue
        best = 0
        for rate, measured in sorted(by_rate.items()):  # up to the first rate it misses
            times, failures = measured[peer]
            base, _ = measured[direct]
            if failures or not times or p95(times) - p95(base) >= ADDED_P95_LIMIT:
                break
            best = rate
        capacity[peer] = best
        added50, added95 = summary(c1[direct], c1[peer])
        print(
            f"{peer:<38}{statistics.median(c1[peer]):>9.2f}{added50:>11.2f}{added95:>11.2f}"
            f"{best:>12}"
        )
    print(f"{direct:<38}{statistics.median(c1[direct]):>9.2f}")
    print(f"\n{'p95 added at offered rate (ms)':<38}" + "".join(f"{r:>9}/s" for r in by_rate))
    for peer in capacity:
        cells = []
        for measured in by_rate.values():
            times, failures = measured[peer]
            base, _ = measured[direct]
            added = p95(times) - p95(base) if len(times) >= 2 else float("nan")
            cells.append(f"{added:>9.1f}" + ("!" if failures else " "))
        print(f"{peer:<38}" + " ".join(cells))
    print("(! = some requests failed at that rate; capacity counts only rates with none)")
    print(
        f"capacity = highest offered rate with p95 added < {ADDED_P95_LIMIT:.0f} ms and no "
        "failure, at it and at every lower rate"
    )
    print(json.dumps({"c1_rounds": C1_ROUNDS, "rates": RATES, "seconds": SECONDS_PER_RATE}))


if __name__ == "__main__":
    asyncio.run(main())
