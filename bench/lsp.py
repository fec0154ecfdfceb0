"""Language servers: ours (pylsp in a sandbox container) against jupyterlab-lsp's way.

Peers, in one run on this machine, each a `jupyter server` process of its own:
- jupyter-lsp + host pylsp: jupyter-lsp's extension (jupyter_ide off) starting the same
  python-lsp-server (same version and plugins, from a venv of its own) on the host;
- jupyter-ide: our /lsp routes, pylsp in a sandbox container (the python image).

Both are spoken to the same way, as a browser does: jupyter-lsp's websocket, one JSON-RPC
message per frame. Measured:
- cold open: connect, initialize, open a Python file, until its first diagnostics, on a
  server process that has no language server yet (each round a fresh `jupyter server`), with
  no warm-up at all;
- page open, then a file: from the same starting point for both peers, a fresh `jupyter
  server` whose /ide page has just opened. jupyter-ide's page asks for its servers at once
  (POST /lsp/warm, as labextension/src/lsp/warm.ts does; jupyterlab-lsp starts nothing before a
  document opens). The file is opened THINK seconds later (a user finding it), or at once;
  timed from the open and from the page's start until the first diagnostics;
- open: a new file opened in a running session, until its first diagnostics;
- completion: ``os.pa`` completed (``path``), round trip, p50 and p95.
Rounds alternate the peers so a shared machine's load falls on both alike.

Run alone: ``.venv/bin/python -m bench.lsp [--cold N] [--opens N] [--completions N] [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from .peer_venvs import peer_venv
from .quick import quick, skipped
from .stats import p95, print_table

PYLSP = "python-lsp-server[pyflakes,pycodestyle]==1.15.0"  # as in the python image
BIN = Path(sys.executable).parent
CODE = "import os\nos.pa\nprint(undefined_name)\nx=1\n"
HOST, OURS = "jupyter-lsp + host pylsp", "jupyter-ide (sandboxed pylsp)"
THINK = 3.0  # seconds between the page opening and the user opening a file


@dataclass
class Server:
    """A running `jupyter server`: its URL and token."""

    url: str
    token: str
    process: subprocess.Popen[bytes]
    home: Path

    def warm(self) -> None:
        """POST /lsp/warm for python, as the /ide page does when it opens."""
        request = urllib.request.Request(
            f"{self.url}/lsp/warm",
            data=json.dumps({"languages": ["python"]}).encode(),
            headers={"Authorization": f"token {self.token}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=120) as reply:
            reply.read()

    def status(self) -> dict[str, Any]:
        """GET /lsp/status."""
        request = urllib.request.Request(
            f"{self.url}/lsp/status", headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            return dict(json.loads(reply.read()))

    async def socket(self) -> WebSocketClientConnection:
        """Open /lsp/ws/pylsp."""
        url = "ws" + self.url.removeprefix("http") + "/lsp/ws/pylsp"
        headers = {"Authorization": f"token {self.token}"}
        return await websocket_connect(HTTPRequest(url, headers=headers, request_timeout=120))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def jupyter_server(peer: str, pylsp_bin: Path | None) -> Iterator[Server]:
    """Run one peer's `jupyter server` in a fresh HOME; stop it (and its sandboxes) after."""
    home = Path(tempfile.mkdtemp(prefix="bench-lsp-"))
    (home / "root").mkdir()
    port, token = _free_port(), os.urandom(16).hex()
    args = [
        str(BIN / "jupyter"),
        "server",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--no-browser",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={home / 'root'}",
        "--SandboxManager.pool_size=0",
        *(["--allow-root"] if os.geteuid() == 0 else []),
    ]
    if peer == HOST:
        assert pylsp_bin is not None
        servers = {
            "pylsp": {
                "argv": [str(pylsp_bin)],
                "languages": ["python"],
                "version": 2,
                "display_name": "pylsp (host)",
                "mime_types": ["text/python", "text/x-ipython"],
            }
        }
        # The spec goes in a config file: jupyter-lsp's schema trait takes no command line.
        config = {"LanguageServerManager": {"autodetect": False, "language_servers": servers}}
        (home / ".jupyter").mkdir()
        (home / ".jupyter" / "jupyter_server_config.json").write_text(json.dumps(config))
        args.append('--ServerApp.jpserver_extensions={"jupyter_ide": False, "jupyter_lsp": True}')
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "JUPYTER_IDE_SANDBOX": "docker",
        **{k: v for k, v in os.environ.items() if k.startswith("DOCKER_")},
    }
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(
        args, env=env, cwd=home, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    server = Server(f"http://127.0.0.1:{port}", token, process, home)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                server.status()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{peer}: jupyter server did not start:\n"
                        + (home / "server.log").read_text()[-3000:]
                    ) from None
                time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(home, ignore_errors=True)


class Client:
    """Requests and notifications on one /lsp/ws socket."""

    def __init__(self, ws: WebSocketClientConnection) -> None:
        """Speak over ``ws``."""
        self.ws = ws
        self.ids = itertools.count(1)

    def send(self, message: dict[str, Any]) -> None:
        """Send one message."""
        self.ws.write_message(json.dumps({"jsonrpc": "2.0", **message}))

    async def until(self, match: Any) -> dict[str, Any]:
        """Read until a message ``match`` accepts (answering the server's own requests)."""
        async with asyncio.timeout(120):
            while True:
                raw = await self.ws.read_message()
                if raw is None:
                    raise RuntimeError(f"socket closed: {self.ws.close_reason}")
                message = json.loads(raw)
                if "method" in message and "id" in message:
                    self.send({"id": message["id"], "result": None})
                if match(message):
                    return message

    async def request(self, method: str, params: Any) -> dict[str, Any]:
        """Send a request; return its answer."""
        request_id = next(self.ids)
        self.send({"id": request_id, "method": method, "params": params})
        return await self.until(lambda m: m.get("id") == request_id and "method" not in m)

    async def initialize(self, root: str) -> None:
        """Initialize the server for ``root``."""
        capabilities = {"textDocument": {"publishDiagnostics": {}, "completion": {}}}
        params = {"processId": None, "rootUri": root, "capabilities": capabilities}
        await self.request("initialize", params)
        self.send({"method": "initialized", "params": {}})

    async def open_until_diagnostics(self, uri: str) -> None:
        """Open ``uri`` with CODE; return once its first non-empty diagnostics arrive."""
        document = {"uri": uri, "languageId": "python", "version": 1, "text": CODE}
        self.send({"method": "textDocument/didOpen", "params": {"textDocument": document}})
        await self.until(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] == uri
                and bool(m["params"]["diagnostics"])
            )
        )

    async def complete(self, uri: str) -> None:
        """Complete ``os.pa``; check ``path`` is offered."""
        params = {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 5}}
        reply = await self.request("textDocument/completion", params)
        result = reply.get("result") or []
        items = result["items"] if isinstance(result, dict) else result
        if "path" not in {item["label"] for item in items}:
            raise RuntimeError(f"no completion 'path' in {reply}")


def _root(server: Server) -> str:
    """The root URI the browser would use (ours: /lsp/status; jupyter-lsp: the root dir)."""
    status = server.status()
    return str(status.get("root_uri") or f"file://{server.home / 'root'}")


async def cold_open(peer: str, pylsp_bin: Path | None) -> float:
    """Start a server process; time connect + initialize + open until first diagnostics."""
    with jupyter_server(peer, pylsp_bin) as server:
        root = _root(server)
        started = time.perf_counter()
        client = Client(await server.socket())
        await client.initialize(root)
        await client.open_until_diagnostics(f"{root}/cold.py")
        took = (time.perf_counter() - started) * 1000
        client.ws.close()
        return took


async def page_then_open(peer: str, pylsp_bin: Path | None, think: float) -> tuple[float, float]:
    """A fresh server, its page opens; ``think`` s later a file: (open, page) -> diagnostics."""
    with jupyter_server(peer, pylsp_bin) as server:
        root = _root(server)
        page = time.perf_counter()
        warming = asyncio.ensure_future(asyncio.to_thread(server.warm)) if peer == OURS else None
        await asyncio.sleep(think)
        opened = time.perf_counter()
        client = Client(await server.socket())
        await client.initialize(root)
        await client.open_until_diagnostics(f"{root}/cold.py")
        done = time.perf_counter()
        if warming is not None:
            await warming
        client.ws.close()
        return (done - opened) * 1000, (done - page) * 1000


def throttling(server: Server) -> str:
    """The CPU quota's throttling counters of the server's pylsp container (cgroup v1 or v2)."""
    found = subprocess.run(
        ["docker", "ps", "-q", "--filter", "label=jupyter-ide.lsp-server=pylsp"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    for container in found:
        for path in ("/sys/fs/cgroup/cpu/cpu.stat", "/sys/fs/cgroup/cpu.stat"):
            stat = subprocess.run(
                ["docker", "exec", container, "cat", path],
                capture_output=True,
                text=True,
                check=False,
            )
            if stat.returncode == 0:
                counters = dict(line.split() for line in stat.stdout.splitlines() if " " in line)
                return (
                    f"periods {counters.get('nr_periods')}, throttled "
                    f"{counters.get('nr_throttled')}, throttled time "
                    f"{int(counters.get('throttled_time', counters.get('throttled_usec', 0))):,}"
                )
    return "no pylsp container found"


async def warm(server: Server, opens: int, completions: int) -> tuple[list[float], list[float]]:
    """Time ``opens`` opens (until diagnostics) and ``completions`` completions."""
    root = _root(server)
    client = Client(await server.socket())
    await client.initialize(root)
    await client.open_until_diagnostics(f"{root}/warmup.py")
    await client.complete(f"{root}/warmup.py")
    open_ms, completion_ms = [], []
    for i in range(opens):
        started = time.perf_counter()
        await client.open_until_diagnostics(f"{root}/file{i}.py")
        open_ms.append((time.perf_counter() - started) * 1000)
    for _ in range(completions):
        started = time.perf_counter()
        await client.complete(f"{root}/warmup.py")
        completion_ms.append((time.perf_counter() - started) * 1000)
    client.ws.close()
    return open_ms, completion_ms


COLD = "cold open -> diagnostics (no warm-up)"
LATER = f"open -> diagnostics, opened {THINK:g} s after the page (ours warmed)"
AT_ONCE = "page -> diagnostics, opened at once (ours warming)"


async def main(cold: int = 3, opens: int = 20, completions: int = 100) -> None:
    """Run the language-server benchmark and print its table."""
    if quick():
        cold, opens, completions = 1, 3, 10
    venv = peer_venv("pylsp-host", PYLSP, install=not quick())
    peers = [OURS]
    if venv is None:
        skipped(HOST, "its venv is not installed yet")
    else:
        peers.insert(0, HOST)
    pylsp_bin = venv / "bin" / "pylsp" if venv else None
    rows: dict[str, dict[str, list[float]]] = {
        COLD: {p: [] for p in peers},
        LATER: {p: [] for p in peers},
        AT_ONCE: {p: [] for p in peers},
        "open -> diagnostics (running server)": {p: [] for p in peers},
        "completion os.pa": {p: [] for p in peers},
    }
    for _ in range(cold):
        for peer in peers:
            rows[COLD][peer].append(await cold_open(peer, pylsp_bin))
            rows[LATER][peer].append((await page_then_open(peer, pylsp_bin, THINK))[0])
            rows[AT_ONCE][peer].append((await page_then_open(peer, pylsp_bin, 0.0))[1])
    for peer in peers:
        with jupyter_server(peer, pylsp_bin) as server:
            open_ms, completion_ms = await warm(server, opens, completions)
            if peer == OURS:
                print(f"pylsp container's CPU quota: {throttling(server)}", flush=True)
        rows["open -> diagnostics (running server)"][peer] += open_ms
        rows["completion os.pa"][peer] += completion_ms
    print_table(
        f"Language servers: pylsp via jupyter-lsp's websocket ({cold} cold starts, {opens} "
        f"opens, {completions} completions per peer)",
        rows,
        baseline=peers[0],
    )
    ours = rows["completion os.pa"][OURS]
    print(f"jupyter-ide completion p95: {p95(ours):.1f} ms (goal: under 150 ms)", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cold", type=int, default=3)
    parser.add_argument("--opens", type=int, default=20)
    parser.add_argument("--completions", type=int, default=100)
    parser.add_argument(
        "--quick", action="store_true", help="1 cold round, 3 opens, 10 completions"
    )
    options = parser.parse_args()
    if options.quick:
        options.cold, options.opens, options.completions = 1, 3, 10
    asyncio.run(main(options.cold, options.opens, options.completions))
