"""`jupyter ide judge-worker`: run judge submissions from the shared Redis queue, no HTTP.

A worker process needs the database, Redis and a Docker engine; start as many as the nodes
hold. It reads the same config files and environment as the server. It also grades the
classroom's submissions queued beside them (classroom/shared_grading.py), reading their
files from the servers' blob store (JUPYTER_IDE_STORAGE_URL: S3 in a deployment).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from jupyter_core.application import JupyterApp
from traitlets import Unicode

from ...cache import make_cache
from ...contents_manager.blobstore import BlobStore, make_blob_store
from ...db import Database, SchemaMismatchError, ensure_schema
from ...server_extension.settings import IDESettings, data_dir
from ...server_extension.validation import refusal, setting_problems
from ..sandbox import SandboxManager
from .manager import JudgeManager
from .settings import JudgeSettings

log = logging.getLogger(__name__)
READY_LINE = "jupyter-ide judge-worker ready"


class JudgeWorkerApp(JupyterApp):
    """Run judge submissions from the shared queue until SIGTERM or SIGINT."""

    name = "jupyter-ide-judge-worker"
    description = (
        "Run judge submissions from the shared Redis queue (needs JUPYTER_IDE_DB_URL, "
        "JUPYTER_IDE_REDIS_URL and a Docker engine; serves no HTTP)."
    )
    classes = [IDESettings, JudgeSettings, SandboxManager]
    config_file_name = Unicode("jupyter_server_config", config=True)

    def start(self) -> None:
        """Check the settings, then serve until stopped."""
        settings = IDESettings(parent=self)
        problems = setting_problems(lambda: settings)
        if problems:
            raise SystemExit(refusal(problems))
        if not settings.redis_url:
            raise SystemExit(
                "jupyter ide judge-worker cannot start: it takes submissions from the shared "
                "queue in Redis; set JUPYTER_IDE_REDIS_URL (the servers' Redis)"
            )
        if settings.sandbox == "local":
            raise SystemExit(
                "jupyter ide judge-worker cannot start: it runs programs only in Docker "
                "(JUPYTER_IDE_SANDBOX=local)"
            )
        try:
            ensure_schema(settings.db_url, initialise_fresh=False)
        except SchemaMismatchError as e:
            raise SystemExit(f"jupyter ide judge-worker refuses to start: {e}") from e
        level = self.log_level
        logging.basicConfig(
            level=level if isinstance(level, (int, str)) else logging.INFO,
            format="[%(levelname).1s %(asctime)s %(name)s] %(message)s",
        )
        asyncio.run(self._serve(settings))

    async def _serve(self, settings: IDESettings) -> None:
        """Start the judge's workers on the shared queue; stop them on a signal."""
        db = Database(settings.db_url)
        cache = make_cache(settings.redis_url)
        SandboxManager.clear_instance()
        sandbox = SandboxManager.instance(parent=self, mode="docker", owner="judge-worker")
        sandbox.instances.hold()
        sandbox.share_liveness(settings.redis_url)  # other runs reap our boxes if we die
        judge_settings = JudgeSettings(parent=self)
        judge_settings.run_workers = True
        judge = JudgeManager(judge_settings, db, cache, sandbox, data_dir())
        stopping = asyncio.Event()
        grading: _Grading | None = None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        try:
            await sandbox.asweep()
            await judge.start()
            if judge.problem:
                raise SystemExit(f"jupyter ide judge-worker cannot start: {judge.problem}")
            assert judge.shared is not None
            grading = _grading(judge, db, settings)
            grading.start()
            print(
                f"{READY_LINE}: {judge.state()['workers']} workers on queue {judge.shared.base}"
                f" as {judge.shared.consumer}",
                flush=True,
            )
            await stopping.wait()
        finally:
            if grading is not None:
                await grading.close()
            await _close(judge, sandbox, cache, db)


class _Grading:
    """The classroom's gradings this worker takes from the shared queue, and their store."""

    def __init__(self, shared: Any, grader: Any, store: BlobStore) -> None:
        self.shared, self.grader, self.store = shared, grader, store

    def start(self) -> None:
        """Start the grading loops."""
        self.shared.start()

    async def close(self) -> None:
        """Stop grading; close the grader's lanes and the blob store."""
        await self.shared.close()
        await self.grader.close()
        await self.store.close()


def _grading(judge: JudgeManager, db: Database, settings: IDESettings) -> _Grading:
    """Grade the classroom's submissions here too, through the judge's Grader."""
    from ...classroom.grading import JudgeGrader
    from ...classroom.setup import shared_grading

    store = make_blob_store(
        settings.storage_url,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        sse=settings.s3_sse,
        kms_key_id=settings.s3_kms_key_id,
    )
    grader = JudgeGrader(judge)
    shared = shared_grading(db, store.get, grader, log)
    assert shared is not None  # the worker's judge has the shared queue
    return _Grading(shared, grader, store)


async def _close(judge: JudgeManager, sandbox: SandboxManager, cache: Any, db: Database) -> None:
    """Stop the workers, remove the warm boxes, stop beating, close the connections."""
    await judge.stop()
    await asyncio.to_thread(sandbox.stop_sharing_liveness)
    sandbox.close_client()
    sandbox.instances.release()
    await cache.close()
    await db.dispose()
