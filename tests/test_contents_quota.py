"""The quota counts every blob a user holds (files and kept versions, each blob once) and
retention applies on every path that keeps a version, so nothing grows without bound."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import select, union

from jupyter_ide.contents_manager import IDEContentsManager
from jupyter_ide.db.models import Blob, File, FileVersion

from .test_contents_api import call, manager, refused

QUOTA = 4000
KEEP = 2


@pytest.fixture
def ide_db_url(contents_db_url: str) -> str:
    """The backend's database."""
    return contents_db_url


@pytest.fixture
def contents_backend() -> str:
    """The local store on PostgreSQL (the quota's SQL is the part under test)."""
    return "local-postgresql"


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], storage_settings: dict[str, str]
) -> dict[str, Any]:
    """A 4000-byte quota, 1000-byte files, the last 2 versions kept and nothing older."""
    config = {**jp_server_config}
    config["IDESettings"] = {**config["IDESettings"], **storage_settings}
    config["IDEContentsManager"] = {
        "max_file_size": 1000,
        "quota_bytes": QUOTA,
        "quota_files": 50,
        "keep_last": KEEP,
        "keep_hourly": 0,
        "keep_daily": 0,
        "sync_interval": 0.0,
    }
    return config


def text(content: str) -> dict[str, str]:
    """A text file model."""
    return {"type": "file", "format": "text", "content": content}


def distinct(label: str, size: int = 900) -> str:
    """``size`` characters that no other label produces."""
    return (label + ":").ljust(size, "x")


async def held_bytes(cm: IDEContentsManager) -> int:
    """Bytes of every distinct blob the workspace's files and versions name (plain SQL)."""
    assert cm.db is not None
    index = await cm.ready()
    files = select(File.content_hash, File.size).where(
        File.workspace_id == index.workspace_id, File.kind == "file"
    )
    versions = select(FileVersion.content_hash, FileVersion.size).where(
        FileVersion.workspace_id == index.workspace_id
    )
    async with cm.db.session() as session:
        rows = (await session.execute(union(files, versions))).all()
    return sum(size for _, size in rows)


async def versions_of(jp_fetch: Any, path: str) -> list[dict[str, Any]]:
    """The history entries of ``path``, newest first."""
    response = await jp_fetch("ide", "api", "history", params={"path": path})
    return list(json.loads(response.body)["versions"])


async def drop_history(jp_fetch: Any, path: str) -> None:
    """Delete every kept version of ``path`` (the history API)."""
    for version in await versions_of(jp_fetch, path):
        await jp_fetch("ide", "api", "history", str(version["id"]), method="DELETE")


async def test_versions_count_toward_the_quota(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Kept versions use quota; the 507 says how much and how to free it; a blob already
    held adds nothing; deleting old versions makes room."""
    cm = manager(jp_serverapp)
    for n in range(3):  # a.txt: one current, two versions
        await call(jp_fetch, "a.txt", "PUT", text(distinct(f"a{n}")))
    await call(jp_fetch, "b.txt", "PUT", text(distinct("b")))
    assert await held_bytes(cm) == 3600
    message = await refused(507, call(jp_fetch, "c.txt", "PUT", text(distinct("c"))))
    assert "quota" in message and "history" in message and "1,800 bytes" in message
    assert "delete old versions" in message
    await refused(404, call(jp_fetch, "c.txt"))
    await call(jp_fetch, "same-as-b.txt", "PUT", text(distinct("b")))  # one blob, counted once
    await call(jp_fetch, "", "POST", {"copy_from": "a.txt"})  # a copy holds no new blob
    await drop_history(jp_fetch, "a.txt")
    assert await held_bytes(cm) == 1800
    await call(jp_fetch, "c.txt", "PUT", text(distinct("c")))


async def test_deleting_a_file_keeps_its_bytes_until_its_history_goes(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """A deleted file stays restorable, so it still counts; the message says where it is."""
    cm = manager(jp_serverapp)
    for name in ("a", "b", "c", "d"):
        await call(jp_fetch, f"{name}.txt", "PUT", text(distinct(name)))
    await jp_fetch("api", "contents", "d.txt", method="DELETE")
    assert await held_bytes(cm) == 3600
    message = await refused(507, call(jp_fetch, "e.txt", "PUT", text(distinct("e"))))
    assert "deleted file stays in its history" in message
    await drop_history(jp_fetch, "d.txt")
    await call(jp_fetch, "e.txt", "PUT", text(distinct("e")))


async def test_a_sync_import_over_quota_stores_no_blob(jp_fetch: Any, jp_serverapp: Any) -> None:
    """A file code wrote that would break the quota is neither indexed nor stored; once the
    user frees room it is imported at the next sync, unchanged on disk."""
    cm = manager(jp_serverapp)
    for name in ("a", "b", "c", "d"):
        await call(jp_fetch, f"{name}.txt", "PUT", text(distinct(name)))
    written = distinct("from code").encode()
    (cm.workspace_dir / "out.bin").write_bytes(written)
    digest = hashlib.sha256(written).hexdigest()
    await cm.sync_from_disk()
    await refused(404, call(jp_fetch, "out.bin"))
    assert not await cm.blobs.exists(digest)
    assert cm.db is not None
    async with cm.db.session() as session:
        assert await session.get(Blob, digest) is None
    await cm.sync_from_disk()  # refused again, not read again: nothing stored either
    assert not await cm.blobs.exists(digest)

    await jp_fetch("api", "contents", "d.txt", method="DELETE")
    await drop_history(jp_fetch, "d.txt")
    await cm.sync_from_disk()
    got = await call(jp_fetch, "out.bin", content="0", hash="1")
    assert got["hash"] == digest and await cm.blobs.exists(digest)


async def test_a_rewrite_loop_keeps_the_users_stored_bytes_bounded(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """Code rewrites a file again and again: retention keeps its history to the policy and the
    quota stops what retention does not; the store, after GC, holds no more than the quota."""
    cm = manager(jp_serverapp)
    loop = cm.workspace_dir / "loop.bin"
    for n in range(12):
        loop.write_bytes(distinct(f"round {n}").encode())
        await cm.sync_from_disk()
        assert len(await versions_of(jp_fetch, "loop.bin")) <= KEEP
        assert await held_bytes(cm) <= 3 * 900
    assert (await call(jp_fetch, "loop.bin"))["content"] == distinct("round 11")

    await call(jp_fetch, "other.txt", "PUT", text(distinct("other")))  # now 3600 held
    refused_hashes = []
    for n in range(12, 20):
        data = distinct(f"round {n}").encode()
        loop.write_bytes(data)
        await cm.sync_from_disk()
        refused_hashes.append(hashlib.sha256(data).hexdigest())
        assert await held_bytes(cm) <= QUOTA
        assert len(await versions_of(jp_fetch, "loop.bin")) <= KEEP
    for digest in refused_hashes:
        assert not await cm.blobs.exists(digest)

    await cm.collect_garbage(grace=0)
    stored = 0
    async for key, _ in cm.blobs.keys():
        stored += len(await cm.blobs.get(key))
    assert stored <= QUOTA


async def test_retention_applies_on_delete_rename_and_restore(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """Every path that keeps a version prunes the history to the policy, not only saves."""
    for n in range(3):
        await call(jp_fetch, "f.txt", "PUT", text(f"f{n}"))
    assert len(await versions_of(jp_fetch, "f.txt")) == KEEP
    await jp_fetch("api", "contents", "f.txt", method="DELETE")  # keeps f2: three, then two
    kept = await versions_of(jp_fetch, "f.txt")
    assert len(kept) == KEEP and kept[0]["reason"] == "delete"

    await jp_fetch(
        "ide", "api", "history", str(kept[-1]["id"]), "restore", method="POST", body="{}"
    )
    for n in range(2):
        await call(jp_fetch, "f.txt", "PUT", text(f"again {n}"))
    newest = (await versions_of(jp_fetch, "f.txt"))[0]
    await jp_fetch("ide", "api", "history", str(newest["id"]), "restore", method="POST", body="{}")
    assert len(await versions_of(jp_fetch, "f.txt")) == KEEP

    await call(jp_fetch, "g.txt", "PUT", text("g0"))
    await call(jp_fetch, "g.txt", "PUT", text("g1"))
    await jp_fetch("api", "contents", "f.txt", method="DELETE")
    await call(jp_fetch, "g.txt", "PATCH", {"path": "f.txt"})  # g's history joins f's
    assert len(await versions_of(jp_fetch, "f.txt")) == KEEP


async def test_a_checkpoint_holds_its_content_against_the_quota(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """Jupyter's checkpoint keeps a blob alive after its versions are gone: it counts."""
    cm = manager(jp_serverapp)
    await call(jp_fetch, "a.txt", "PUT", text(distinct("checkpointed")))
    await jp_fetch("api", "contents", "a.txt", "checkpoints", method="POST", body="")
    await call(jp_fetch, "a.txt", "PUT", text(distinct("after")))
    await drop_history(jp_fetch, "a.txt")
    index = await cm.ready()
    usage = await index.usage()
    assert (usage.file_bytes, usage.version_bytes) == (900, 900)
    for name in ("b", "c"):
        await call(jp_fetch, f"{name}.txt", "PUT", text(distinct(name)))
    message = await refused(507, call(jp_fetch, "d.txt", "PUT", text(distinct("d"))))
    assert "checkpoints" in message
