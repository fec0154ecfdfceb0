"""Contents on S3: jupyter-ide's manager against s3contents, on the same moto server, one run.

s3contents is installed in its own venv (.venv-bench/, made here on first use) and driven
there; each peer reaches moto through its own counting TCP gate, so S3 requests are counted.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .quick import quick, skipped
from .stats import print_table, time_async

if quick():
    FILES = 50
    ROUNDS = PEER_ROUNDS = {"list": 3, "open": 3, "save": 3, "rename": 2}
else:
    FILES = 1000
    ROUNDS = {"list": 30, "open": 30, "save": 30, "rename": 10}
    PEER_ROUNDS = {"list": 10, "open": 30, "save": 30, "rename": 3}
ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-bench"
MB = "y" * (1024 * 1024)


def peer_python() -> Path | None:
    """Return the python of the venv holding s3contents, making it on first use.

    In quick mode nothing is installed: None when the venv is not ready.
    """
    python = VENV / "bin" / "python"
    if quick():
        ready = (
            python.exists()
            and not subprocess.run(
                [str(python), "-c", "import s3contents"], capture_output=True
            ).returncode
        )
        if not ready:
            skipped("the s3contents peer", f"{VENV.name}/ is not set up; `make bench` makes it")
        return python if ready else None
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = subprocess.run([str(python), "-c", "import s3contents"], capture_output=True)
    if probe.returncode:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "s3contents", "jupyter_server"], check=True
        )
    return python


def run_peer(python: Path, args: dict[str, Any]) -> list[float]:
    """Run one phase of the s3contents driver; return its timings."""
    done = subprocess.run(
        [str(python), str(ROOT / "bench" / "s3contents_driver.py"), json.dumps(args)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


async def ours(
    endpoint: str, bucket: str, gate: Any, work: Path
) -> tuple[dict[str, list[float]], dict[str, float], dict[str, float]]:
    """Time jupyter-ide's manager; return timings, S3 requests and database transactions
    per operation (quota and history on, as deployed)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from jupyter_ide.contents_manager import IDEContentsManager
    from jupyter_ide.db import Database, ensure_schema
    from jupyter_ide.server_extension.settings import IDESettings

    url = f"sqlite:///{work / 'ide.db'}"
    ensure_schema(url)
    cm = IDEContentsManager(
        sync_interval=0.0,
        gc_interval=0.0,
        workspaces_root=str(work / "ws"),
        owner="bench",
    )
    cm.db = Database(url)
    settings = IDESettings(storage_url=f"s3://{bucket}/ide", s3_endpoint_url=endpoint)
    cm.settings_ = lambda: settings  # type: ignore[method-assign]
    await cm.save({"type": "directory"}, "big")
    for i in range(FILES):
        await cm.save({"type": "file", "format": "text", "content": f"file {i}"}, f"big/f{i:04}.py")
    await cm.save({"type": "file", "format": "text", "content": MB}, "one.txt")
    results: dict[str, list[float]] = {}
    requests: dict[str, float] = {}
    transactions: dict[str, float] = {}
    begun = [0]

    def count(*args: Any) -> None:
        begun[0] += 1

    event.listen(Engine, "begin", count)

    async def listing(i: int) -> None:
        assert len((await cm.get("big"))["content"]) == FILES

    async def opening(i: int) -> None:
        await cm.get("one.txt")

    async def saving(i: int) -> None:
        await cm.save({"type": "file", "format": "text", "content": f"{i:08}" + MB[8:]}, "one.txt")

    async def renaming(i: int) -> None:
        await cm.rename_file(f"big{i or ''}", f"big{i + 1}")

    for name, op in (("list", listing), ("open", opening), ("save", saving), ("rename", renaming)):
        before, began = gate.requests, begun[0]
        results[name] = await time_async(op, ROUNDS[name])
        requests[name] = (gate.requests - before) / ROUNDS[name]
        transactions[name] = (begun[0] - began) / ROUNDS[name]
    event.remove(Engine, "begin", count)
    await cm.close()
    await cm.db.dispose()
    return results, requests, transactions


async def main() -> None:
    """Run both peers against one moto server and print the table."""
    sys.path.insert(0, str(ROOT))
    from tests.s3_server import CREDENTIALS, MotoServer, TcpGate

    os.environ.update(CREDENTIALS)
    python = peer_python()
    server = MotoServer()
    server.start()
    our_gate, their_gate = TcpGate(server.port), TcpGate(server.port)
    our_gate.open()
    their_gate.open()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["JUPYTER_DATA_DIR"] = str(Path(tmp) / "data")
            server.client().create_bucket(Bucket="bench")  # type: ignore[attr-defined]
            mine, my_requests, my_transactions = await ours(
                our_gate.url, "bench", our_gate, Path(tmp)
            )
            base = {"bucket": "bench", "endpoint": their_gate.url, "files": FILES}
            theirs: dict[str, list[float]] = {}
            their_requests: dict[str, float] = {}
            if python is not None:
                run_peer(python, {**base, "phase": "setup", "rounds": 0})
            for name in ("list", "open", "save", "rename") if python is not None else ():
                assert python is not None
                before = their_gate.requests
                theirs[name] = run_peer(
                    python, {**base, "phase": name, "rounds": PEER_ROUNDS[name]}
                )
                their_requests[name] = (their_gate.requests - before) / PEER_ROUNDS[name]
    finally:
        our_gate.close()
        their_gate.close()
        server.stop()
    labels = {
        "list": f"list {FILES} files",
        "open": "open 1 MB file",
        "save": "save 1 MB file",
        "rename": f"rename {FILES}-file folder",
    }
    baseline = "s3contents" if theirs else "jupyter-ide"
    rows = {
        labels[k]: {**({"s3contents": theirs[k]} if theirs else {}), "jupyter-ide": mine[k]}
        for k in labels
    }
    print_table(
        f"Contents on S3 (moto server, {platform.python_version()}; ratio = median / {baseline}')",
        rows,
        baseline=baseline,
    )
    print(f"\n{'S3 requests per operation':<30}{'s3contents':>12}{'jupyter-ide':>13}")
    for key, label in labels.items():
        peer = f"{their_requests[key]:>12.1f}" if theirs else f"{'-':>12}"
        print(f"{label:<30}{peer}{my_requests[key]:>13.1f}")
    print(f"\n{'DB transactions per operation':<30}{'jupyter-ide':>13}")
    for key, label in labels.items():
        print(f"{label:<30}{my_transactions[key]:>13.1f}")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
