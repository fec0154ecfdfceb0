"""Idle sandboxed kernels are culled, and their containers go with them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from .kernel_host import require_images
from .test_kernels_server import _containers_of, _start


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Serve the ide-* kernelspecs; cull kernels idle for 4 s."""
    config = {**jp_server_config}
    config["ServerApp"] = {
        **config["ServerApp"],
        "kernel_spec_manager_class": "jupyter_ide.kernels.kernelspecs.IDEKernelSpecManager",
    }
    config["MappingKernelManager"] = {"cull_idle_timeout": 4, "cull_interval": 1}
    return config


async def test_idle_kernels_are_culled_with_their_containers(jp_fetch: Any) -> None:
    require_images("python")
    kernel_id = await _start(jp_fetch)
    assert _containers_of(kernel_id)
    for _ in range(60):
        await asyncio.sleep(0.5)
        listed = json.loads((await jp_fetch("api", "kernels")).body)
        if kernel_id not in {k["id"] for k in listed}:
            break
    else:
        raise AssertionError("the idle kernel was not culled")
    for _ in range(20):
        if not _containers_of(kernel_id):
            break
        await asyncio.sleep(0.5)
    assert _containers_of(kernel_id) == []
