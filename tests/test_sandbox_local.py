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
