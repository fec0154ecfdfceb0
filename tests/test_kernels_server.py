"""Sandboxed kernels through the server: kernelspecs, REST + WebSocket, limits, culling, engine."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any

import docker
import pytest
from jupyter_client.session import Session
from tornado.httpclient import HTTPClientError

from jupyter_ide.kernels.kernelspecs import LANGUAGES, PROVISIONER_NAME
from jupyter_ide.kernels.profile import LABEL_KERNEL_ID

from .kernel_host import require_images

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Serve the ide-* kernelspecs."""
    config = {**jp_server_config}
    config["ServerApp"] = {
        **config["ServerApp"],
        "kernel_spec_manager_class": "jupyter_ide.kernels.kernelspecs.IDEKernelSpecManager",
    }
    config["SandboxManager"] = {"pool_size": 0, "default_limits": {"time_limit": 10}}
    return config


def _containers_of(kernel_id: str) -> list[Any]:
    """Containers labelled with a kernel id."""
    return docker.from_env().containers.list(
        all=True, filters={"label": f"{LABEL_KERNEL_ID}={kernel_id}"}
    )


async def _start(jp_fetch: Any, name: str = "ide-python") -> str:
    """Start a kernel through the REST API; return its id."""
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": name}))
    return str(json.loads(response.body)["id"])


async def _run_cell(jp_ws_fetch: Any, kernel_id: str, code: str, timeout: float = 60) -> str:
    """Run a cell over the kernel's WebSocket; return everything it printed."""
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
            if reply["msg_type"] == "stream":
                text.append(reply["content"]["text"])
            elif reply["msg_type"] == "error":
                text.append(reply["content"]["ename"])
            elif reply["msg_type"] == "execute_reply":
                replied = True
            elif reply["msg_type"] == "status":
                idle = reply["content"]["execution_state"] == "idle"
        return "".join(text)
    finally:
        ws.close()


async def test_the_eight_kernelspecs_name_the_sandbox_provisioner(jp_fetch: Any) -> None:
    response = await jp_fetch("api", "kernelspecs")
    listing = json.loads(response.body)
    assert listing["default"] == "ide-python"  # new notebooks are sandboxed
    specs = listing["kernelspecs"]
    for language in LANGUAGES:
        spec = specs[f"ide-{language.key}"]["spec"]
        provisioner = spec["metadata"]["kernel_provisioner"]
        assert provisioner["provisioner_name"] == PROVISIONER_NAME
        assert provisioner["config"]["image"].startswith(f"jupyter-ide/{language.key}:")
        assert spec["language"] == language.key
        assert "(sandbox)" in spec["display_name"]


async def test_a_kernel_started_over_rest_runs_in_its_sandbox(
    jp_fetch: Any, jp_ws_fetch: Any
) -> None:
    require_images("python")
    kernel_id = await _start(jp_fetch)
    try:
        containers = _containers_of(kernel_id)
        assert len(containers) == 1
        assert containers[0].attrs["HostConfig"]["NetworkMode"] == "none"
        out = await _run_cell(jp_ws_fetch, kernel_id, "import os; print('uid', os.getuid())")
        assert "uid" in out and "uid 0" not in out
        info = json.loads((await jp_fetch("ide", "api", "kernels", kernel_id, "sandbox")).body)
        assert info["sandboxed"] is True
        assert info["limits"]["time_limit_s"] == 10
        assert info["limits"]["memory_mb"] == 512
        sandbox = json.loads((await jp_fetch("ide", "api", "sandbox")).body)
        assert sandbox["engine"] is True and sandbox["limits"]["cpus"] == 1.0
    finally:
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")
    assert _containers_of(kernel_id) == []


async def test_an_unknown_kernels_sandbox_is_404(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("ide", "api", "kernels", str(uuid.uuid4()), "sandbox")
    assert e.value.code == 404


async def test_a_symlink_out_of_the_workspace_reveals_nothing(
    jp_fetch: Any, jp_ws_fetch: Any, jp_root_dir: Path
) -> None:
    require_images("python")
    kernel_id = await _start(jp_fetch)
    try:
        await _run_cell(
            jp_ws_fetch,
            kernel_id,
            "import os\n"
            "os.symlink('/etc/shadow', 'shadow-link')\n"
            f"os.symlink({str(REPO / 'pyproject.toml')!r}, 'host-link')\n",
        )
    finally:
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")
    for name in ("shadow-link", "host-link"):
        try:
            response = await jp_fetch("api", "contents", name)
        except HTTPClientError as e:
            assert e.code in (400, 403, 404)
            continue
        body = response.body.decode()
        assert "root:" not in body and "jupyter-ide" not in body


async def test_engine_restart_reports_dead_then_restarts(jp_fetch: Any, jp_ws_fetch: Any) -> None:
    """Restart dockerd under a running kernel: it is reported dead, then can be restarted."""
    require_images("python")
    kernel_id = await _start(jp_fetch)
    try:
        _restart_engine()
        reason = None
        for _ in range(120):
            await asyncio.sleep(0.5)
            info = json.loads((await jp_fetch("ide", "api", "kernels", kernel_id, "sandbox")).body)
            if info["last_exit"]:
                reason = info["last_exit"]["reason"]
                break
        assert reason is not None
        for _ in range(60):
            try:
                await jp_fetch("api", "kernels", kernel_id, "restart", method="POST", body="")
                break
            except HTTPClientError:
                await asyncio.sleep(1)
        out = await _run_cell(jp_ws_fetch, kernel_id, "print('back')")
        assert "back" in out
        assert len(_containers_of(kernel_id)) == 1
    finally:
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")


def _restart_engine() -> None:
    """Stop dockerd and start it again with the project's script."""
    pid = int(
        subprocess.run(["pidof", "dockerd"], capture_output=True, text=True).stdout.split()[0]
    )
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if subprocess.run(["pidof", "dockerd"], capture_output=True).returncode != 0:
            break
        subprocess.run(["sleep", "0.2"])
    subprocess.run([str(REPO / "scripts" / "services.sh"), "docker"], check=True)


async def test_kernel_and_editor_see_the_same_files(jp_fetch: Any, jp_ws_fetch: Any) -> None:
    """Save in the editor, read it in a cell; write in a cell, see it in the explorer."""
    require_images("python")
    body = json.dumps({"type": "file", "format": "text", "content": "from the editor"})
    await jp_fetch("api", "contents", "notes.txt", method="PUT", body=body)
    kernel_id = await _start(jp_fetch)
    try:
        out = await _run_cell(
            jp_ws_fetch,
            kernel_id,
            "print(open('notes.txt').read())\n"
            "_ = open('notes.txt', 'a').write(' and the kernel')\n"
            "_ = open('result.csv', 'w').write('a,b\\n1,2\\n')",
        )
        assert "from the editor" in out and "Error" not in out, out
        seen: dict[str, str] = {}
        for _ in range(40):
            listing = json.loads((await jp_fetch("api", "contents", "")).body)
            if "result.csv" in {item["name"] for item in listing["content"]}:
                for name in ("result.csv", "notes.txt"):
                    model = json.loads((await jp_fetch("api", "contents", name)).body)
                    seen[name] = model["content"]
                if seen["notes.txt"].endswith("and the kernel"):
                    break
            await asyncio.sleep(0.25)
        assert seen.get("result.csv") == "a,b\n1,2\n"
        assert seen.get("notes.txt") == "from the editor and the kernel"
    finally:
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")
