"""Code in a kernel changes the workspace folder between the server's check and its use.

Each test swaps something at the worst moment through a seam: ``WorkspaceMirror.before_use``
runs once a path's folder is open and right before the file itself is opened, replaced,
renamed or removed; the scan is wrapped to act after it measured the folder. The server runs
as root here, so anything done through a planted link would really happen outside.
"""

from __future__ import annotations

import asyncio
import base64
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from jupyter_ide.contents_manager import IDEContentsManager
from jupyter_ide.db.models import Blob, File, FileVersion

from .conftest import SMALL_FILE_LIMIT
from .test_contents_api import call, manager, refused

SECRET = "SERVER-ONLY: the server's environment, a token, a key"


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """No timer scans: the tests run each scan themselves."""
    config = {**jp_server_config}
    config["IDEContentsManager"] = {**config["IDEContentsManager"], "sync_interval": 0.0}
    return config


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the workspace holding files the server can read and write."""
    folder = tmp_path / "outside"
    folder.mkdir()
    for name in ("data.txt", "victim.txt", "a.txt"):
        (folder / name).write_text(SECRET)
    return folder


def files_in(folder: Path) -> dict[str, tuple[str, int]]:
    """Each file of ``folder``: its text and owner."""
    return {p.name: (p.read_text(), p.stat().st_uid) for p in folder.iterdir()}


def text(content: str) -> dict[str, str]:
    """A text file model."""
    return {"type": "file", "format": "text", "content": content}


def swap_when(cm: IDEContentsManager, path: str, folder: str, target: Path) -> list[str]:
    """At ``path``'s use, move ``folder`` to ``<folder>-moved`` and plant a link to ``target``."""
    ws = cm.workspace_dir
    done: list[str] = []

    def hook(used: str) -> None:
        if used == path and not done:
            os.rename(ws / folder, ws / f"{folder}-moved")
            os.symlink(target, ws / folder)
            done.append(used)

    cm.mirror.before_use = hook
    return done


async def everything_held(cm: IDEContentsManager) -> set[str]:
    """Every content hash the index names, current or kept."""
    assert cm.db is not None
    async with cm.db.session() as session:
        current = set((await session.execute(select(File.content_hash))).scalars())
        kept = set((await session.execute(select(FileVersion.content_hash))).scalars())
    return current | kept


def sha(content: str) -> str:
    """The sha256 of ``content``."""
    import hashlib

    return hashlib.sha256(content.encode()).hexdigest()


async def test_the_sync_never_reads_through_a_folder_swapped_for_a_link(
    jp_fetch: Any, jp_serverapp: Any, outside: Path
) -> None:
    """Code swaps a checked folder for a link to the server's files: nothing of them is read."""
    cm = manager(jp_serverapp)
    await cm.ready()
    ws = cm.workspace_dir
    (ws / "sub").mkdir()
    (ws / "sub" / "data.txt").write_text("the student's own")
    done = swap_when(cm, "sub/data.txt", "sub", outside)
    await cm.sync_from_disk()
    assert done, "the swap never happened"
    assert sha(SECRET) not in await everything_held(cm)
    got = await call(jp_fetch, "sub/data.txt")
    assert got["content"] == "the student's own"
    cm.mirror.before_use = None
    await cm.sync_from_disk()  # the link itself is never followed either
    assert sha(SECRET) not in await everything_held(cm)
    assert (await call(jp_fetch, "sub-moved/data.txt"))["content"] == "the student's own"


async def test_reading_a_saved_file_never_follows_a_swapped_folder(
    jp_fetch: Any, jp_serverapp: Any, outside: Path
) -> None:
    """The editor reads a file through its workspace copy: a swap cannot serve another file,
    even one of the same size."""
    cm = manager(jp_serverapp)
    mine = "x" * len(SECRET)
    await call(jp_fetch, "sub", "PUT", {"type": "directory"})
    await call(jp_fetch, "sub/data.txt", "PUT", text(mine))
    done = swap_when(cm, "sub/data.txt", "sub", outside)
    assert (await call(jp_fetch, "sub/data.txt"))["content"] == mine
    assert done


async def test_a_save_never_writes_through_a_swapped_folder(
    jp_fetch: Any, jp_serverapp: Any, outside: Path
) -> None:
    """A save whose folder is swapped for a link writes nothing outside the workspace."""
    cm = manager(jp_serverapp)
    await call(jp_fetch, "sub", "PUT", {"type": "directory"})
    await call(jp_fetch, "sub/data.txt", "PUT", text("first"))
    before = files_in(outside)
    done = swap_when(cm, "sub/data.txt", "sub", outside)
    await call(jp_fetch, "sub/data.txt", "PUT", text("second"))
    assert done
    assert files_in(outside) == before
    assert (cm.workspace_dir / "sub-moved" / "data.txt").read_text() == "second"


async def test_delete_and_rename_never_act_through_a_swapped_folder(
    jp_fetch: Any, jp_serverapp: Any, outside: Path
) -> None:
    """Deleting or renaming a file whose folder was swapped for a link leaves outside alone."""
    cm = manager(jp_serverapp)
    await call(jp_fetch, "sub", "PUT", {"type": "directory"})
    await call(jp_fetch, "sub/victim.txt", "PUT", text("mine"))
    done = swap_when(cm, "sub/victim.txt", "sub", outside)
    await jp_fetch("api", "contents", "sub", "victim.txt", method="DELETE")
    assert done and (outside / "victim.txt").read_text() == SECRET
    await refused(404, call(jp_fetch, "sub/victim.txt"))

    os.unlink(cm.workspace_dir / "sub")
    os.rename(cm.workspace_dir / "sub-moved", cm.workspace_dir / "sub")
    await call(jp_fetch, "sub/a.txt", "PUT", text("mine too"))
    done = swap_when(cm, "sub/a.txt", "sub", outside)
    await call(jp_fetch, "sub/a.txt", "PATCH", {"path": "a.txt"})
    assert done and (outside / "a.txt").read_text() == SECRET
    assert not (cm.workspace_dir / "a.txt").exists() or (
        (cm.workspace_dir / "a.txt").read_text() == "mine too"
    )
    assert (await call(jp_fetch, "a.txt"))["content"] == "mine too"


def after_scan(cm: IDEContentsManager, monkeypatch: pytest.MonkeyPatch, act: Any) -> None:
    """Run ``act()`` right after the mirror's scan measured the folder."""
    real = cm.mirror.scan

    def scan(include_hidden: bool) -> Any:
        found = real(include_hidden)
        act()
        return found

    monkeypatch.setattr(cm.mirror, "scan", scan)


async def test_a_fifo_swapped_in_after_the_scan_neither_blocks_nor_is_imported(
    jp_fetch: Any, jp_serverapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file the scan measured becomes a FIFO before it is read: the sync finishes at once,
    the server keeps answering, and the FIFO is not imported."""
    cm = manager(jp_serverapp)
    await call(jp_fetch, "other.txt", "PUT", text("still served"))
    pipe = cm.workspace_dir / "pipe.txt"
    pipe.write_text("a regular file when measured")
    (cm.workspace_dir / "born-a-fifo").parent.mkdir(exist_ok=True)
    os.mkfifo(cm.workspace_dir / "born-a-fifo")

    def to_fifo() -> None:
        pipe.unlink()
        os.mkfifo(pipe)

    after_scan(cm, monkeypatch, to_fifo)
    try:
        _, other = await asyncio.wait_for(
            asyncio.gather(cm.sync_from_disk(), call(jp_fetch, "other.txt")), 10
        )
    finally:
        _unblock(pipe)
    assert other["content"] == "still served"
    await refused(404, call(jp_fetch, "pipe.txt"))
    await refused(404, call(jp_fetch, "born-a-fifo"))

    # A FIFO where a saved file was: reading the file serves the saved content.
    await call(jp_fetch, "saved.txt", "PUT", text("saved"))
    (cm.workspace_dir / "saved.txt").unlink()
    os.mkfifo(cm.workspace_dir / "saved.txt")
    try:
        got = await asyncio.wait_for(call(jp_fetch, "saved.txt"), 10)
    finally:
        _unblock(cm.workspace_dir / "saved.txt")
    assert got["content"] == "saved"


def _unblock(fifo: Path) -> None:
    """Open a FIFO's writing end briefly, so that a reader stuck on it (old code) returns."""

    def poke() -> None:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return
        os.close(fd)

    threading.Thread(target=poke, daemon=True).start()


async def test_a_file_that_grows_after_it_was_measured_is_not_imported(
    jp_fetch: Any, jp_serverapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small when the scan measured it, over max_file_size when read: nothing is imported and
    no blob over the limit is stored."""
    cm = manager(jp_serverapp)
    await cm.ready()
    grow = cm.workspace_dir / "grow.bin"
    grow.write_bytes(b"s" * 100)

    def enlarge() -> None:
        with grow.open("ab") as f:
            f.write(b"L" * (SMALL_FILE_LIMIT * 3))

    after_scan(cm, monkeypatch, enlarge)
    await cm.sync_from_disk()
    await refused(404, call(jp_fetch, "grow.bin"))
    assert cm.db is not None
    async with cm.db.session() as session:
        largest = (await session.execute(select(func.max(Blob.size)))).scalar()
    assert largest is None or largest <= SMALL_FILE_LIMIT
    async for key, _ in cm.blobs.keys():
        assert len(await cm.blobs.get(key)) <= SMALL_FILE_LIMIT

    # Shrunk back under the limit, it is imported at the next sync.
    monkeypatch.undo()
    grow.write_bytes(b"fits")
    await cm.sync_from_disk()
    got = await call(jp_fetch, "grow.bin", format="base64")
    assert base64.b64decode(got["content"]) == b"fits"
