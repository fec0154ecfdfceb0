"""Faults: S3 goes away mid-save, concurrent saves, a crash between blob and index, huge uploads."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_ide.contents_manager.index import FileIndex

from .s3_server import TcpGate
from .test_contents_api import call, manager, refused

LIMIT = 100 * 1024 * 1024


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], s3_bucket: str, s3_gate: TcpGate
) -> dict[str, Any]:
    """S3 reached through a gate the test can close, on SQLite, with a 100 MB file limit."""
    config = {**jp_server_config}
    config["IDESettings"] = {
        **config["IDESettings"],
        "storage_url": f"s3://{s3_bucket}/faults",
        "s3_endpoint_url": s3_gate.url,
    }
    config["IDEContentsManager"] = {"max_file_size": LIMIT, "sync_interval": 0.0}
    return config


def text(content: str) -> dict[str, str]:
    """A text file model."""
    return {"type": "file", "format": "text", "content": content}


async def test_s3_outage_during_a_save(jp_fetch: Any, s3_gate: TcpGate) -> None:
    """With S3 unreachable a save is a clear 503, the old file stays, and later saves work."""
    await call(jp_fetch, "work.py", "PUT", text("old"))
    before = await call(jp_fetch, "work.py", content="0", hash="1")
    s3_gate.close()
    try:
        message = await refused(503, call(jp_fetch, "work.py", "PUT", text("new")))
        assert "file store" in message and "try again" in message
        after = await call(jp_fetch, "work.py", content="0", hash="1")
        assert after["hash"] == before["hash"] and after["size"] == 3
    finally:
        s3_gate.open()
    assert (await call(jp_fetch, "work.py"))["content"] == "old"
    await call(jp_fetch, "work.py", "PUT", text("new"))
    assert (await call(jp_fetch, "work.py"))["content"] == "new"


async def test_two_concurrent_saves_keep_both(jp_fetch: Any) -> None:
    """Two saves of one file at once: one is current, the other is its latest version."""
    await call(jp_fetch, "race.txt", "PUT", text("start"))
    await asyncio.gather(
        call(jp_fetch, "race.txt", "PUT", text("alice")),
        call(jp_fetch, "race.txt", "PUT", text("bob")),
    )
    current = (await call(jp_fetch, "race.txt"))["content"]
    assert current in ("alice", "bob")
    listed = json.loads((await jp_fetch("ide", "api", "history", params={"path": "race.txt"})).body)
    contents = []
    for version in listed["versions"]:
        one = await jp_fetch("ide", "api", "history", str(version["id"]))
        contents.append(json.loads(one.body)["content"])
    assert {"alice", "bob"} - {current} <= set(contents) and "start" in contents


async def test_crash_between_blob_and_index(
    jp_fetch: Any, jp_serverapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The blob is stored but the index write dies: the old file is what everyone sees; GC
    removes the orphan blob later."""
    cm = manager(jp_serverapp)
    await call(jp_fetch, "doc.md", "PUT", text("safe"))

    async def crash(self: FileIndex, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("the server died here")

    monkeypatch.setattr(FileIndex, "write_file", crash)
    await refused(503, call(jp_fetch, "doc.md", "PUT", text("half written")))
    monkeypatch.undo()
    assert (await call(jp_fetch, "doc.md"))["content"] == "safe"
    assert (cm.workspace_dir / "doc.md").read_text() == "safe"
    import hashlib

    orphan = hashlib.sha256(b"half written").hexdigest()
    assert await cm.blobs.exists(orphan)
    assert orphan not in await cm.collect_garbage()  # still within the grace period
    assert orphan in await cm.collect_garbage(grace=0)
    assert not await cm.blobs.exists(orphan)
    assert (await call(jp_fetch, "doc.md"))["content"] == "safe"


async def test_large_chunked_upload_goes_to_s3_in_parts(jp_fetch: Any, jp_serverapp: Any) -> None:
    """A 20 MB upload in 1 MB-ish chunks is stored (multipart) and reads back whole."""
    import hashlib

    digest = hashlib.sha256()
    chunks = 10
    for number in range(1, chunks + 1):
        part = bytes([number]) * (2 * 1024 * 1024)
        digest.update(part)
        model = {
            "type": "file",
            "format": "base64",
            "content": base64.b64encode(part).decode(),
            "chunk": -1 if number == chunks else number,
        }
        await call(jp_fetch, "big.bin", "PUT", model)
    got = await call(jp_fetch, "big.bin", content="0", hash="1")
    assert got["size"] == chunks * 2 * 1024 * 1024 and got["hash"] == digest.hexdigest()
    cm = manager(jp_serverapp)
    assert hashlib.sha256(await cm.blobs.get(digest.hexdigest())).hexdigest() == got["hash"]


async def test_two_gigabyte_upload_is_stopped_at_the_limit(
    jp_fetch: Any, jp_serverapp: Any, jp_data_dir: Path
) -> None:
    """A 2 GB upload against a 100 MB limit: 413 once it passes the limit; nothing kept."""
    chunk_bytes = 8 * 1024 * 1024
    body = base64.b64encode(b"\x00" * chunk_bytes).decode()
    total = 2 * 1024**3
    sent, number, code = 0, 1, 0
    while sent < total:
        last = sent + chunk_bytes >= total
        model = {
            "type": "file",
            "format": "base64",
            "content": body,
            "chunk": -1 if last else number,
        }
        try:
            await call(jp_fetch, "huge.bin", "PUT", model)
        except Exception as e:
            code = getattr(e, "code", 0)
            message = e.response.body.decode() if getattr(e, "response", None) else ""  # type: ignore[attr-defined]
            break
        sent += chunk_bytes
        number += 1
    assert code == 413 and sent <= LIMIT and "largest file allowed" in message
    await refused(404, call(jp_fetch, "huge.bin"))
    assert not (manager(jp_serverapp).workspace_dir / "huge.bin").exists()
    assert not list((jp_data_dir / "jupyter_ide" / "uploads").iterdir())
