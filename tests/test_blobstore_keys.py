"""Blob stores accept only sha256 keys: a planted key never reaches a path or object outside."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from sqlalchemy import select

from jupyter_ide.contents_manager import IDEContentsManager
from jupyter_ide.contents_manager.blobstore import (
    BlobKeyError,
    BlobStore,
    LocalBlobStore,
    S3BlobStore,
)
from jupyter_ide.db.models import Blob, File, FileVersion

from .s3_server import MotoServer
from .test_contents_api import call, manager, refused

DATA = b"a real blob"
GOOD = hashlib.sha256(DATA).hexdigest()

# Keys that are not a sha256 hex digest, several of them aimed at something outside the store.
BAD_KEYS = [
    "",
    "0" * 63,
    "0" * 65,
    "A" * 64,
    "g" * 64,
    "0" * 64 + "\n",
    " " + "0" * 63,
    "../" + "0" * 61,
    "0" * 64 + "/../../secret.txt",
    "../outside/secret.txt",
    "../../other/secret",
    "%2e%2e/secret",
]


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _untouched(secret: Path) -> bool:
    """Return True when the file outside the store still holds what the test put there."""
    return secret.read_bytes() == b"not yours"


async def _every_method(store: BlobStore, key: str, source: Path) -> None:
    """Call each keyed method with ``key``; each must refuse it."""
    calls: list[Callable[[], Awaitable[Any]]] = [
        lambda: store.put(key, b"overwritten"),
        lambda: store.put_file(key, source, source.stat().st_size),
        lambda: store.get(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
    ]
    for method in calls:
        with pytest.raises(BlobKeyError, match="a blob key is a sha256"):
            await method()


async def test_local_store_refuses_keys_that_are_not_hashes(tmp_path: Path) -> None:
    """put/put_file/get/exists/delete refuse bad keys; nothing outside (or inside) changes."""
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_bytes(b"not yours")
    source = tmp_path / "upload.part"
    source.write_bytes(b"overwritten")
    await store.put(GOOD, DATA)
    # A file planted in a shard folder is not a blob: keys() does not yield it.
    (root / GOOD[:2] / "planted").write_bytes(b"x")
    before = _tree(tmp_path)

    # An absolute key made root / key[:2] / key the key itself: /…/outside/secret.txt.
    for key in [*BAD_KEYS, str(secret)]:
        await _every_method(store, key, source)

    assert _tree(tmp_path) == before
    assert await store.get(GOOD) == DATA and await store.exists(GOOD)
    assert [key async for key, _ in store.keys()] == [GOOD]
    await store.delete(GOOD)
    assert not await store.exists(GOOD)


def _objects(server: MotoServer, bucket: str) -> dict[str, bytes]:
    """Every object in ``bucket`` with its bytes, read with a separate client."""
    client = boto3.client("s3", endpoint_url=server.url)
    found = {}
    for item in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        found[item["Key"]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


async def test_s3_store_refuses_keys_that_are_not_hashes(
    s3_bucket: str, moto_server: MotoServer, tmp_path: Path
) -> None:
    """The same on S3: objects outside ``prefix/blobs/`` (another prefix) stay as they were."""
    client = boto3.client("s3", endpoint_url=moto_server.url)
    client.put_object(Bucket=s3_bucket, Key="other/secret", Body=b"another tenant")
    client.put_object(Bucket=s3_bucket, Key="ide/secret", Body=b"next to the blobs")
    client.put_object(Bucket=s3_bucket, Key="ide/blobs/not-a-blob", Body=b"x")
    store = S3BlobStore(s3_bucket, "ide", endpoint_url=moto_server.url)
    source = tmp_path / "upload.part"
    source.write_bytes(b"overwritten")
    try:
        await store.put(GOOD, DATA)
        before = _objects(moto_server, s3_bucket)
        for key in BAD_KEYS:
            await _every_method(store, key, source)
        assert _objects(moto_server, s3_bucket) == before
        assert await store.get(GOOD) == DATA
        assert [key async for key, _ in store.keys()] == [GOOD]
    finally:
        await store.close()


# -- a tampered index, through the server -----------------------------------------------------


@pytest.fixture
def ide_db_url(contents_db_url: str) -> str:
    """The backend's database."""
    return contents_db_url


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], storage_settings: dict[str, str]
) -> dict[str, Any]:
    """The shared config on the store under test."""
    config = {**jp_server_config}
    config["IDESettings"] = {**config["IDESettings"], **storage_settings}
    config["IDEContentsManager"] = {"sync_interval": 0.0, "gc_interval": 0.0}
    return config


@pytest.fixture
def short_outside() -> Iterator[Path]:
    """A file outside every store, with a path short enough for a 64-character column."""
    folder = Path(tempfile.mkdtemp(prefix="ide-blobkey-", dir="/tmp"))
    secret = folder / "secret.txt"
    secret.write_bytes(b"not yours")
    assert len(str(secret)) <= 64
    try:
        yield secret
    finally:
        secret.unlink(missing_ok=True)
        folder.rmdir()


async def test_gc_and_reads_with_planted_rows_touch_nothing_outside(
    jp_fetch: Any, jp_serverapp: Any, short_outside: Path, contents_backend: str
) -> None:
    """Rows naming a path as their blob: GC deletes nothing, reads get a clear error."""
    cm: IDEContentsManager = manager(jp_serverapp)
    await call(jp_fetch, "real.txt", "PUT", {"type": "file", "format": "text", "content": "x"})
    index = await cm.ready()
    assert cm.db is not None
    planted = [str(short_outside), "../../other/secret", "../" + "0" * 61]
    if contents_backend.startswith("s3"):
        store = cm.blobs
        assert isinstance(store, S3BlobStore)
        client = await store.client()
        await client.put_object(Bucket=store.bucket, Key="other/secret", Body=b"another")
    long_ago = datetime.now(timezone.utc) - timedelta(days=30)
    async with cm.db.session() as session:
        for key in planted:
            session.add(Blob(content_hash=key, size=1, created_at=long_ago, touched_at=long_ago))
        session.add(
            File(
                workspace_id=index.workspace_id,
                path="planted.txt",
                kind="file",
                parent="",
                content_hash=str(short_outside),
                size=9,
            )
        )
        version = FileVersion(
            workspace_id=index.workspace_id,
            path="real.txt",
            content_hash=str(short_outside),
            size=9,
            reason="save",
        )
        session.add(version)
    assert await cm.collect_garbage(grace=0) == []
    assert _untouched(short_outside)
    if contents_backend.startswith("s3"):
        got = await client.get_object(Bucket=store.bucket, Key="other/secret")
        async with got["Body"] as body:
            assert await body.read() == b"another"
    async with cm.db.session() as session:
        rows = set((await session.execute(select(Blob.content_hash))).scalars())
    assert set(planted) <= rows  # refused, not forgotten: an admin can see what was planted

    message = await refused(500, call(jp_fetch, "planted.txt"))
    assert "not yours" not in message and "a blob key is a sha256" in message
    message = await refused(500, jp_fetch("ide", "api", "history", str(version.id)))
    assert "a blob key is a sha256" in message
    assert _untouched(short_outside)
    assert (await call(jp_fetch, "real.txt"))["content"] == "x"
