"""The database restarts under a running server: requests fail clearly, then work again.

Uses a throwaway PostgreSQL cluster on its own port (never the shared one on 5432).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .s3_server import free_port
from .test_contents_api import call, refused


def _pg_bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    if not found:
        pytest.fail(
            f"PostgreSQL's {tool} is missing; `make test` installs it (scripts/services.sh)"
        )
    return found[-1]


class Cluster:
    """A PostgreSQL cluster in a temporary folder, run as the postgres user when we are root."""

    def __init__(self) -> None:
        """Create (initdb) the cluster; start() runs it."""
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="ide-pg-"))
        self.data = self.folder / "data"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.folder, "postgres")
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        subprocess.run(
            [*self.as_user, *argv], check=True, capture_output=True, cwd=self.folder, timeout=120
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._run(
            _pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.folder / "log"),
            "start",
        )

    def stop(self) -> None:
        """Stop the server (fast shutdown: open connections are cut)."""
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A running throwaway cluster, removed afterwards."""
    made = Cluster()
    made.start()
    try:
        yield made
    finally:
        try:
            made.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(made.folder, ignore_errors=True)


@pytest.fixture
def ide_db_url(cluster: Cluster) -> str:
    """The server's database is the throwaway cluster."""
    return cluster.url


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """Local blob store; no timers."""
    config = {**jp_server_config}
    config["IDESettings"] = {**config["IDESettings"], "storage_url": (tmp_path / "b").as_uri()}
    config["IDEContentsManager"] = {"sync_interval": 0.0}
    return config


async def test_database_restart_while_serving(jp_fetch: Any, cluster: Cluster) -> None:
    """During the outage: 503 saying so, nothing changed; after it: everything works."""
    await call(jp_fetch, "a.txt", "PUT", {"type": "file", "format": "text", "content": "before"})
    cluster.stop()
    try:
        message = await refused(
            503, call(jp_fetch, "a.txt", "PUT", {"type": "file", "format": "text", "content": "x"})
        )
        assert "database did not answer" in message
        await refused(503, call(jp_fetch, "", content="1"))
    finally:
        cluster.start()
    assert (await call(jp_fetch, "a.txt"))["content"] == "before"
    await call(jp_fetch, "a.txt", "PUT", {"type": "file", "format": "text", "content": "after"})
    assert (await call(jp_fetch, "a.txt"))["content"] == "after"
