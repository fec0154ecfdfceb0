"""Without mount rights the workspace is not capped by the file system, and the IDE says so.

`jupyter ide` runs as a normal user (tests/launch.py): health and the doctor report the
fallback in words, and a kernel whose code grows the folder past the cap is stopped.
"""

from __future__ import annotations

import asyncio
import json
import pwd
import subprocess
import time
import urllib.parse
from typing import Any

from jupyter_client.session import Session
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from .kernel_host import require_images
from .launch import Launched, as_user, launch

MIB = 1024 * 1024
CAP = 8 * MIB
NOT_CAPPED = "workspace size not capped by the filesystem: the server does not run as root"

# 1 MiB every 0.1 s, up to 120 MiB: far past the cap unless the kernel is stopped.
GROW = """
import time
import urllib.parse
for i in range(120):
    with open(f"junk{i:03}.bin", "wb") as f:
        f.write(b"x" * (1 << 20))
    time.sleep(0.1)
"""


async def _send_cell(server: Launched, kernel_id: str, code: str) -> None:
    """Send one execute request over the kernel's WebSocket (not waiting for it to end)."""
    request = HTTPRequest(
        server.ws_url(f"api/kernels/{kernel_id}/channels"),
        connect_timeout=120,
        request_timeout=120,
    )
    ws = await websocket_connect(request)
    msg = Session().msg("execute_request", {"code": code, "silent": False})
    msg["channel"] = "shell"
    msg["header"]["date"] = msg["header"]["date"].isoformat()
    msg["parent_header"] = {}
    await ws.write_message(json.dumps(msg, default=str))
    await asyncio.sleep(1)
    ws.close()


def _workspace(server: Launched) -> dict[str, Any]:
    reply = server.fetch("GET", "ide/api/health")
    assert reply.status == 200, reply.text
    return dict(reply.body["subsystems"]["workspace"])


def test_without_mount_rights_the_fallback_is_reported_and_kernels_are_stopped() -> None:
    require_images("python")
    env = {"JUPYTER_IDE_WORKSPACE_BYTES": str(CAP), "JUPYTER_IDE_SANDBOX": "docker"}
    with launch(user="ide-tester", env=env) as server:
        workspace = _workspace(server)
        assert workspace["state"] == "off"
        assert workspace["mechanism"] == "sync" and workspace["capped"] is False
        assert workspace["detail"].startswith(NOT_CAPPED), workspace["detail"]
        assert "stops your kernels when it grows past 8.0 MB" in workspace["detail"]

        assert server.fetch("GET", "api/contents").status == 200  # as /ide does first
        started = server.fetch("POST", "api/kernels", {"name": "ide-python"})
        assert started.status == 201, started.text
        kernel_id = started.body["id"]
        asyncio.run(_send_cell(server, kernel_id, GROW))
        deadline = time.monotonic() + 60
        while server.fetch("GET", f"api/kernels/{kernel_id}").status != 404:
            assert time.monotonic() < deadline, "the kernel was not stopped past the cap"
            time.sleep(0.5)

        workspace = _workspace(server)
        assert "kernels were stopped" in workspace["detail"]
        assert workspace["used_bytes"] > CAP
        disk = server.fetch("GET", "ide/api/workspace/disk", params={"limit": 200}).body
        written = [f for f in disk["largest"] if f["path"].startswith("junk")]
        assert CAP // MIB < len(written) < 60  # stopped long before the cell's 120 MiB
        for found in written:  # the way out: delete what code wrote
            # (a query built here: Launched.fetch's params cannot hold a "path")
            where = urllib.parse.urlencode({"path": found["path"]})
            gone = server.fetch("DELETE", f"ide/api/workspace/disk?{where}")
            assert gone.status == 204, gone.text
        time.sleep(3)  # the next measurement
        assert _workspace(server)["used_bytes"] < CAP

        doctor = subprocess.run(
            [*as_user(pwd.getpwnam(server.user)), "jupyter", "ide", "doctor"],
            env=server.env,
            cwd=server.home,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        line = next(x for x in doctor.stdout.splitlines() if " workspace " in x)
        assert NOT_CAPPED in line, doctor.stdout
