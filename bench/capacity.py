"""Capacity: per-student costs measured on this machine, the inputs of the README's capacity plan.

One real `jupyter ide` server (Docker sandbox, PostgreSQL database of the bench's own, a private
``redis-server`` of the bench's own, the fake OpenAI upstream bench/ai.py uses) and, for the
grading run, an in-process JudgeManager as bench/judge.py opens it. Measured:

- memory per kernel: the cgroup (v1) ``memory.usage_in_bytes`` and ``rss`` of an idle
  ``ide-python`` kernel container and of the same kernel after a small workload, and of every
  warm box the server keeps (kernel warm pool, judge warm boxes);
- judge CPU per submission: the ``cpuacct.usage`` of every judge box of the server (polled while
  the submissions run; a box removed between two polls loses its last ~50 ms), plus the server
  process's own CPU (utime + stime from /proc) per submission, for a Python and a C hello world;
  and for a 10-case C grading run (run_cases, one box), the boxes' CPU and the bench process's;
- the server process's CPU per request (/proc), and database and Redis operations per request:
  pg_stat_database deltas (transactions, rows) on the bench's database, read from another
  database, and ``INFO commandstats`` deltas on the bench's Redis, with the idle background
  rate of the same window subtracted.

Run alone: ``.venv/bin/python -m bench.capacity``.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import docker
import psycopg
import redis

from jupyter_ide.kernels.profile import LABEL_KIND, LABEL_SERVER

from .ai import MESSAGES, UPSTREAM, free_port, start, wait_for
from .judge import open_judge
from .judge_scale import judge_grade
from .quick import quick
from .stats import p95

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("JUPYTER_IDE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUESTS = 3 if quick() else 40  # per cheap request kind, for the database and Redis counts
KERNELS = 1 if quick() else 3
SUBMISSIONS = 3 if quick() else 12
GRADED = 1 if quick() else 4
SETTLE = 1.5 if quick() else 11.0  # PostgreSQL 15 backends flush their counters within ~10 s idle
TOKEN = uuid.uuid4().hex
PY_HELLO = 'print("hello, world")\n'
C_HELLO = '#include <stdio.h>\nint main(void) { puts("hello, world"); return 0; }\n'
WORKLOAD = "x = [str(i) * 8 for i in range(200_000)]\nimport json\ns = json.dumps(x)\nlen(s)"
CGROUP = Path("/sys/fs/cgroup")
CGROUP_EXPRESSION = "open('/proc/self/cgroup').read()"
COLUMNS = ("server cpu ms", "xact_commit", "tup_returned", "tup_inserted", "tup_updated", "redis")
PG_FIELDS = (
    "xact_commit",
    "xact_rollback",
    "tup_returned",
    "tup_fetched",
    "tup_inserted",
    "tup_updated",
    "tup_deleted",
)

CONFIG = """
c.IdentityProvider.token = {token!r}
c.ServerApp.open_browser = False
c.ServerApp.allow_root = True
c.ServerApp.jpserver_extensions = {{"jupyter_ide": True}}
c.ServerApp.log_level = "WARN"
c.IDESettings.db_url = {db!r}
c.IDESettings.redis_url = {redis!r}
c.AISettings.openai_base_url = {upstream!r}
c.AISettings.openai_api_key = "sk-bench-institution"
c.AISettings.routes = {{"echo": ["openai"]}}
c.AISettings.requests_per_minute = 10**9
c.AISettings.daily_tokens = 10**12
c.AISettings.monthly_tokens = 10**12
c.JudgeSettings.submissions_per_minute = 0
c.JudgeSettings.warm_languages = "c,python"
"""


# -- counters read at the servers -----------------------------------------------------------


def pg_counters(conn: psycopg.Connection[Any], db: str) -> dict[str, int]:
    """Return the database's pg_stat_database counters (a fresh snapshot)."""
    conn.execute("SELECT pg_stat_clear_snapshot()")
    row = conn.execute(
        f"SELECT {', '.join(PG_FIELDS)} FROM pg_stat_database WHERE datname = %s", (db,)
    ).fetchone()
    assert row is not None, db
    return dict(zip(PG_FIELDS, (int(v) for v in row), strict=True))


def redis_calls(client: redis.Redis) -> int:
    """Return the number of commands the Redis server has run (INFO commandstats), less INFO."""
    stats = client.info("commandstats")
    return sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info")


def proc_cpu(pid: int) -> float:
    """Return a process's CPU seconds (utime + stime) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def container_memory(container_id: str) -> tuple[float, float]:
    """Return a container's cgroup v1 memory usage and rss, in MiB."""
    folder = CGROUP / "memory" / "docker" / container_id
    usage = int((folder / "memory.usage_in_bytes").read_text())
    stat = dict(line.split() for line in (folder / "memory.stat").read_text().splitlines())
    return usage / 2**20, int(stat.get("total_rss", stat.get("rss", "0"))) / 2**20


class BoxCPU:
    """Poll the cpuacct usage of the judge boxes that ``owns`` accepts, while they live."""

    def __init__(self, owns: Callable[[dict[str, str]], bool]) -> None:
        """Start polling in a thread."""
        self.owns = owns
        self.client = docker.from_env()
        self.known: dict[str, bool] = {}
        self.seen: dict[str, int] = {}
        self.base: dict[str, int] = {}
        self.stopping = threading.Event()
        self.poll(first=True)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def mine(self, cid: str) -> bool:
        """Whether the container is one of the boxes measured (asked of Docker once per id)."""
        if cid not in self.known:
            try:
                labels = self.client.containers.get(cid).labels
            except docker.errors.NotFound:
                labels = {}
            self.known[cid] = self.owns(labels)
        return self.known[cid]

    def poll(self, first: bool = False) -> None:
        """Read every container's cpuacct.usage once."""
        for path in (CGROUP / "cpuacct" / "docker").glob("*/cpuacct.usage"):
            cid = path.parent.name
            try:
                usage = int(path.read_text())
            except (OSError, ValueError):
                continue
            if first:
                self.base[cid] = usage
            elif self.mine(cid):
                self.seen[cid] = max(usage, self.seen.get(cid, 0))

    def run(self) -> None:
        """Poll every 50 ms until stopped."""
        while not self.stopping.wait(0.05):
            self.poll()

    def stop(self) -> float:
        """Stop; return the CPU seconds the boxes used since the start."""
        self.stopping.set()
        self.thread.join()
        return sum(v - self.base.get(cid, 0) for cid, v in self.seen.items()) / 1e9


# -- the server -----------------------------------------------------------------------------


class Server:
    """A `jupyter ide` server with its HTTP session."""

    def __init__(self, port: int, proc: subprocess.Popen[bytes], data: Path) -> None:
        """Keep the port, the process and its data dir."""
        self.base = f"http://127.0.0.1:{port}"
        self.proc = proc
        self.data = data
        self.headers = {"Authorization": f"token {TOKEN}"}
        self.session = aiohttp.ClientSession(headers=self.headers)

    async def server_id(self) -> str:
        """The id the server labels its containers with (written once its sandbox is up)."""
        for _ in range(600):
            found = list(self.data.rglob("server_id"))
            if found and found[0].read_text().strip():
                return found[0].read_text().strip()
            await asyncio.sleep(0.1)
        log = (self.data.parent / "server.log").read_text()[-3000:]
        raise RuntimeError(f"the server wrote no server_id in {self.data}:\n{log}")

    async def call(self, method: str, path: str, body: Any = None, ok: int = 200) -> Any:
        """Send one request, check the status, return the JSON answer."""
        async with self.session.request(method, self.base + path, json=body) as response:
            text = await response.text()
            if response.status != ok:
                raise RuntimeError(f"{method} {path}: {response.status} {text[:300]}")
            return json.loads(text) if text else None

    async def execute(
        self, kernel_id: str, code: str, expressions: dict[str, str] | None = None
    ) -> Any:
        """Run one cell through the server's websocket; return its ok reply's user_expressions."""
        url = f"{self.base.replace('http', 'ws')}/api/kernels/{kernel_id}/channels"
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": "execute_request",
            "username": "bench",
            "session": uuid.uuid4().hex,
            "date": "",
            "version": "5.3",
        }
        content = {
            "code": code,
            "silent": False,
            "store_history": False,
            "user_expressions": expressions or {},
            "allow_stdin": False,
        }
        message = {
            "header": header,
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": "shell",
        }
        async with self.session.ws_connect(url) as ws:
            await ws.send_str(json.dumps(message))
            async with asyncio.timeout(120):
                async for frame in ws:
                    reply = json.loads(frame.data)
                    if (
                        reply.get("channel") == "shell"
                        and reply["parent_header"].get("msg_id") == msg_id
                    ):
                        if reply["content"].get("status") != "ok":
                            raise RuntimeError(f"execute failed: {reply['content']}")
                        return reply["content"].get("user_expressions", {})
        raise RuntimeError("the kernel's websocket closed before the reply")


async def start_server(tmp: Path, db_url: str, redis_url: str, upstream: str) -> Server:
    """Start `jupyter ide` as bench/ai.py does, with the Docker sandbox."""
    config_dir = tmp / "config"
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.py").write_text(
        CONFIG.format(token=TOKEN, db=db_url, redis=redis_url, upstream=upstream)
    )
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_DATA_DIR": f"{tmp}/data",
        "JUPYTER_RUNTIME_DIR": f"{tmp}/runtime",
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("JUPYTER_IDE_SANDBOX", None)
    (tmp / "root").mkdir()
    launch = "from jupyter_ide.server_extension.app import main; main()"
    args = [sys.executable, "-c", launch, f"--port={port}", "--ip=127.0.0.1"]
    proc = start([*args, f"--ServerApp.root_dir={tmp / 'root'}"], env, tmp / "server.log")
    server = Server(port, proc, tmp / "data")
    await wait_for(f"{server.base}/api/status", server.headers)
    return server


# -- measurements ---------------------------------------------------------------------------


async def counted(
    name: str,
    operation: Callable[[int], Awaitable[object]],
    rounds: int,
    counters: Callable[[], dict[str, float]],
    idle: dict[str, float],
) -> dict[str, float]:
    """Run ``operation`` ``rounds`` times; return the counters' deltas per request."""
    before, t0 = counters(), time.perf_counter()
    for i in range(rounds):
        await operation(i)
    await asyncio.sleep(SETTLE)
    after, seconds = counters(), time.perf_counter() - t0
    print(f"  counted {name}: {rounds} requests in {seconds:.1f} s", file=sys.stderr)
    return {k: (after[k] - before[k] - idle[k] * seconds) / rounds for k in COLUMNS}


async def idle_rates(counters: Callable[[], dict[str, float]]) -> dict[str, float]:
    """The background rate per second (liveness, pools, flushes) while no request is made."""
    before, t0 = counters(), time.perf_counter()
    await asyncio.sleep(SETTLE * 2)
    after, seconds = counters(), time.perf_counter() - t0
    return {k: (after[k] - before[k]) / seconds for k in COLUMNS}


async def kernel_memory(server: Server, client: docker.DockerClient) -> dict[str, list[float]]:
    """Start kernels; read their memory idle and after the workload; shut them down."""
    out: dict[str, list[float]] = {k: [] for k in ("idle", "idle rss", "worked", "worked rss")}
    for _ in range(KERNELS):
        kernel = await server.call("POST", "/api/kernels", {"name": "ide-python"}, ok=201)
        try:
            where = await server.execute(kernel["id"], "1", {"cgroup": CGROUP_EXPRESSION})
            await asyncio.sleep(2)
            box = client.containers.get(container_of(where["cgroup"]["data"]["text/plain"]))
            usage, rss = container_memory(box.id)
            out["idle"].append(usage)
            out["idle rss"].append(rss)
            await server.execute(kernel["id"], WORKLOAD)
            await asyncio.sleep(1)
            usage, rss = container_memory(box.id)
            out["worked"].append(usage)
            out["worked rss"].append(rss)
        finally:
            await server.call("DELETE", f"/api/kernels/{kernel['id']}", ok=204)
    return out


def container_of(cgroup: str) -> str:
    """The container id in a kernel's /proc/self/cgroup (cgroup v1: .../docker/<id>)."""
    for line in cgroup.strip("'\"").split("\\n"):
        if ":memory:" in line and "/docker/" in line:
            return line.rsplit("/docker/", 1)[1].strip()
    raise RuntimeError(f"no docker memory cgroup in {cgroup!r}")


def warm_box_memory(client: docker.DockerClient, server_id: str) -> dict[str, list[float]]:
    """Memory of every warm box of the server, by its kind label."""
    out: dict[str, list[float]] = {}
    for box in client.containers.list(filters={"label": f"{LABEL_SERVER}={server_id}"}):
        kind = box.labels.get(LABEL_KIND, "?")
        out.setdefault(kind, []).append(container_memory(box.id)[0])
    return out


async def judge_cpu(server: Server, server_id: str, body: dict[str, Any]) -> tuple[float, float]:
    """Submit and wait, one at a time; return box CPU ms and server CPU ms per submission."""
    await server.call("POST", "/ide/api/judge/submissions?wait=true", body, ok=201)  # warm-up
    await asyncio.sleep(2)  # the refill after the warm-up boots outside the window
    boxes = BoxCPU(
        lambda labels: labels.get(LABEL_SERVER) == server_id and labels.get(LABEL_KIND) == "judge"
    )
    cpu0 = proc_cpu(server.proc.pid)
    for number in range(SUBMISSIONS):
        # a new source each time: every C submission compiles (no compile-cache hit)
        fresh = {**body, "source_code": body["source_code"] + f"\n// {number}\n"}
        if body["language_id"] == 71:
            fresh["source_code"] = body["source_code"] + f"# {number}\n"
        answer = await server.call("POST", "/ide/api/judge/submissions?wait=true", fresh, ok=201)
        assert "hello" in (answer.get("stdout") or ""), answer
    await asyncio.sleep(2)  # the refills the submissions began
    server_ms = (proc_cpu(server.proc.pid) - cpu0) * 1000 / SUBMISSIONS
    return boxes.stop() * 1000 / SUBMISSIONS, server_ms


async def grading_cpu(tmp: Path) -> tuple[float, float]:
    """10-case C grading runs in one box each; return box and bench-process CPU ms per run."""
    root = tmp / "grading"
    root.mkdir()
    judge = await open_judge(root, compile_cache=False)
    try:
        await judge_grade(judge, 10_000)  # warm-up
        await asyncio.sleep(2)
        boxes = BoxCPU(
            lambda labels: labels.get(LABEL_KIND) == "judge" and not labels.get(LABEL_SERVER)
        )
        cpu0 = proc_cpu(os.getpid())
        for number in range(GRADED):
            await judge_grade(judge, number)
        await asyncio.sleep(2)
        own = (proc_cpu(os.getpid()) - cpu0) * 1000 / GRADED
        return boxes.stop() * 1000 / GRADED, own
    finally:
        await judge.stop()


def start_redis(tmp: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """Start a private redis-server (no persistence); return its URL and process."""
    port = free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    proc = start(
        [*args, "--appendonly", "no", "--dir", str(tmp)], dict(os.environ), tmp / "redis.log"
    )
    return f"redis://127.0.0.1:{port}/0", proc


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Stop the helper processes, the last started first."""
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def fmt(values: list[float]) -> str:
    """Median and p95 (p95 only with enough values)."""
    median = statistics.median(values)
    tail = f"{p95(values):>10.1f}" if len(values) >= 2 else f"{'':>10}"
    return f"{median:>10.1f}{tail}"


async def main() -> None:
    """Start the parts, measure, print the tables."""
    db = f"bench_capacity_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(PG_ADMIN, autocommit=True)
    admin.execute(f'CREATE DATABASE "{db}"')
    procs: list[subprocess.Popen[bytes]] = []
    client = docker.from_env()
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            redis_url, redis_proc = start_redis(tmp)
            procs.append(redis_proc)
            up_port = free_port()
            upstream = f"http://127.0.0.1:{up_port}/v1"
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            procs.append(start([sys.executable, "-c", UPSTREAM, str(up_port)], env, tmp / "up.log"))
            db_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
            server = await start_server(tmp, db_url, redis_url, upstream)
            procs.append(server.proc)
            try:
                await measure(server, tmp, db, redis_url, client)
            finally:
                await server.session.close()
                stop(procs)
    finally:
        stop(procs)
        admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.close()


async def measure(
    server: Server, tmp: Path, db: str, redis_url: str, client: docker.DockerClient
) -> None:
    """Every measurement against the started server; print the tables."""
    # read from another database, so that reading the counters does not add to them
    pg = psycopg.connect(PG_ADMIN, autocommit=True)
    rds = redis.Redis.from_url(redis_url)
    server_id = await server.server_id()
    await wait_for(f"{upstream_of(server)}", server.headers)
    # let the warm pools fill before anything is counted or weighed
    await asyncio.sleep(5 if quick() else 15)
    warm = warm_box_memory(client, server_id)

    def counters() -> dict[str, float]:
        values: dict[str, float] = {**pg_counters(pg, db), "redis": redis_calls(rds)}
        values["server cpu ms"] = proc_cpu(server.proc.pid) * 1000
        return values

    idle = await idle_rates(counters)

    async def save(i: int) -> None:
        body = {"type": "file", "format": "text", "content": f"print({i})\n" * 20}
        await server.call("PUT", f"/api/contents/f{i % 5}.py", body, ok=200 if i >= 5 else 201)

    async def listing(_: int) -> None:
        await server.call("GET", "/api/contents/?content=1")

    async def kernel_start(_: int) -> None:
        kernel = await server.call("POST", "/api/kernels", {"name": "ide-python"}, ok=201)
        await server.call("DELETE", f"/api/kernels/{kernel['id']}", ok=204)

    async def submission(_: int) -> None:
        body = {"language_id": 71, "source_code": PY_HELLO}
        await server.call("POST", "/ide/api/judge/submissions?wait=true", body, ok=201)

    async def chat(_: int) -> None:
        body = {"model": "echo", "messages": MESSAGES}
        await server.call("POST", "/ide/api/ai/v1/chat/completions", body)

    ops: dict[str, dict[str, float]] = {}
    for name, operation, rounds in (
        ("contents save (PUT)", save, REQUESTS),
        ("contents list (GET dir)", listing, REQUESTS),
        ("kernel start + shutdown", kernel_start, 2 if quick() else 4),
        ("judge submission (python)", submission, SUBMISSIONS),
        ("AI chat completion", chat, REQUESTS),
    ):
        ops[name] = await counted(name, operation, rounds, counters, idle)

    memory = await kernel_memory(server, client)
    py_box, py_server = await judge_cpu(
        server, server_id, {"language_id": 71, "source_code": PY_HELLO}
    )
    c_box, c_server = await judge_cpu(
        server, server_id, {"language_id": 50, "source_code": C_HELLO}
    )
    grade_box, grade_own = await grading_cpu(tmp)
    pg.close()
    rds.close()

    load = os.getloadavg()
    print(
        f"\ncapacity: per-student costs on {os.cpu_count()} cores, load {load[0]:.1f}/"
        f"{load[1]:.1f}/{load[2]:.1f}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        " (a shared, busy machine)"
    )
    print(f"{'memory per container (MiB)':<44}{'median':>10}{'p95':>10}{'n':>5}")
    for label, key in (
        ("ide-python kernel, idle (usage)", "idle"),
        ("ide-python kernel, idle (rss)", "idle rss"),
        ("ide-python kernel, after workload (usage)", "worked"),
        ("ide-python kernel, after workload (rss)", "worked rss"),
    ):
        print(f"{label:<44}{fmt(memory[key])}{len(memory[key]):>5}")
    for kind, values in sorted(warm.items()):
        print(f"{'warm box, kind ' + kind + ' (usage)':<44}{fmt(values)}{len(values):>5}")
    print(f"\n{'CPU per submission (ms)':<44}{'boxes':>10}{'process':>10}")
    print(f"{'judge python hello (server process)':<44}{py_box:>10.1f}{py_server:>10.1f}")
    print(f"{'judge C hello, compiled (server process)':<44}{c_box:>10.1f}{c_server:>10.1f}")
    print(f"{'grading C, 10 cases, one box (bench proc.)':<44}{grade_box:>10.1f}{grade_own:>10.1f}")
    print("\nper request (the idle rate of the same window subtracted)")
    print(f"{'request':<30}" + "".join(f"{c:>14}" for c in COLUMNS))
    for name, counts in ops.items():
        print(f"{name:<30}" + "".join(f"{counts[c]:>14.1f}" for c in COLUMNS))
    print(f"{'idle, per second':<30}" + "".join(f"{idle[c]:>14.2f}" for c in COLUMNS))


def upstream_of(server: Server) -> str:
    """The AI proxy's models URL on the server (it answers once the proxy is up)."""
    return f"{server.base}/ide/api/ai/v1/models"


if __name__ == "__main__":
    asyncio.run(main())
