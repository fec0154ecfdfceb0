"""judge-box built inside the C sandbox image (hosts without a static C toolchain), from a folder
inside the server user's home — for root, under /root, which the sandbox user cannot enter."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from jupyter_ide.kernels.judge import boxbin

from .test_judge_common import docker_or_fail


@pytest.fixture
def staging() -> Iterator[Path]:
    """A build folder inside the user's real home (as `jupyter ide` keeps its data there)."""
    docker_or_fail()
    parent = Path.home() / ".cache"
    parent.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="judge-box-build-", dir=parent))
    shutil.copyfile(boxbin.SOURCE, folder / "judge_box.c")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_judge_box_builds_in_the_c_image_from_a_folder_in_the_users_home(staging: Path) -> None:
    """The in-image build mounts its folder at a fixed path, so it works from under /root."""
    client = docker.from_env(timeout=60)
    try:
        assert boxbin._build_in_image(staging, client)
    finally:
        client.close()
    built = staging / boxbin.BINARY_NAME
    assert built.read_bytes()[:4] == b"\x7fELF" and built.stat().st_size > 100_000  # static
