"""The judge's warm pool when its ready boxes die behind its back (an engine restart, a sweep,
an admin's `docker rm`): submissions still get their verdict, against the real engine."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import docker
import pytest

from jupyter_ide.kernels.profile import LABEL_KIND, LABEL_SERVER

from .test_judge_common import docker_or_fail, judge_config, run

POOL = 3


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """A warm pool of three Python boxes."""
    docker_or_fail()
    return judge_config(
        jp_server_config, tmp_path / "judge", pool_size=POOL, warm_languages="python"
    )


async def test_a_submission_survives_every_ready_box_being_removed(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """All ready boxes removed at once: the retry starts a new box instead of another dead one."""
    judge = jp_serverapp.web_app.settings["jupyter_ide_judge"]
    await judge.available()
    for _ in range(600):
        if judge.pool.ready_count("python") == POOL:
            break
        await asyncio.sleep(0.1)
    assert judge.pool.ready_count("python") == POOL
    engine = docker.from_env(timeout=30)
    try:
        boxes = engine.containers.list(
            filters={"label": [f"{LABEL_KIND}=judge", f"{LABEL_SERVER}={judge.sandbox.server_id}"]}
        )
        assert len(boxes) == POOL
        for box in boxes:
            box.remove(force=True)
    finally:
        engine.close()
    result = await run(jp_fetch, language_id=71, source_code="print(6 * 7)")
    assert result["status"]["id"] == 3, result
    assert result["stdout"] == "42\n"
