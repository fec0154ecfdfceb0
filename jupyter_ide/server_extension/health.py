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
)

if TYPE_CHECKING:
    from ..cache import Cache
    from ..db import Database
    from .settings import IDESettings


def _subsystem(result: CheckResult) -> dict[str, str]:
    """Return the public part of a check: state and detail, no fixes."""
    return {"state": result.state, "detail": result.detail}


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
    return {
        "version": __version__,
        "subsystems": {result.name: _subsystem(result) for result in results},
    }
