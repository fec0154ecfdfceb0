"""Kernels with the server started the README's way (tests/launch.py): as root with the default
data dir under /root (issue #19: mounts at host paths under /root are out of the sandbox user's
reach), as a normal user, and with a data dir too deep for socket paths (issue #13)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import stat
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_ide.kernels.containers import WORKSPACE_INSIDE
from jupyter_ide.kernels.sockets import fits_socket_paths

from .kernel_host import require_images
from .kernel_ws import run_cell
from .launch import Launched, launch

# kernelspec -> (a cell that writes a file in the kernel's folder and prints that folder, file)
CELLS: dict[str, tuple[str, str]] = {
    "ide-python": (
        "import os\nopen('from-python.txt', 'w').write('python wrote this\\n')\nprint(os.getcwd())",
        "from-python.txt",
    ),
    "ide-c": (
        "#include <stdio.h>\n#include <unistd.h>\n"
        "int main(void) {\n"
        '    FILE *f = fopen("from-c.txt", "w");\n'
        '    if (!f) { perror("fopen"); return 1; }\n'
        '    fputs("c wrote this\\n", f);\n'
        "    fclose(f);\n"
        "    char here[4096];\n"
        "    puts(getcwd(here, sizeof here));\n"
        "    return 0;\n"
        "}\n",
        "from-c.txt",
    ),
}
WRITTEN = {"from-python.txt": "python wrote this\n", "from-c.txt": "c wrote this\n"}


@pytest.fixture(scope="module", autouse=True)
def images() -> None:
    """The engine and both images must be there (never skip)."""
    require_images("python", "c")


async def _cell(server: Launched, kernel_id: str, code: str, timeout: float = 120) -> str:
    """Run one cell over the kernel's websocket; return what it printed (and error names)."""
    return await run_cell(server.ws_url(f"api/kernels/{kernel_id}/channels"), code, timeout)


def _read_back(server: Launched, path: str, expected: str) -> None:
    """Wait until /api/contents serves ``path`` with ``expected`` (the workspace syncs)."""
    deadline = time.monotonic() + 30
    while True:
        got = server.fetch("GET", f"api/contents/{path}", params={"content": 1})
        if got.status == 200 and got.body["content"] == expected:
            return
        assert time.monotonic() < deadline, (got.status, got.text, server.log()[-3000:])
        time.sleep(0.25)


def _write_and_read_back(server: Launched) -> None:
    """Start ide-python and ide-c; each writes a file that the contents API then serves."""
    for name, (code, path) in CELLS.items():
        started = server.fetch("POST", "api/kernels", {"name": name})
        assert started.status == 201, (started.status, started.text, server.log()[-3000:])
        kernel_id = started.body["id"]
        try:
            sandbox = server.fetch("GET", f"ide/api/kernels/{kernel_id}/sandbox").body
            assert sandbox["sandboxed"] is True
            printed = asyncio.run(_cell(server, kernel_id, code))
            assert printed.strip() == WORKSPACE_INSIDE, (name, printed, server.log()[-3000:])
            _read_back(server, path, WRITTEN[path])
        finally:
            server.fetch("DELETE", f"api/kernels/{kernel_id}")


def _socket_root(server: Launched) -> Path:
    """Check and return the server's folder of kernel socket folders.

    It is "sockets" in the data dir when socket paths fit there, else a private folder of the
    server's own in the temp dir (named in the log). Either way: a real folder, the server
    user's, 0700.
    """
    default = server.data_dir / "jupyter_ide" / "sockets"
    if fits_socket_paths(default):
        root = default
    else:
        found = re.search(r"kernel sockets are in (\S+)", server.log())
        assert found, server.log()[-3000:]
        root = Path(found.group(1))
        assert root.parent == Path(tempfile.gettempdir())
    info = root.lstat()
    assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700
    assert info.st_uid == server.home.stat().st_uid
    return root


def test_kernels_work_when_the_server_runs_as_root_with_default_dirs() -> None:
    """As root the data dir (workspace, sockets) is under /root, 0700 in the images too."""
    if os.geteuid() != 0:
        pytest.fail("this test starts the server as root: run the tests as root")
    with launch(env={"JUPYTER_IDE_SANDBOX": "docker"}) as server:
        _write_and_read_back(server)
        root = _socket_root(server)
    if not root.is_relative_to(server.home):
        # A folder of its own in the temp dir goes with the server (when it stops cleanly).
        assert not server.killed, f"the server ignored SIGTERM: {server.final_log[-3000:]}"
        assert not root.exists(), server.final_log[-3000:]


def test_kernels_work_when_the_server_runs_as_a_normal_user() -> None:
    """As a normal user in the docker group, with its own 0700 HOME."""
    with launch(user="ide-tester", env={"JUPYTER_IDE_SANDBOX": "docker"}) as server:
        assert server.user == "ide-tester"
        _write_and_read_back(server)
        _socket_root(server)


@pytest.fixture
def deep_home() -> Iterator[Path]:
    """A HOME so deep that socket paths under its data dir would pass the ipc limit."""
    base = Path.home() / ".cache" / "jupyter-ide-launch" / f"deep-{uuid.uuid4().hex[:8]}"
    home = base / ("a-rather-long-folder-name-for-a-home-" * 3).rstrip("-")
    home.mkdir(parents=True, mode=0o700)
    yield home
    shutil.rmtree(base, ignore_errors=True)


def test_kernels_work_with_a_data_dir_too_deep_for_socket_paths(deep_home: Path) -> None:
    """The sockets go to a private folder of their own in the temp dir; kernels still run."""
    data_dir = deep_home / ".local" / "share" / "jupyter"
    assert not fits_socket_paths(data_dir / "jupyter_ide" / "sockets")
    env: dict[str, Any] = {"JUPYTER_IDE_SANDBOX": "docker", "HOME": str(deep_home)}
    with launch(env=env) as server:
        started = server.fetch("POST", "api/kernels", {"name": "ide-python"})
        assert started.status == 201, (started.status, started.text, server.log()[-3000:])
        kernel_id = started.body["id"]
        try:
            printed = asyncio.run(_cell(server, kernel_id, "print(6 * 7)"))
            assert printed.strip() == "42", (printed, server.log()[-3000:])
        finally:
            server.fetch("DELETE", f"api/kernels/{kernel_id}")
        root = _socket_root(server)
        assert not root.is_relative_to(deep_home)
        assert not (data_dir / "jupyter_ide" / "sockets").exists()
    assert not server.killed, f"the server ignored SIGTERM: {server.final_log[-3000:]}"
    assert not root.exists(), server.final_log[-3000:]
