"""JUPYTER_IDE_SANDBOX=local: kernels run on the host, and everything says so plainly."""

from __future__ import annotations

import json
from typing import Any

import pytest


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """No sandbox, with the ide-* kernelspecs served."""
    config = {**jp_server_config}
    config["ServerApp"] = {
        **config["ServerApp"],
        "kernel_spec_manager_class": "jupyter_ide.kernels.kernelspecs.IDEKernelSpecManager",
    }
    config["IDESettings"] = {**config["IDESettings"], "sandbox": "local"}
    limits = {"default_limits": {"output_bytes": 5000}}
    config["SandboxManager"] = {**config["SandboxManager"], **limits}
    return config


async def test_health_says_plainly_that_code_is_not_sandboxed(jp_fetch: Any) -> None:
    response = await jp_fetch("ide", "api", "health")
    sandbox = json.loads(response.body)["subsystems"]["sandbox"]
    assert sandbox["state"] == "off"
    assert "not sandboxed" in sandbox["detail"]


async def test_a_local_kernel_reports_itself_unsandboxed(jp_fetch: Any) -> None:
    response = await jp_fetch(
        "api", "kernels", method="POST", body=json.dumps({"name": "ide-python"})
    )
    kernel_id = json.loads(response.body)["id"]
    try:
        info = json.loads((await jp_fetch("ide", "api", "kernels", kernel_id, "sandbox")).body)
        assert info["sandboxed"] is False
        assert info["image"] is None
    finally:
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")


async def test_a_local_python_kernel_caps_its_output(jp_serverapp: Any, jp_fetch: Any) -> None:
    """The admin's output limit holds without a sandbox too: a flood is cut, and says so."""
    response = await jp_fetch(
        "api", "kernels", method="POST", body=json.dumps({"name": "ide-python"})
    )
    kernel_id = json.loads(response.body)["id"]
    km = jp_serverapp.kernel_manager.get_kernel(kernel_id)
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        out: list[str] = []
        reply = await client.execute_interactive(
            "print('x' * 100_000)",
            timeout=60,
            output_hook=lambda msg: out.append(msg["content"].get("text", "")),
        )
        assert reply["content"]["status"] == "ok"
        text = "".join(out)
        assert text.count("x") <= 5000
        assert "output truncated" in text
    finally:
        client.stop_channels()
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")
