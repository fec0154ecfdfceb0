"""Shared fixtures: a real Jupyter Server with the jupyter-ide extension, on loopback."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from jupyter_ide.contents_manager.volume import sweep_stale
from jupyter_ide.kernels.profile import LABEL_KIND, LABEL_SERVER

pytest_plugins = ["pytest_jupyter.jupyter_server", "tests.services", "tests.s3_server"]

SMALL_FILE_LIMIT = 4096
# Where pip (also `pip install -e`) puts the package's jupyter-config file.
INSTALLED_SERVER_CONFIG = (
    Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / "jupyter_ide.json"
)


@pytest.fixture
def ide_db_url(tmp_path: Path) -> str:
    """A SQLite database for one server, outside its root dir."""
    return f"sqlite:///{tmp_path / 'state' / 'ide.db'}"


@pytest.fixture
def jp_env_config_path(tmp_path: Path) -> Path:
    """The environment's config dir of a test server: the installed jupyter-config file only.

    That file enables the extension, which gives the server the IDE's managers, as under
    `jupyter server`, `jupyter lab` and jupyterhub-singleuser: the suite tests what users get.
    """
    if not INSTALLED_SERVER_CONFIG.is_file():
        pytest.fail(f"{INSTALLED_SERVER_CONFIG} is missing: reinstall with `make setup`")
    path = tmp_path / "env" / "etc" / "jupyter"
    (path / "jupyter_server_config.d").mkdir(parents=True)
    shutil.copy(INSTALLED_SERVER_CONFIG, path / "jupyter_server_config.d")
    return path


@pytest.fixture
def jp_server_config(ide_db_url: str) -> dict[str, Any]:
    """A server that refuses unauthenticated access; the IDE comes from the installed file."""
    return {
        "ServerApp": {"allow_unauthenticated_access": False},
        # Test servers come and go in one process: freezing would keep each one's garbage.
        "IDESettings": {"db_url": ide_db_url, "redis_url": "", "freeze_startup_heap": False},
        "IDEContentsManager": {"max_file_size": SMALL_FILE_LIMIT},
        # No warm kernels unless a test asks for them: each would start a container.
        "SandboxManager": {"pool_size": 0},
        "JudgeSettings": {"pool_size": 0},
    }


@pytest.fixture(scope="session", autouse=True)
def no_stray_volumes() -> Iterator[None]:
    """Before and after the run, unmount workspace volumes no server holds any more.

    A root server killed outright leaves its loop-mounted workspace volume behind, and a
    mount point inside an old temporary folder would stop pytest from removing it.
    """
    if os.geteuid() == 0:
        sweep_stale(Path("/"))
    yield
    if os.geteuid() == 0:
        sweep_stale(Path("/"))


@pytest.fixture(scope="session", autouse=True)
def no_stray_sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the run, remove the sandbox containers its own test servers left.

    A server's containers carry its id, kept in its data dir; this run's in-process servers
    keep theirs under the run's temp folder. Containers of other runs (a second pytest, a
    developer's server) are theirs to remove.
    """
    yield
    ids = set()
    for path in tmp_path_factory.getbasetemp().rglob("server_id"):
        with contextlib.suppress(OSError):
            ids.add(path.read_text().strip())
    try:
        engine = docker.from_env(timeout=30)
        containers = engine.containers.list(all=True, filters={"label": LABEL_KIND})
    except docker.errors.DockerException:
        return
    for container in containers:
        if container.labels.get(LABEL_SERVER) in ids:
            with contextlib.suppress(docker.errors.DockerException):
                container.remove(force=True)
