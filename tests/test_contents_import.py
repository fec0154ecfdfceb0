"""`jupyter ide import` of an s3contents bucket, and `jupyter ide doctor` on an S3 bucket."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_ide.contents_manager.blobstore import LocalBlobStore
from jupyter_ide.contents_manager.index import FileIndex, Limits, open_workspace
from jupyter_ide.db import Database

from .s3_server import CREDENTIALS, MotoServer

JUPYTER_IDE = str(Path(sys.executable).parent / "jupyter-ide")


@pytest.fixture
def env(tmp_path: Path, moto_server: MotoServer) -> dict[str, str]:
    """Own Jupyter dirs and database; blobs in a folder; moto as the S3 endpoint."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    for name in ("config", "data", "runtime"):
        (tmp_path / name).mkdir()
        env[f"JUPYTER_{name.upper()}_DIR"] = str(tmp_path / name)
    env.update(CREDENTIALS)
    env["JUPYTER_IDE_DB_URL"] = f"sqlite:///{tmp_path / 'ide.db'}"
    env["JUPYTER_IDE_STORAGE_URL"] = (tmp_path / "blobs").as_uri()
    env["JUPYTER_IDE_S3_ENDPOINT_URL"] = moto_server.url
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [JUPYTER_IDE, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_import_an_s3contents_bucket(
    env: dict[str, str], s3_bucket: str, moto_server: MotoServer, tmp_path: Path
) -> None:
    """Files, nested folders and empty folders (.s3keep) land in the named workspace."""
    s3 = moto_server.client()
    objects = {
        "course/notes.md": b"# notes",
        "course/sub/.s3keep": b"",
        "course/sub/a.py": b"print(1)",
        "course/empty/.s3keep": b"",
        "elsewhere/skip.txt": b"not under the prefix",
    }
    for key, body in objects.items():
        s3.put_object(Bucket=s3_bucket, Key=key, Body=body)  # type: ignore[attr-defined]
    done = _run(
        ["import", f"s3://{s3_bucket}/course", "--workspace", "cs101", "--user", "ada"], env
    )
    assert done.returncode == 0, done.stderr
    assert "Imported 2 files" in done.stdout

    async def look() -> dict[str, str]:
        db = Database(env["JUPYTER_IDE_DB_URL"])
        try:
            user_id, workspace_id = await open_workspace(db, "ada", "cs101")
            entries = await FileIndex(db, user_id, workspace_id, Limits()).everything()
            return {e.path: e.kind if e.kind == "directory" else e.content_hash for e in entries}
        finally:
            await db.dispose()

    found = asyncio.run(look())
    assert found == {
        "notes.md": hashlib.sha256(b"# notes").hexdigest(),
        "sub": "directory",
        "sub/a.py": hashlib.sha256(b"print(1)").hexdigest(),
        "empty": "directory",
    }
    store = LocalBlobStore(tmp_path / "blobs")
    assert asyncio.run(store.get(found["sub/a.py"])) == b"print(1)"


def test_import_needs_an_s3_url(env: dict[str, str]) -> None:
    """A wrong argument prints the usage and fails."""
    done = _run(["import", "/tmp/somewhere"], env)
    assert done.returncode == 2 and "usage" in done.stdout


def test_doctor_probes_the_bucket(env: dict[str, str], s3_bucket: str) -> None:
    """The doctor reaches and writes the bucket and reports versioning and encryption."""
    env["JUPYTER_IDE_STORAGE_URL"] = f"s3://{s3_bucket}/ide"
    done = _run(["doctor"], env)
    line = next(x for x in done.stdout.splitlines() if "storage" in x)
    assert "ok" in line and "versioning: off" in line and "bucket encryption" in line
    env["JUPYTER_IDE_STORAGE_URL"] = "s3://no-such-bucket-here/ide"
    done = _run(["doctor"], env)
    line = next(x for x in done.stdout.splitlines() if "storage" in x)
    assert "broken" in line and done.returncode != 0
