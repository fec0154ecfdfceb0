"""A contents save: how many database transactions it takes, and that a failure at any step
leaves the previous file, model and index intact (PostgreSQL and S3, as deployed)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine, make_url

from jupyter_ide.classroom.activity_setup import ACTIVITY
from jupyter_ide.contents_manager import IDEContentsManager
from jupyter_ide.db.models import Blob, File

from .s3_server import CREDENTIALS, MotoServer, TcpGate
from .test_contents_api import NOTEBOOK, call, manager, refused

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def ide_db_url(pg_database_url: str) -> str:
    """PostgreSQL, as deployed."""
    return pg_database_url


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], s3_bucket: str, s3_gate: TcpGate
) -> dict[str, Any]:
    """S3 behind a gate the test can close; quotas, history and the activity hook on."""
    config = {**jp_server_config}
    config["IDESettings"] = {
        **config["IDESettings"],
        "storage_url": f"s3://{s3_bucket}/atomic",
        "s3_endpoint_url": s3_gate.url,
    }
    config["IDEContentsManager"] = {
        "max_file_size": 1024 * 1024,
        "sync_interval": 0.0,
        # Retention keeps the last 2 and nothing by hour or day: it prunes during these saves.
        "keep_last": 2,
        "keep_hourly": 0,
        "keep_daily": 0,
    }
    # The activity recorder writes its batch later, outside the save: keep it out of the count.
    config["ActivitySettings"] = {"batch_seconds": 5.0}
    return config


class Transactions:
    """Count the database transactions begun in this process (every engine)."""

    def __init__(self) -> None:
        """Start at zero."""
        self.count = 0

    def begun(self, *args: Any) -> None:
        """Engine event: one more transaction."""
        self.count += 1


@pytest.fixture
def transactions() -> Iterator[Transactions]:
    """A counter of every transaction that begins while the test runs."""
    counter = Transactions()
    event.listen(Engine, "begin", counter.begun)
    try:
        yield counter
    finally:
        event.remove(Engine, "begin", counter.begun)


def text(content: str) -> dict[str, str]:
    """A text file model."""
    return {"type": "file", "format": "text", "content": content}


async def counted(counter: Transactions, coro: Any) -> int:
    """Await ``coro``; return how many transactions it took."""
    before = counter.count
    await coro
    return counter.count - before


async def test_a_save_takes_few_transactions(
    jp_fetch: Any, jp_serverapp: Any, transactions: Transactions
) -> None:
    """PUT /api/contents: a text file, a notebook, a new folder and a new file in it.

    A save is one read (Jupyter's handler asks whether the file exists), the quota check with
    the blob's claim (before the blob is put), and one transaction for the index row, the
    version it keeps and the retention of the history: three in all.
    """
    cm = manager(jp_serverapp)
    assert any(getattr(h, "__name__", "") == "saved" for h in cm._post_save_hooks)
    await call(jp_fetch, "a.py", "PUT", text("one"))
    await call(jp_fetch, "n.ipynb", "PUT", {"type": "notebook", "content": NOTEBOOK})
    counts = {}
    for i in range(4):  # past keep_last: retention drops versions within the save
        counts[f"text {i}"] = await counted(
            transactions, call(jp_fetch, "a.py", "PUT", text(f"v{i}"))
        )
    changed = json.loads(json.dumps(NOTEBOOK))
    changed["cells"][0]["source"] = "print('changed')"
    counts["notebook"] = await counted(
        transactions, call(jp_fetch, "n.ipynb", "PUT", {"type": "notebook", "content": changed})
    )
    counts["folder"] = await counted(
        transactions, call(jp_fetch, "new", "PUT", {"type": "directory"})
    )
    counts["new file"] = await counted(transactions, call(jp_fetch, "new/b.py", "PUT", text("new")))
    # The activity recorder's write comes later, batched, in one transaction of its own.
    recorder = jp_serverapp.web_app.settings[ACTIVITY].recorder
    assert await counted(transactions, recorder.flush()) == 1
    print("transactions per PUT:", counts)
    assert all(n <= 3 for n in counts.values()), counts
    assert counts["folder"] <= 2, counts
    history = await jp_fetch("ide", "api", "history", params={"path": "a.py"})
    assert len(json.loads(history.body)["versions"]) == 2  # keep_last, pruned in the save
    assert (await call(jp_fetch, "a.py"))["content"] == "v3"
    assert (await call(jp_fetch, "new/b.py"))["content"] == "new"


async def settle(jp_serverapp: Any) -> None:
    """Write the activity events the saves queued (before the test's database goes)."""
    await jp_serverapp.web_app.settings[ACTIVITY].recorder.flush()


async def index_points_at_stored_blobs(cm: IDEContentsManager) -> None:
    """Assert that every file row names a blob the store holds (no half-written file)."""
    assert cm.db is not None
    async with cm.db.session() as session:
        hashes = set(
            (await session.execute(select(File.content_hash).where(File.kind == "file"))).scalars()
        )
    for content_hash in hashes:
        assert await cm.blobs.exists(content_hash), content_hash


async def test_s3_refusing_the_put_changes_nothing(
    jp_fetch: Any, jp_serverapp: Any, s3_gate: TcpGate
) -> None:
    """S3 unreachable during the put: 503, the old content, model and index stay."""
    cm = manager(jp_serverapp)
    await call(jp_fetch, "doc.md", "PUT", text("old"))
    before = await call(jp_fetch, "doc.md", hash="1")
    s3_gate.close()
    try:
        await refused(503, call(jp_fetch, "doc.md", "PUT", text("new")))
        await refused(503, call(jp_fetch, "fresh.md", "PUT", text("never stored")))
    finally:
        s3_gate.open()
    assert await call(jp_fetch, "doc.md", hash="1") == before
    await refused(404, call(jp_fetch, "fresh.md"))
    await index_points_at_stored_blobs(cm)
    await call(jp_fetch, "doc.md", "PUT", text("new"))  # and the next save works
    assert (await call(jp_fetch, "doc.md"))["content"] == "new"
    await settle(jp_serverapp)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_the_database_refusing_the_commit_changes_nothing(
    jp_fetch: Any, jp_serverapp: Any, ide_db_url: str
) -> None:
    """PostgreSQL raises at COMMIT of the index write (a deferred constraint trigger): the
    blob is stored, but the file, its model and its history are what they were."""
    cm = manager(jp_serverapp)
    await call(jp_fetch, "doc.md", "PUT", text("old"))
    before = await call(jp_fetch, "doc.md", hash="1")
    history = await jp_fetch("ide", "api", "history", params={"path": "doc.md"})
    with psycopg.connect(_libpq(ide_db_url), autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$"
        )
        conn.execute(
            "CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT OR UPDATE ON files "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
        try:
            await refused(503, call(jp_fetch, "doc.md", "PUT", text("new")))
        finally:
            conn.execute("DROP TRIGGER refuse_commit ON files")
    assert await call(jp_fetch, "doc.md", hash="1") == before
    again = await jp_fetch("ide", "api", "history", params={"path": "doc.md"})
    assert json.loads(again.body) == json.loads(history.body)
    assert (cm.workspace_dir / "doc.md").read_text() == "old"
    new_hash = hashlib.sha256(b"new").hexdigest()
    assert await cm.blobs.exists(new_hash)  # stored first; only its claim row names it
    await index_points_at_stored_blobs(cm)
    assert new_hash in await cm.collect_garbage(grace=0)  # the orphan goes with GC
    await settle(jp_serverapp)


KILLED_SAVE = """
import asyncio, json, os, signal, sys
from jupyter_ide.classroom.activity_setup import ACTIVITY
from jupyter_ide.contents_manager import IDEContentsManager
from jupyter_ide.contents_manager.index import FileIndex
from jupyter_ide.db import Database
from jupyter_ide.server_extension.settings import IDESettings

args = json.loads(sys.argv[1])

async def die(*a, **k):
    os.kill(os.getpid(), signal.SIGKILL)  # after the blob, before the index

async def main():
    cm = IDEContentsManager(sync_interval=0.0, gc_interval=0.0, owner="killed",
                            workspaces_root=args["root"])
    cm.db = Database(args["db"])
    settings = IDESettings(storage_url=args["storage"], s3_endpoint_url=args["endpoint"])
    cm.settings_ = lambda: settings
    await cm.save({"type": "file", "format": "text", "content": "old"}, "doc.md")
    FileIndex.write_file = die
    await cm.save({"type": "file", "format": "text", "content": "new"}, "doc.md")

asyncio.run(main())
"""


async def test_a_process_killed_between_blob_and_index(
    ide_db_url: str, s3_bucket: str, moto_server: MotoServer, tmp_path: Path
) -> None:
    """SIGKILL after the blob is put and before the index write: a new server still serves
    the old file, every index row names a stored blob, and GC removes the orphan."""
    from jupyter_ide.db import Database, ensure_schema
    from jupyter_ide.server_extension.settings import IDESettings

    ensure_schema(ide_db_url)
    args = {
        "db": ide_db_url,
        "storage": f"s3://{s3_bucket}/killed",
        "endpoint": moto_server.url,
        "root": str(tmp_path / "ws"),
    }
    env = {**os.environ, **CREDENTIALS, "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", KILLED_SAVE, json.dumps(args)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -9, done.stderr
    os.environ["JUPYTER_DATA_DIR"] = env["JUPYTER_DATA_DIR"]
    cm = IDEContentsManager(
        sync_interval=0.0, gc_interval=0.0, owner="killed", workspaces_root=str(tmp_path / "ws2")
    )
    cm.db = Database(ide_db_url)
    settings = IDESettings(storage_url=args["storage"], s3_endpoint_url=args["endpoint"])
    cm.settings_ = lambda: settings  # type: ignore[method-assign]
    try:
        model = await cm.get("doc.md")
        assert model["content"] == "old"
        await index_points_at_stored_blobs(cm)
        orphan = hashlib.sha256(b"new").hexdigest()
        assert await cm.blobs.exists(orphan)
        async with cm.db.session() as session:
            assert await session.get(Blob, orphan) is not None  # claimed: GC knows of it
        assert orphan in await cm.collect_garbage(grace=0)
        assert (await cm.get("doc.md"))["content"] == "old"
    finally:
        await cm.close()
        await cm.db.dispose()
