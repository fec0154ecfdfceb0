"""The `jupyter ide doctor` and `jupyter ide upgrade-db` subcommands."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, TextIO

from jupyter_core.application import JupyterApp
from traitlets import Unicode, default

from .._version import __version__
from .checks import (
    CheckResult,
    check_ai,
    check_cache,
    check_database,
    check_docker,
    check_frontend,
    check_images,
    check_sandbox,
    probe_storage,
    probe_workspace_volume,
)
from .hubcheck import check_sign_in
from .settings import IDESettings
from .validation import SettingProblem, setting_problems

STATE_WIDTH = 8
NAME_WIDTH = 10


class _IDESubApp(JupyterApp):
    """A subcommand that reads the same config files as the server."""

    classes = [IDESettings]
    config_file_name = Unicode("jupyter_server_config", config=True)

    def settings(self) -> IDESettings:
        """Return the deployment settings from config files and environment."""
        return IDESettings(parent=self)


def check_settings(problems: list[SettingProblem]) -> list[CheckResult]:
    """Report the settings: ok, or one broken line per invalid one (as the server refuses)."""
    if not problems:
        return [CheckResult("settings", "ok", "every setting is valid")]
    return [CheckResult("settings", "broken", f"{p.name} {p.problem}", fix=p.fix) for p in problems]


async def run_checks(settings: IDESettings) -> list[CheckResult]:
    """Check the settings, then every dependency the deployment uses."""
    problems = setting_problems(lambda: settings)
    results = [*check_settings(problems), check_frontend()]
    if problems:  # the rest would read the same invalid settings
        return results
    results.append(await _database(settings))
    results.append(await _cache(settings))
    results.append(await probe_storage(settings))
    docker_state = await check_docker(settings)
    results += [
        docker_state,
        await check_images(settings, docker_state),
        check_sandbox(settings, docker_state),
        await probe_workspace_volume(settings),
        check_ai(settings),
    ]
    return results


async def _database(settings: IDESettings) -> CheckResult:
    from ..db import Database

    db = Database(settings.db_url)
    try:
        return await check_database(db)
    finally:
        await db.dispose()


async def _cache(settings: IDESettings) -> CheckResult:
    from ..cache import make_cache

    cache = make_cache(settings.redis_url)
    try:
        return await check_cache(cache)
    finally:
        await cache.close()


def print_report(results: list[CheckResult], out: TextIO) -> int:
    """Print one line per check with its fix; return the number of required failures."""
    out.write(f"jupyter-ide {__version__}: checking every dependency\n\n")
    for result in results:
        optional = "" if result.required else " (optional)"
        state, name = f"{result.state:<{STATE_WIDTH}}", f"{result.name:<{NAME_WIDTH}}"
        out.write(f"  {state} {name} {result.detail}{optional}\n")
        if result.fix and result.state != "ok":
            out.write(f"  {'':<{STATE_WIDTH}} {'':<{NAME_WIDTH}} fix: {result.fix}\n")
    failures = sum(result.failed for result in results)
    if failures:
        out.write(f"\n{failures} required part(s) missing or broken: see the fixes above.\n")
    else:
        out.write("\nEverything required is ok.\n")
    return failures


class DoctorApp(_IDESubApp):
    """Check every dependency and say how to fix what is missing or broken."""

    name = "jupyter-ide-doctor"
    description = "Check the database, cache, storage, Docker engine, images and AI providers."
    aliases = {"hub-config": "DoctorApp.hub_config"}

    hub_config = Unicode(
        help="A jupyterhub_config.py to check too (warns when sign-in is open to anyone). "
        "Default: jupyterhub_config.py in the current folder, when there is one.",
    ).tag(config=True)

    @default("hub_config")
    def _default_hub_config(self) -> str:
        here = Path("jupyterhub_config.py")
        return str(here.resolve()) if here.is_file() else ""

    def start(self) -> None:
        """Run the checks; exit non-zero when something required is broken."""
        results = asyncio.run(run_checks(self.settings()))
        if self.hub_config:
            results.append(check_sign_in(Path(self.hub_config).expanduser().resolve()))
        failures = print_report(results, sys.stdout)
        self.exit(1 if failures else 0)


class UpgradeDBApp(_IDESubApp):
    """Migrate the database schema to this version."""

    name = "jupyter-ide-upgrade-db"
    description = "Create or migrate the database schema to this version (Alembic)."

    def start(self) -> None:
        """Upgrade the configured database to the newest schema."""
        from ..db import Database, current_revision, head_revision, upgrade

        url = self.settings().db_url
        safe = Database(url).safe_url
        before = current_revision(url)
        upgrade(url)
        after = head_revision()
        if before == after:
            print(f"{safe} is already at schema {after}.")
        else:
            print(f"{safe}: schema {before or '(empty)'} -> {after}.")


class ImportApp(_IDESubApp):
    """`jupyter ide import s3://bucket/prefix`: bring an s3contents bucket into a workspace."""

    name = "jupyter-ide-import"
    description = "Import an s3contents-style bucket (one object per file) into a workspace."
    aliases = {"workspace": "ImportApp.workspace", "user": "ImportApp.user"}

    workspace = Unicode("default", help="Workspace to import into (created if missing).").tag(
        config=True
    )
    user = Unicode(help="Owner of the workspace (default: this server's user).").tag(config=True)

    def start(self) -> None:
        """Import, then print what was copied."""
        if len(self.extra_args) != 1 or not self.extra_args[0].startswith("s3://"):
            print("usage: jupyter ide import s3://bucket/prefix [--workspace NAME] [--user NAME]")
            sys.exit(2)
        report = asyncio.run(self._import(self.extra_args[0]))
        print(
            f"Imported {report.files} files ({report.bytes} bytes) and {report.folders} folders "
            f"into workspace {self.workspace!r}; skipped {report.skipped}."
        )

    async def _import(self, url: str) -> Any:
        import getpass
        import os

        from ..contents_manager.blobstore import make_blob_store
        from ..contents_manager.importer import import_bucket
        from ..db import Database, ensure_schema

        settings = self.settings()
        ensure_schema(settings.db_url)
        db = Database(settings.db_url)
        store = make_blob_store(
            settings.storage_url,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            sse=settings.s3_sse,
            kms_key_id=settings.s3_kms_key_id,
        )
        user = self.user or os.environ.get("JUPYTERHUB_USER") or getpass.getuser()
        try:
            return await import_bucket(
                db,
                store,
                url,
                user=user,
                workspace=self.workspace,
                endpoint_url=settings.s3_endpoint_url,
                region=settings.s3_region,
            )
        finally:
            await store.close()
            await db.dispose()
