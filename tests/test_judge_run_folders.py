"""Servers that share a data dir keep their judge folders apart (issue #19 follow-up).

A judge starting used to delete judge/slots and judge/jobs whole, under the boxes and builds
of another server running on the same data dir.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from jupyter_ide.cache import MemoryCache
from jupyter_ide.kernels.judge.manager import JudgeManager
from jupyter_ide.kernels.judge.settings import JudgeSettings
from jupyter_ide.kernels.sandbox import SandboxManager
from jupyter_ide.server_extension.settings import data_dir


@pytest.fixture
def shared_data_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """One short data dir for every server of the test."""
    folder = Path(tempfile.mkdtemp(prefix="jd-"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(folder))
    yield folder


def _judge(sandbox: SandboxManager | None) -> JudgeManager:
    """A judge on the shared data dir (its database and cache are not used here)."""
    return JudgeManager(JudgeSettings(), cast(Any, None), MemoryCache(), sandbox, data_dir())


def test_a_second_server_keeps_the_first_ones_slots_and_jobs(shared_data_dir: Path) -> None:
    first, second = SandboxManager(mode="docker"), SandboxManager(mode="docker")
    first.instances.hold()
    second.instances.hold()
    try:
        made = {name: _judge(first)._run_folder(name) for name in ("slots", "jobs")}
        for folder in made.values():
            (folder / "busy").write_text("a box of the first server uses this")
        for name in ("slots", "jobs"):
            own = _judge(second)._run_folder(name)
            assert own != made[name] and own.parent == made[name].parent
            assert (made[name] / "busy").exists()
            assert oct(own.stat().st_mode & 0o777) == oct(0o755)
    finally:
        second.instances.release()
        first.instances.release()


def test_what_an_ended_run_left_is_removed(shared_data_dir: Path) -> None:
    ended = SandboxManager(mode="docker")
    ended.instances.hold()
    left = _judge(ended)._run_folder("slots")
    (left / "stale").write_text("")
    legacy = left.parent / "0123456789abcdef"  # a slot of the old layout, straight in slots/
    legacy.mkdir()
    ended.instances.release()
    now = SandboxManager(mode="docker")
    now.instances.hold()
    try:
        own = _judge(now)._run_folder("slots")
        assert sorted(p.name for p in own.parent.iterdir()) == [own.name]
    finally:
        now.instances.release()
