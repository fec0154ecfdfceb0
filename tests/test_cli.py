"""The `jupyter ide` commands, run as a person would, in their own processes."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_ide.db import head_revision

JUPYTER_IDE = str(Path(sys.executable).parent / "jupyter-ide")


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """An environment with its own Jupyter dirs and database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "OPENAI", "GEMINI"))}
    for name in ("config", "data", "runtime"):
        (tmp_path / name).mkdir()
        env[f"JUPYTER_{name.upper()}_DIR"] = str(tmp_path / name)
    env["JUPYTER_IDE_DB_URL"] = f"sqlite:///{tmp_path / 'ide.db'}"
    env["JUPYTER_IDE_STORAGE_URL"] = (tmp_path / "blobs").as_uri()
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    return env


def _run(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `jupyter ide …` and capture what it prints."""
    return subprocess.run(
        [JUPYTER_IDE, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_upgrade_db_creates_then_keeps_the_schema(cli_env: dict[str, str]) -> None:
    """upgrade-db migrates an empty database to head and is idempotent."""
    first = _run(["upgrade-db"], cli_env)
    assert first.returncode == 0, first.stderr
    assert f"-> {head_revision()}" in first.stdout
    second = _run(["upgrade-db"], cli_env)
    assert second.returncode == 0, second.stderr
    assert "already at" in second.stdout


def test_doctor_reports_every_part(cli_env: dict[str, str]) -> None:
    """doctor prints one line per dependency and exits 0 when the required ones are fine."""
    assert _run(["upgrade-db"], cli_env).returncode == 0
    result = _run(["doctor"], cli_env)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("frontend", "database", "cache", "storage", "docker", "images", "sandbox", "ai"):
        assert f" {name} " in result.stdout, name
    assert "Everything required is ok." in result.stdout


def test_doctor_fails_with_the_fix_when_redis_is_unreachable(cli_env: dict[str, str]) -> None:
    """A configured Redis that does not answer is broken, with the exact fix, exit 1."""
    cli_env["JUPYTER_IDE_REDIS_URL"] = "redis://127.0.0.1:1/0"
    result = _run(["doctor"], cli_env)
    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if " cache " in line)
    assert line.split()[0] == "broken"
    assert "fix: start redis-server" in result.stdout


def test_doctor_fails_when_docker_is_required_but_absent(cli_env: dict[str, str]) -> None:
    """JUPYTER_IDE_SANDBOX=docker makes the engine required."""
    cli_env["JUPYTER_IDE_SANDBOX"] = "docker"
    cli_env["DOCKER_HOST"] = "tcp://127.0.0.1:1"
    result = _run(["doctor"], cli_env)
    assert result.returncode == 1
    assert "fix: install Debian's docker.io" in result.stdout


def test_server_refuses_to_start_on_a_schema_mismatch(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    """A database at a revision this version does not know stops the server, naming the fix."""
    assert _run(["upgrade-db"], cli_env).returncode == 0
    with sqlite3.connect(tmp_path / "ide.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'f00dfeed'")
    (tmp_path / "root").mkdir()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = _run(
        ["--no-browser", f"--port={port}", f"--ServerApp.root_dir={tmp_path / 'root'}"], cli_env
    )
    assert result.returncode != 0
    assert "jupyter ide upgrade-db" in result.stdout + result.stderr
