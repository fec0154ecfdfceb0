"""Wire the judge into a running server: settings, manager, start once the loop runs, stop."""

from __future__ import annotations

from typing import Any

from tornado.ioloop import IOLoop

from ...cache import Cache
from ...db import Database
from ...server_extension.settings import data_dir
from ..sandbox import SandboxManager
from .manager import JudgeManager
from .settings import JudgeSettings


def start_judge(
    app: Any, db: Database, cache: Cache, sandbox: SandboxManager | None
) -> JudgeManager:
    """Create the server's JudgeManager; it starts (pool, workers) once the loop runs."""
    manager = JudgeManager(JudgeSettings(parent=app), db, cache, sandbox, data_dir())
    IOLoop.current().add_callback(manager.start)
    return manager


async def stop_judge(manager: JudgeManager | None) -> None:
    """Stop the workers and remove the judge's warm boxes."""
    if manager is not None:
        await manager.stop()
