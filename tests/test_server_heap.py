"""A server started with the default settings freezes its start-up heap."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """The default: freeze once started."""
    jp_server_config["IDESettings"]["freeze_startup_heap"] = True
    return jp_server_config


async def test_a_started_server_has_frozen_its_startup_objects(jp_serverapp: Any) -> None:
    """Once the loop runs, the objects of start-up are frozen (the other test servers keep
    the setting off, and the one unit test that freezes unfreezes after itself)."""
    try:
        for _ in range(100):
            if gc.get_freeze_count():
                break
            await asyncio.sleep(0.02)
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
