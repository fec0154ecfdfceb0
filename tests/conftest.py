"""Shared fixtures: a real Jupyter Server with the jupyter-ide extension, on loopback."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import docker
import pytest

from jupyter_ide.kernels.profile import LABEL_KIND

pytest_plugins = ["pytest_jupyter.jupyter_server", "tests.services", "tests.s3_server"]

SMALL_FILE_LIMIT = 4096


@pytest.fixture
def ide_db_url(tmp_path: Path) -> str:
    """A SQLite database for one server, outside its root dir."""
    return f"sqlite:///{tmp_path / 'state' / 'ide.db'}"


@pytest.fixture
def jp_server_config(ide_db_url: str) -> dict[str, Any]:
    """Enable jupyter-ide on a server that refuses unauthenticated access."""
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_ide": True},
            "allow_unauthenticated_access": False,
            "contents_manager_class": "jupyter_ide.contents_manager.IDEContentsManager",
            "identity_provider_class": "jupyter_ide.auth.identity.IDEIdentityProvider",
        },
        # Test servers come and go in one process: freezing would keep each one's garbage.
        "IDESettings": {"db_url": ide_db_url, "redis_url": "", "freeze_startup_heap": False},
        "IDEContentsManager": {"max_file_size": SMALL_FILE_LIMIT},
        # No warm kernels unless a test asks for them: each would start a container.
        "SandboxManager": {"pool_size": 0},
        "JudgeSettings": {"pool_size": 0},
    }


@pytest.fixture(scope="session", autouse=True)
def no_stray_sandboxes() -> Iterator[None]:
    """After the run, remove any sandbox container a test server left (each has its own id)."""
    started = time.time()
    yield
    try:
        engine = docker.from_env(timeout=30)
        containers = engine.containers.list(all=True, filters={"label": LABEL_KIND})
    except docker.errors.DockerException:
        return
    for container in containers:
        created = container.attrs.get("Created", "")
        try:
            when = datetime.fromisoformat(created[:26].rstrip("Z")).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
        if when.timestamp() >= started - 1:
            with contextlib.suppress(docker.errors.DockerException):
                container.remove(force=True)
