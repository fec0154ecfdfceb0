"""The workspace volume: code in a sandbox cannot write past the user's cap (issue #13, item 5).

As root (this project's machines), each user's folder is a loop-mounted ext4 image: a kernel
writing past the cap gets ENOSPC, the IDE says "Workspace full" and lists what fills it, and
deleting frees the space. The normal-user fallback is in test_workspace_volume_fallback.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.session import Session
from tornado.httpclient import HTTPClientError
from tornado.web import HTTPError
from traitlets.config import Config

from jupyter_ide.contents_manager import IDEContentsManager, loopfs
from jupyter_ide.contents_manager.volume import sweep_stale
from jupyter_ide.db import Database, ensure_schema
from jupyter_ide.server_extension.checks import probe_workspace_volume
from jupyter_ide.server_extension.settings import IDESettings

from .kernel_host import require_images

MIB = 1024 * 1024
CAP = 24 * MIB
BIG_SAVE = 2 * MIB


def _require_root() -> None:
    if os.geteuid() != 0:
        pytest.fail("the workspace volume tests run as root (as `make test` does here)")


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """A server whose workspace folder must be a volume of CAP bytes, serving ide-* kernels."""
    config = {**jp_server_config}
    config["ServerApp"] = {
        **config["ServerApp"],
        "kernel_spec_manager_class": "jupyter_ide.kernels.kernelspecs.IDEKernelSpecManager",
    }
    config["SandboxManager"] = {"pool_size": 0, "default_limits": {"time_limit": 30}}
    config["IDEContentsManager"] = {
        **config.get("IDEContentsManager", {}),
        "max_file_size": 4 * MIB,  # the junk below is larger: code wrote it, the index has not
    }
    config["WorkspaceVolume"] = {"mode": "loop", "size_bytes": CAP}
    return config


async def _start_kernel(jp_fetch: Any) -> str:
    response = await jp_fetch(
        "api", "kernels", method="POST", body=json.dumps({"name": "ide-python"})
    )
    return str(json.loads(response.body)["id"])


async def _run_cell(jp_ws_fetch: Any, kernel_id: str, code: str, timeout: float = 90) -> str:
    """Run a cell over the kernel's WebSocket; return what it printed (and error names)."""
    ws = await jp_ws_fetch("api", "kernels", kernel_id, "channels")
    session = Session()
    msg = session.msg("execute_request", {"code": code, "silent": False, "allow_stdin": False})
    msg["channel"] = "shell"
    msg["header"]["date"] = msg["header"]["date"].isoformat()
    msg["parent_header"] = {}
    await ws.write_message(json.dumps(msg, default=str))
    text: list[str] = []
    replied = idle = False
    try:
        while not (replied and idle):
            reply = json.loads(await asyncio.wait_for(ws.read_message(), timeout))
            if reply.get("parent_header", {}).get("msg_id") != msg["header"]["msg_id"]:
                continue
            kind = reply["msg_type"]
            if kind == "stream":
                text.append(reply["content"]["text"])
            elif kind == "error":
                text.append(f"{reply['content']['ename']}: {reply['content']['evalue']}")
            elif kind == "execute_reply":
                replied = True
            elif kind == "status":
                idle = reply["content"]["execution_state"] == "idle"
        return "".join(text)
    finally:
        ws.close()


FILL = """
import errno, os, shutil, subprocess
shutil.copy("/bin/true", "prog")  # a program built in the workspace must run there
print("EXEC", subprocess.run(["./prog"]).returncode)
cwd = os.getcwd()
mount = [line.split() for line in open("/proc/self/mountinfo") if line.split()[4] == cwd]
print("OPTS", mount[-1][5])
os.remove("prog")
written = 0
try:
    with open("junk.bin", "wb") as f:
        chunk = b"x" * (1 << 20)
        while written < 200 << 20:
            f.write(chunk)
            f.flush()
            written += len(chunk)
        os.fsync(f.fileno())
except OSError as e:
    print("ERR", errno.errorcode.get(e.errno), written)
info = os.statvfs(".")
print("FS", info.f_blocks * info.f_frsize)
"""


async def _json(jp_fetch: Any, *parts: str, **kwargs: Any) -> Any:
    return json.loads((await jp_fetch(*parts, **kwargs)).body)


async def _save(jp_fetch: Any, path: str, size: int) -> tuple[int, str]:
    """Save ``size`` bytes at ``path``; return the status and an error's message."""
    body = json.dumps({"type": "file", "format": "text", "content": "y" * size})
    try:
        response = await jp_fetch("api", "contents", path, method="PUT", body=body)
    except HTTPClientError as e:
        assert e.response is not None
        return e.code, str(json.loads(e.response.body)["message"])
    return response.code, ""


def _allocated(path: Path) -> int:
    return os.stat(path).st_blocks * 512


async def test_code_past_the_cap_gets_enospc_and_the_user_is_told(
    jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any
) -> None:
    """A sandboxed kernel fills its workspace: ENOSPC at the cap, a clear message, room back."""
    _require_root()
    require_images("python")
    cm: IDEContentsManager = jp_serverapp.contents_manager
    await _json(jp_fetch, "api", "contents")
    root = cm.workspace_dir.parent
    image = loopfs.image_for(root)
    mounted = loopfs.mounts_at(root)
    assert len(mounted) == 1 and loopfs.backing_file(mounted[0].source) == str(image)
    assert "nosuid" in mounted[0].options and "nodev" in mounted[0].options

    kernel_id = await _start_kernel(jp_fetch)
    try:
        out = await _run_cell(jp_ws_fetch, kernel_id, FILL)
        words = dict(line.split(" ", 1) for line in out.strip().splitlines())
        error, written = words["ERR"].split()
        assert error == "ENOSPC", out  # "No space left on device", inside the sandbox
        assert words["EXEC"] == "0"
        assert {"nosuid", "nodev"} <= set(words["OPTS"].split(","))
        assert int(written) <= CAP
        fs_bytes = int(words["FS"])  # what the kernel sees is the volume, not the host's disk
        assert CAP <= fs_bytes <= CAP * 1.2
        # The host holds the image and nothing else: never more than its own size.
        assert _allocated(image) <= image.stat().st_size <= loopfs.first_guess(CAP) + 2 * MIB

        health = await _json(jp_fetch, "ide", "api", "health")
        workspace = health["subsystems"]["workspace"]
        assert workspace["state"] == "broken" and workspace["full"] is True
        assert workspace["detail"].startswith("Workspace full:")
        assert workspace["capped"] is True and workspace["mechanism"] == "loop"
        storage = health["subsystems"]["storage"]  # what the status bar shows
        assert storage["state"] == "broken" and "Workspace full" in storage["detail"]

        code, message = await _save(jp_fetch, "notes.txt", BIG_SAVE)
        assert code == 507
        assert message.startswith("Workspace full:")
        assert "junk.bin" in message and "not in your file list" in message
        with pytest.raises(HTTPClientError) as missing:
            await jp_fetch("api", "contents", "notes.txt")
        assert missing.value.code == 404  # the refused save wrote nothing

        # The server keeps working, and says what fills the folder.
        listing = await _json(jp_fetch, "api", "contents")
        assert "junk.bin" not in [item["name"] for item in listing["content"]]
        disk = await _json(jp_fetch, "ide", "api", "workspace", "disk")
        assert disk["full"] is True
        assert disk["largest"][0]["path"] == "junk.bin"
        assert disk["largest"][0]["in_index"] is False
        assert disk["largest"][0]["disk_bytes"] > CAP // 2
        before = _allocated(image)

        response = await jp_fetch(
            "ide", "api", "workspace", "disk", method="DELETE", params={"path": "junk.bin"}
        )
        assert response.code == 204
        health = await _json(jp_fetch, "ide", "api", "health")
        assert health["subsystems"]["workspace"]["state"] == "ok"
        assert health["subsystems"]["storage"]["state"] == "ok"
        assert (await _save(jp_fetch, "notes.txt", BIG_SAVE))[0] in (200, 201)
        out = await _run_cell(jp_ws_fetch, kernel_id, "print(len(open('notes.txt').read()))")
        assert out.strip() == str(BIG_SAVE)  # the kernel still runs, and sees the save
        # Deleted blocks go back to the host (discard punches holes in the image).
        for _ in range(60):
            if _allocated(image) < before - CAP // 2:
                break
            await asyncio.sleep(0.5)
        assert _allocated(image) < before - CAP // 2
    finally:
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")


def _write(path: Path, size: int) -> None:
    path.write_bytes(b"w" * size)


async def test_files_code_wrote_before_the_workspace_opened_can_be_found_and_deleted(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """A folder set aside (no index claimed it yet) still counts: listed, then deletable."""
    _require_root()
    cm: IDEContentsManager = jp_serverapp.contents_manager
    # A kernel may write before the first contents request opens the workspace.
    await asyncio.to_thread(_write, cm.workspace_dir / "early.bin", 3 * MIB)
    await _json(jp_fetch, "api", "contents")  # the folder had no marker: it is set aside
    disk = await _json(jp_fetch, "ide", "api", "workspace", "disk")
    [(name, size)] = [(a["name"], a["disk_bytes"]) for a in disk["set_aside"]]
    assert size >= 3 * MIB and disk["used_bytes"] >= 3 * MIB
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch(
            "ide", "api", "workspace", "disk", method="DELETE", params={"aside": "default"}
        )
    assert e.value.code == 404  # only set-aside folders, never the workspace itself
    response = await jp_fetch(
        "ide", "api", "workspace", "disk", method="DELETE", params={"aside": name}
    )
    assert response.code == 204
    disk = await _json(jp_fetch, "ide", "api", "workspace", "disk")
    assert disk["set_aside"] == [] and disk["used_bytes"] < MIB


async def test_the_disk_api_refuses_bad_paths_and_unknown_files(jp_fetch: Any) -> None:
    _require_root()
    for params, code in (
        ({"path": "../etc/passwd"}, 400),
        ({}, 400),
        ({"path": "nothing-here.bin"}, 404),
    ):
        with pytest.raises(HTTPClientError) as e:
            await jp_fetch("ide", "api", "workspace", "disk", method="DELETE", params=params)
        assert e.value.code == code
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("ide", "api", "workspace", "disk", params={"limit": "0"})
    assert e.value.code == 400


# -- the volume across restarts and users, at the contents manager ---------------------------


@pytest.fixture
def make_cm(
    jp_environ: Any, jp_asyncio_loop: Any, tmp_path: Path
) -> Iterator[Callable[..., IDEContentsManager]]:
    """Make contents managers on one database, store and workspaces root (closed after)."""
    url = f"sqlite:///{tmp_path / 'ide.db'}"
    ensure_schema(url)
    made: list[IDEContentsManager] = []

    def make(owner: str, cap: int) -> IDEContentsManager:
        config = Config({"WorkspaceVolume": {"mode": "loop", "size_bytes": cap}})
        cm = IDEContentsManager(
            config=config,
            owner=owner,
            workspaces_root=str(tmp_path / "workspaces"),
            sync_interval=0.0,
            gc_interval=0.0,
            max_file_size=8 * MIB,
        )
        cm.db = Database(url)
        settings = IDESettings(db_url=url, storage_url=(tmp_path / "blobs").as_uri())
        cm.settings_ = lambda: settings  # type: ignore[method-assign]
        made.append(cm)
        return cm

    yield make

    async def close_all() -> None:
        for cm in made:
            await cm.close()
            if cm.db is not None:
                await cm.db.dispose()

    jp_asyncio_loop.run_until_complete(close_all())


async def _text(cm: IDEContentsManager, path: str, content: str) -> None:
    await cm.save({"type": "file", "format": "text", "content": content}, path)


async def test_the_volume_is_reused_after_a_restart_and_grows_with_the_cap(
    make_cm: Callable[..., IDEContentsManager],
) -> None:
    _require_root()
    first = make_cm("alice", 16 * MIB)
    await first.ready()
    root = first.workspace_dir.parent
    image = loopfs.image_for(root)
    await _text(first, "saved.txt", "kept in the index")
    # A hidden file code wrote: never in the index, so only the volume keeps it.
    (first.workspace_dir / ".scratch").write_text("only on the volume")
    inode = image.stat().st_ino
    await first.close()
    assert loopfs.mounts_at(root) == []  # unmounted when its server stops
    assert image.is_file()

    second = make_cm("alice", 40 * MIB)
    await second.ready()
    assert image.stat().st_ino == inode  # the same image, not a new one
    assert (second.workspace_dir / ".scratch").read_text() == "only on the volume"
    assert (await second.get("saved.txt"))["content"] == "kept in the index"
    assert loopfs.fs_size(root) >= 40 * MIB  # grown to the raised cap
    await second.close()
    assert loopfs.mounts_at(root) == []


CRASHING_SERVER = """
import asyncio, os, sys, time
from traitlets.config import Config
from jupyter_ide.contents_manager import IDEContentsManager
from jupyter_ide.db import Database
from jupyter_ide.server_extension.settings import IDESettings

url, root, blobs = sys.argv[1:4]
cm = IDEContentsManager(
    config=Config({"WorkspaceVolume": {"mode": "loop", "size_bytes": 16 << 20}}),
    owner="carol", workspaces_root=root, sync_interval=0.0, gc_interval=0.0,
)
cm.db = Database(url)
settings = IDESettings(db_url=url, storage_url=blobs)
cm.settings_ = lambda: settings
asyncio.run(cm.ready())
print("ready", flush=True)
time.sleep(600)
"""


def _run_and_kill(cm: IDEContentsManager) -> None:
    """Open ``cm``'s workspace in another process, then SIGKILL it (no chance to unmount)."""
    settings = cm.settings_()
    argv = [settings.db_url, cm.workspaces_root, settings.storage_url]
    crashed = subprocess.Popen(
        [sys.executable, "-c", CRASHING_SERVER, *argv], stdout=subprocess.PIPE, env=os.environ
    )
    try:
        assert crashed.stdout is not None
        assert crashed.stdout.readline().strip() == b"ready"
    finally:
        crashed.send_signal(signal.SIGKILL)
        crashed.wait(30)


async def test_a_mount_left_by_a_killed_server_is_adopted_not_doubled(
    make_cm: Callable[..., IDEContentsManager],
) -> None:
    _require_root()
    cm = make_cm("carol", 16 * MIB)
    await asyncio.to_thread(_run_and_kill, cm)
    root = cm.workspace_dir.parent
    left = loopfs.mounts_at(root)
    assert len(left) == 1  # the killed server could not unmount

    await cm.ready()
    assert loopfs.mounts_at(root) == left  # adopted: one mount, the same loop device
    await _text(cm, "after.txt", "written after the crash")
    await cm.close()
    assert loopfs.mounts_at(root) == []


async def test_a_sweep_unmounts_only_volumes_no_server_holds(
    make_cm: Callable[..., IDEContentsManager], tmp_path: Path
) -> None:
    _require_root()
    carol, alice = make_cm("carol", 16 * MIB), make_cm("alice", 16 * MIB)
    await asyncio.to_thread(_run_and_kill, carol)
    await alice.ready()
    left, held = carol.workspace_dir.parent, alice.workspace_dir.parent
    assert loopfs.mounts_at(left) and loopfs.mounts_at(held)
    swept = await asyncio.to_thread(sweep_stale, tmp_path)
    assert swept == [left]
    assert loopfs.mounts_at(left) == [] and len(loopfs.mounts_at(held)) == 1


def _fill(path: Path) -> int:
    """Write into ``path`` until the disk refuses; return the errno."""
    try:
        with open(path, "wb") as f:
            while True:
                f.write(b"z" * MIB)
                f.flush()
    except OSError as e:
        return int(e.errno or 0)


async def test_a_full_workspace_leaves_another_users_alone(
    make_cm: Callable[..., IDEContentsManager],
) -> None:
    _require_root()
    alice, bob = make_cm("alice", 16 * MIB), make_cm("bob", 16 * MIB)
    await alice.ready()
    await bob.ready()
    devices = [loopfs.mounts_at(cm.workspace_dir.parent)[0].source for cm in (alice, bob)]
    assert devices[0] != devices[1]  # two volumes, two loop devices
    errno = await asyncio.to_thread(_fill, alice.workspace_dir / "junk.bin")
    assert errno == 28  # ENOSPC, even for root: the volume keeps no reserve
    with pytest.raises(HTTPError) as refused:
        await _text(alice, "more.txt", "m" * MIB)
    assert refused.value.status_code == 507
    assert "junk.bin" in str(refused.value.log_message)
    await _text(bob, "fine.txt", "b" * MIB)
    assert (await bob.get("fine.txt"))["size"] == MIB
    assert bob.volume.state().full is False


def _mount_lines() -> list[str]:
    return Path("/proc/self/mountinfo").read_text().splitlines()


async def test_the_doctor_mounts_a_test_volume_as_root() -> None:
    _require_root()
    settings = IDESettings(config=Config({"WorkspaceVolume": {"mode": "auto"}}))
    result = await probe_workspace_volume(settings)
    assert result.state == "ok", result.detail
    assert "loop-mounted" in result.detail
    assert not [m for m in await asyncio.to_thread(_mount_lines) if "volume-probe" in m]
