"""Kernel socket folders are private to the server's user (issue #13 item 13): made 0700 in the
data dir (not at a predictable path in /tmp another user could make first), checked, and short
enough for ZMQ's ipc paths however deep the data dir is."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_ide.kernels.sandbox import SandboxManager
from jupyter_ide.kernels.sockets import (
    IPC_PATH_MAX,
    PORTS,
    KernelSockets,
    UnsafeSocketFolder,
    ensure_private_dir,
    fits_socket_paths,
)

KEY = b"0123456789abcdef"


@pytest.fixture
def manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxManager]:
    """A sandbox manager whose data dir is a short private folder of the test's."""
    folder = Path(tempfile.mkdtemp(prefix="jd-"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(folder))
    manager = SandboxManager(mode="docker", owner="tester")
    yield manager
    manager.release_socket_root()
    manager.instances.release()
    manager.close_client()
    for child in sorted(folder.rglob("*"), reverse=True):
        if child.is_dir() and not child.is_symlink():
            child.chmod(0o700)
    shutil.rmtree(folder, ignore_errors=True)


def _private(path: Path) -> None:
    info = path.lstat()
    assert stat.S_ISDIR(info.st_mode), path
    assert stat.S_IMODE(info.st_mode) == 0o700, oct(info.st_mode)
    assert info.st_uid == os.geteuid()


def test_the_socket_root_is_a_private_folder_in_the_data_dir(manager: SandboxManager) -> None:
    sockets = manager.new_kernel_sockets(KEY, "hmac-sha256")
    try:
        root = Path(os.environ["JUPYTER_DATA_DIR"]) / "jupyter_ide" / "sockets"
        assert sockets.folder.parent == root
        _private(root)
        _private(sockets.folder)
        for port in PORTS.values():  # every path a client or the kernel uses fits
            assert len(f"{sockets.host_ip}-{port}") <= IPC_PATH_MAX
            assert len(str(sockets.ipc / f"k-{port}")) <= IPC_PATH_MAX
        assert not str(root).startswith(f"/tmp/jide-{os.getuid()}")
    finally:
        manager.release_kernel_sockets(sockets)
    assert not sockets.folder.exists()


@pytest.mark.parametrize("planted", ["symlink", "loose mode", "another owner", "a file"])
def test_a_socket_root_made_by_someone_else_is_refused(
    manager: SandboxManager, tmp_path: Path, planted: str
) -> None:
    root = Path(os.environ["JUPYTER_DATA_DIR"]) / "jupyter_ide" / "sockets"
    root.parent.mkdir(parents=True, exist_ok=True)
    if planted == "symlink":
        target = tmp_path / "elsewhere"
        target.mkdir(mode=0o700)
        root.symlink_to(target)
        expected = "symbolic link"
    elif planted == "loose mode":
        root.mkdir()
        root.chmod(0o777)
        expected = "mode is 0777"
    elif planted == "another owner":
        if os.geteuid() != 0:
            pytest.fail("making a folder of another user needs root: run the tests as root")
        root.mkdir(mode=0o700)
        os.chown(root, 4242, 4242)
        expected = "belongs to uid 4242"
    else:
        root.write_text("")
        expected = "not a folder"
    with pytest.raises(UnsafeSocketFolder, match=expected) as e:
        manager.new_kernel_sockets(KEY, "hmac-sha256")
    assert "c.SandboxManager.ipc_root" in str(e.value)


def test_a_data_dir_too_deep_gets_a_private_folder_in_the_temp_dir(
    manager: SandboxManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = Path(os.environ["JUPYTER_DATA_DIR"]) / ("deep" * 30)
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(deep))
    assert not fits_socket_paths(deep / "jupyter_ide" / "sockets")
    sockets = manager.new_kernel_sockets(KEY, "hmac-sha256")
    root = sockets.folder.parent
    try:
        assert root.parent == Path(tempfile.gettempdir())
        assert root.name.startswith(f"jide-{manager.server_id[:8]}-{manager.instance_id}-")
        _private(root)
        for port in PORTS.values():
            assert len(f"{sockets.host_ip}-{port}") <= IPC_PATH_MAX
    finally:
        manager.release_kernel_sockets(sockets)
    manager.release_socket_root()
    assert not root.exists()


def test_kernels_starting_at_once_share_one_folder_in_the_temp_dir(
    manager: SandboxManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warm pool starts kernels in threads at once: one folder, removed when the run ends."""
    deep = Path(os.environ["JUPYTER_DATA_DIR"]) / ("deep" * 30)
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(deep))
    prefix = f"jide-{manager.server_id[:8]}-{manager.instance_id}-"
    barrier = threading.Barrier(8)

    def start() -> KernelSockets:
        barrier.wait()
        return manager.new_kernel_sockets(KEY, "hmac-sha256")

    with ThreadPoolExecutor(8) as pool:
        started = list(pool.map(lambda _: start(), range(8)))
    try:
        assert {s.folder.parent for s in started} == {manager.socket_root()}
        made = [p for p in Path(tempfile.gettempdir()).iterdir() if p.name.startswith(prefix)]
        assert made == [manager.socket_root()]
    finally:
        for sockets in started:
            manager.release_kernel_sockets(sockets)
    manager.release_socket_root()
    assert not [p for p in Path(tempfile.gettempdir()).iterdir() if p.name.startswith(prefix)]


def test_a_crashed_runs_folder_in_the_temp_dir_is_swept(
    manager: SandboxManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(Path(os.environ["JUPYTER_DATA_DIR"]) / ("x" * 99)))
    crashed = SandboxManager(mode="docker", owner="tester")
    left = crashed.new_kernel_sockets(KEY, "hmac-sha256").folder.parent
    crashed.instances.release()  # that run ended without cleaning up
    later = SandboxManager(mode="docker", owner="tester")  # the next run on that data dir
    assert later.server_id == crashed.server_id
    mine = later.new_kernel_sockets(KEY, "hmac-sha256")
    try:
        later.sweep()
        assert not left.exists()
        assert mine.folder.is_dir()  # a live run's folder stays
    finally:
        later.release_kernel_sockets(mine)
        later.release_socket_root()
        later.instances.release()
    assert not mine.folder.parent.exists()


def test_the_start_up_sweep_makes_no_socket_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that never starts a kernel leaves nothing behind (in the temp dir either)."""
    folder = Path(tempfile.mkdtemp(prefix="jd-"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(folder / ("y" * 99)))
    manager = SandboxManager(mode="docker", owner="tester")
    prefix = f"jide-{manager.server_id[:8]}-"
    try:
        manager.sweep()
        assert not list(Path(tempfile.gettempdir()).glob(f"{prefix}*"))
    finally:
        manager.instances.release()
        manager.close_client()
        shutil.rmtree(folder, ignore_errors=True)


def test_ensure_private_dir_makes_a_missing_folder_0700(tmp_path: Path) -> None:
    made = ensure_private_dir(tmp_path / "a" / "b")
    _private(made)


class TestThroughTheServer:
    """A refused socket folder is a 503 that says what is wrong, not a 500."""

    @pytest.fixture
    def planted(self, tmp_path: Path) -> Path:
        base = tmp_path / "ipc"
        base.mkdir()
        base.chmod(0o755)
        return base

    @pytest.fixture
    def jp_server_config(self, planted: Path, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        config = {**jp_server_config}
        config["ServerApp"] = {
            **config["ServerApp"],
            "kernel_spec_manager_class": "jupyter_ide.kernels.kernelspecs.IDEKernelSpecManager",
        }
        config["IDESettings"] = {**config["IDESettings"], "sandbox": "docker"}
        config["SandboxManager"] = {**config["SandboxManager"], "ipc_root": str(planted)}
        return config

    async def test_starting_a_kernel_says_why(self, jp_fetch: Any, planted: Path) -> None:
        with pytest.raises(HTTPClientError) as e:
            await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))
        assert e.value.code == 503
        assert e.value.response is not None
        message = json.loads(e.value.response.body)["message"]
        assert f"Refusing to keep kernel sockets in {planted}" in message
        assert "mode is 0755" in message
