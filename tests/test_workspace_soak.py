"""Soak: 2,000 saves and folder renames from 4 clients while sandboxed kernels write files into
the workspace and the folder is scanned every 0.1 s. Nothing acknowledged is lost.

Every acknowledged API write goes into a log (a rename moves the logged paths with it); the
kernels rewrite a known set of files until the clients are done. At the end the index must hold
exactly what the log says and what the kernels left on disk, the folder must hold what the log
says: no file missing, none with other content, and no folder brought back under an old name.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_ide.contents_manager import IDEContentsManager
from jupyter_ide.contents_manager.index import DIRECTORY

from .kernel_host import require_images
from .test_kernels_server import _run_cell, _start

CLIENTS = 4
OPERATIONS = 2000  # saves and renames, all clients together
RENAME_EVERY = 20
KERNELS = 2
KERNEL_FILES = 60
FOLDER = json.dumps({"type": "directory"})
STOP = ".soak-stop"  # hidden: the sync leaves it alone


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Sandboxed kernels, the workspace folder scanned every 0.1 s."""
    config = {**jp_server_config}
    config["ServerApp"] = {
        **config["ServerApp"],
        "kernel_spec_manager_class": "jupyter_ide.kernels.kernelspecs.IDEKernelSpecManager",
    }
    config["SandboxManager"] = {"pool_size": 0, "default_limits": {"time_limit": 900}}
    config["IDEContentsManager"] = {
        **config["IDEContentsManager"],
        "sync_interval": 0.1,
        "quota_files": 0,
        "quota_bytes": 0,
    }
    return config


def kernel_code(kernel: int) -> str:
    """A cell that writes and rewrites nested files in the workspace (its working folder),
    round after round, until the test drops a stop file; it prints how many rounds it wrote."""
    return (
        "import os, time\n"
        f"base = 'kernel{kernel}'\n"
        f"stop = {STOP!r}\n"
        "r = 0\n"
        "while r < 2 or not os.path.exists(stop):\n"
        "    for i in range(%d):\n"
        "        folder = os.path.join(base, 'sub%%d' %% (i %% 4))\n"
        "        os.makedirs(folder, exist_ok=True)\n"
        "        with open(os.path.join(folder, 'f%%d.txt' %% i), 'w') as f:\n"
        "            f.write('kernel %d file %%d round %%d\\n' %% (i, r))\n"
        "        time.sleep(0.05)\n"
        "    r += 1\n"
        "print('rounds', r)\n"
    ) % (KERNEL_FILES, kernel)


def on_disk(root: Path, top: str) -> dict[str, str]:
    """Every regular file below ``root / top``, by workspace path, with its text."""
    return {
        str(p.relative_to(root)): p.read_text()
        for p in (root / top).rglob("*")
        if p.is_file() and not p.is_symlink()
    }


async def client(jp_fetch: Any, number: int, operations: int, log: dict[str, str]) -> int:
    """Save files into a folder, renaming the folder every few saves; log each acknowledged
    write in ``log`` (path -> content). Returns how many operations it did."""
    folder = f"client{number}/gen0"
    await jp_fetch("api", "contents", f"client{number}", method="PUT", body='{"type": "directory"}')
    await jp_fetch(
        "api", "contents", *folder.split("/"), method="PUT", body='{"type": "directory"}'
    )
    done = 0
    generation = 0
    while done < operations:
        done += 1
        if done % RENAME_EVERY == 0:
            generation += 1
            target = f"client{number}/gen{generation}"
            await jp_fetch(
                "api", "contents", *folder.split("/"), method="PATCH",
                body=json.dumps({"path": target}),
            )  # fmt: skip
            for path in [p for p in log if p.startswith(folder + "/")]:
                log[target + path[len(folder) :]] = log.pop(path)
            folder = target
            continue
        name = f"f{done % 7}.txt"  # overwrites as well as new files
        content = f"client {number} op {done} in gen {generation}\n"
        body = json.dumps({"type": "file", "format": "text", "content": content})
        await jp_fetch("api", "contents", *folder.split("/"), name, method="PUT", body=body)
        log[f"{folder}/{name}"] = content
    return done


def sha(content: str) -> str:
    """sha256 of ``content``."""
    return hashlib.sha256(content.encode()).hexdigest()


@pytest.mark.timeout(1200)  # 2,000 API calls on SQLite take minutes on a busy 2-core machine
async def test_soak_saves_renames_kernels_and_fast_scans_lose_nothing(
    jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any
) -> None:
    """2,000 saves and renames from 4 clients while 2 kernels rewrite 120 files over and over,
    scans every 0.1 s: the index and the folder end up holding exactly what was acknowledged
    and what the kernels left on disk."""
    require_images("python")
    cm = jp_serverapp.contents_manager
    assert isinstance(cm, IDEContentsManager)
    index = await cm.ready()
    kernels = [await _start(jp_fetch) for _ in range(KERNELS)]
    try:
        cells = [
            asyncio.ensure_future(_run_cell(jp_ws_fetch, kid, kernel_code(k), 1100))
            for k, kid in enumerate(kernels)
        ]
        log: dict[str, str] = {}
        counts = await asyncio.gather(
            *(client(jp_fetch, n, OPERATIONS // CLIENTS, log) for n in range(CLIENTS))
        )
        (cm.workspace_dir / STOP).write_text("")
        finished, unfinished = await asyncio.wait(cells, timeout=120)
        for cell in unfinished:  # its kernel was killed and restarted: the cell is gone
            cell.cancel()
    finally:
        for kid in kernels:
            await jp_fetch("api", "kernels", kid, method="DELETE")
    assert sum(counts) == OPERATIONS
    outputs = [cell.result() for cell in finished]
    assert all("rounds" in out for out in outputs), outputs
    for _ in range(2):  # settle: whatever the last timer scan left half done
        await cm.sync_from_disk()

    # What the kernels wrote is what their folders hold now that they are stopped.
    written: dict[str, str] = {}
    for k in range(KERNELS):
        written.update(await asyncio.to_thread(on_disk, cm.workspace_dir, f"kernel{k}"))
    assert len(written) == KERNELS * KERNEL_FILES, f"the kernels wrote {len(written)} files"
    expected = {**log, **written}
    entries = {e.path: e for e in await index.everything()}
    files = {p: e.content_hash for p, e in entries.items() if e.kind != DIRECTORY}
    missing = sorted(p for p in expected if p not in files)
    wrong = sorted(p for p in expected if p in files and files[p] != sha(expected[p]))
    extra = sorted(p for p in files if p not in expected)
    assert (missing, wrong, extra) == ([], [], [])

    folders = {p for p, e in entries.items() if e.kind == DIRECTORY}
    live = {f"client{n}/gen{(OPERATIONS // CLIENTS) // RENAME_EVERY}" for n in range(CLIENTS)}
    stale = {f for f in folders if f.startswith("client") and "/" in f} - live
    assert stale == set(), "folders came back under an old name"

    for path, content in expected.items():
        assert (cm.workspace_dir / path).read_text() == content, path
