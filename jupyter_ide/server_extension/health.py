"""The state of each subsystem, as served by /ide/api/health."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._version import __version__
from .checks import (
    CheckResult,
    check_ai,
    check_cache,
    check_database,
    check_docker,
    check_sandbox,
    check_storage,
    workspace_result,
)

if TYPE_CHECKING:
    from ..cache import Cache
    from ..contents_manager.volume import WorkspaceVolume
    from ..db import Database
    from .settings import IDESettings


def _subsystem(result: CheckResult) -> dict[str, Any]:
    """Return the public part of a check: state and detail, no fixes."""
    return {"state": result.state, "detail": result.detail}


def _volume_of(settings: IDESettings) -> WorkspaceVolume | None:
    """Return the size cap of this server's workspace (None without our contents manager)."""
    serverapp = getattr(settings.parent, "serverapp", None)
    volume = getattr(getattr(serverapp, "contents_manager", None), "volume", None)
    from ..contents_manager.volume import WorkspaceVolume

    return volume if isinstance(volume, WorkspaceVolume) else None


def _workspace(volume: WorkspaceVolume, subsystems: dict[str, dict[str, Any]]) -> None:
    """Add the workspace folder's cap and fill; a full workspace also shows on storage.

    The status bar shows storage's state: while the folder is full, saves are refused (507)
    and code gets "No space left on device", so that is where a student sees it.
    """
    result = workspace_result(volume)
    subsystems["workspace"] = {**_subsystem(result), **volume.state().as_json()}
    storage = subsystems.get("storage")
    if result.state == "broken" and storage is not None:
        subsystems["storage"] = {
            "state": "broken",
            "detail": f"{result.detail}. (The file store itself: {storage['detail']}.)",
        }


async def collect_health(settings: IDESettings, db: Database, cache: Cache) -> dict[str, Any]:
    """Check each subsystem (the schema was verified at start-up) and return JSON."""
    docker_state = await check_docker(settings)
    results = [
        await check_database(db, verify_schema=False),
        await check_cache(cache),
        check_storage(settings),
        check_sandbox(settings, docker_state),
        check_ai(settings),
    ]
    subsystems = {result.name: _subsystem(result) for result in results}
    volume = _volume_of(settings)
    if volume is not None:
        _workspace(volume, subsystems)
    return {"version": __version__, "subsystems": subsystems}
