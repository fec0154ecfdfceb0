"""JudgeManager: the judge's one object per server — checks, queue, workers, pool, store."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import shutil
import tarfile
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import docker
from docker.errors import DockerException
from redis.exceptions import RedisError

from ..._version import __version__
from ...cache import Cache
from ...db import Database
from ..image_names import image_for
from ..profile import SandboxLimits
from ..sandbox import SandboxManager
from .boxbin import BoxBuildError, box_binary
from .compile_cache import CompileCache
from .judging import Judge, Outcome
from .languages import JUDGE_LANGUAGES, MULTI_FILE_ID, VERSIONS_DIR, JudgeLanguage
from .own_run import LivenessOptions, OwnRun, default_redis_url
from .pool import BoxPool
from .queue import FairQueue, QueueFull
from .request import Errors, SubmissionRequest, parse_submission
from .settings import JudgeSettings
from .shared_queue import SharedQueue, queue_name
from .shared_worker import SharedWorker
from .statuses import Status
from .store import SubmissionStore
from .submission import Submission

log = logging.getLogger(__name__)

MIB = 1024 * 1024
READY_TIMEOUT = 120.0
POLL_FIRST, POLL_MOST = 0.05, 0.5  # seconds between reads of a result another process makes
RETRY_START_AFTER = 10.0


class JudgeUnavailable(RuntimeError):
    """The judge cannot run programs (no Docker engine, images or judge-box)."""


class RateLimited(Exception):
    """The user submitted more than the per-minute limit."""

    def __init__(self, retry_after: int) -> None:
        """Say when to try again."""
        super().__init__(f"too many submissions; try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass
class _Live:
    """A submission the server holds in memory, with its waiters."""

    submission: Submission
    request: SubmissionRequest | None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    recorded: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: bool = False
    kept_until: float = 0.0


class JudgeManager:
    """Accepts submissions, runs them fairly on a bounded set of workers, and records them."""

    def __init__(
        self,
        settings: JudgeSettings,
        db: Database,
        cache: Cache,
        sandbox: SandboxManager | None,
        data_dir: Path,
        liveness: LivenessOptions | None = None,
    ) -> None:
        """Wire the parts; nothing starts until ``start``.

        Without ``sandbox`` the judge keeps a run of its own (own_run.py, tuned by
        ``liveness``): its boxes carry that run's labels, so they are reaped if it is killed.
        """
        self.settings = settings
        self.store = SubmissionStore(db)
        self.cache = cache
        self.sandbox = sandbox
        self.root = Path(settings.data_dir) if settings.data_dir else data_dir / "judge"
        self.queue: FairQueue[_Live] = FairQueue(
            settings.max_queue_size, settings.max_queued_per_user
        )
        # With Redis, every process of one database shares one queue (shared_queue.py).
        redis_url = str(getattr(cache, "url", "")) if cache.backend == "redis" else ""
        self.own_run: OwnRun | None = None
        if sandbox is None:
            options = liveness or LivenessOptions()
            if not options.redis_url:
                options = replace(options, redis_url=default_redis_url(redis_url))
            self.own_run = OwnRun(data_dir, options)
        self.shared: SharedQueue | None = None
        if redis_url:
            self.shared = SharedQueue(
                redis_url,
                settings.queue_name or queue_name(db.url),
                cache.prefix,
                settings.max_queue_size,
                settings.max_queued_per_user,
                settings.claim_idle_seconds,
            )
        self.worker: SharedWorker | None = None
        self.live: dict[str, _Live] = {}
        self.versions: dict[str, str] = {}
        self.pool: BoxPool | None = None
        self.judge: Judge | None = None
        self.problem: str | None = None
        self.ready = asyncio.Event()
        self._not_starting = asyncio.Event()  # cleared while start() runs
        self._not_starting.set()
        self._workers: list[asyncio.Task[None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self.running = 0
        self._versions_task: asyncio.Future[None] | None = None
        self._started_at = 0.0
        self._restart = asyncio.Lock()

    # -- start and stop -----------------------------------------------------------------

    async def start(self) -> None:
        """Build judge-box, open the pool, warm the chosen languages and start the workers."""
        self._started_at = time.monotonic()
        self.problem = None
        self._not_starting.clear()
        try:
            await self._start()
        except (DockerException, BoxBuildError, OSError, JudgeUnavailable) as e:
            self.problem = f"The judge cannot run programs: {e}"
            log.error("%s", self.problem)
        finally:
            self._not_starting.set()
            self.ready.set()

    def _run_folder(self, name: str) -> Path:
        """Return this run's folder under ``root/name``, removing those of ended runs first.

        Runs are told apart by their instance locks: the sandbox's, or the judge's own run's
        (held from ``start``; before it, a fresh folder and nothing removed).
        """
        parent = self.root / name
        parent.mkdir(parents=True, exist_ok=True)
        parent.chmod(0o755)
        instances = self.sandbox.instances if self.sandbox is not None else None
        if instances is None and self.own_run is not None and self.own_run.started:
            instances = self.own_run.instances
        if instances is None:
            run = uuid.uuid4().hex[:12]
        else:
            run = instances.instance_id
            for child in parent.iterdir():
                if child.name != run and not instances.alive(child.name):
                    shutil.rmtree(child, ignore_errors=True)
        folder = parent / run
        folder.mkdir(exist_ok=True)
        folder.chmod(0o755)
        return folder

    async def _start(self) -> None:
        if not self.settings.enabled:
            raise JudgeUnavailable("it is switched off (JudgeSettings.enabled)")
        if self.sandbox is not None and self.sandbox.mode == "local":
            raise JudgeUnavailable("the sandbox mode is 'local' and the judge runs only in Docker")
        client = self.sandbox.client if self.sandbox is not None else docker.from_env(timeout=60)
        await asyncio.to_thread(client.ping)
        if self.own_run is not None and not self.own_run.started:
            await asyncio.to_thread(self.own_run.start, client)  # before any box is labelled
        # Each run keeps boxes' slots and cache-off builds in folders of its own: servers
        # sharing the data dir run side by side, and what ended runs left goes now.
        slots = await asyncio.to_thread(self._run_folder, "slots")
        jobs = await asyncio.to_thread(self._run_folder, "jobs")
        helper = await asyncio.to_thread(box_binary, self.root / "bin", client)
        image_ids = await asyncio.to_thread(self._image_ids, client)
        s = self.settings
        limits = SandboxLimits(
            cpus=1.0,
            memory_bytes=s.memory_limit * 1024 + 8 * MIB + 2 * s.max_file_size * 1024,
            pids=s.max_processes_and_or_threads + 3,
            tmp_bytes=256 * MIB,
            shm_bytes=16 * MIB,
            home_bytes=16 * MIB,
            fsize_bytes=256 * MIB,
            runtime=self.sandbox.runtime if self.sandbox is not None else "",
        )
        if self.sandbox is not None:
            labels = self.sandbox.labels("judge")
        else:
            assert self.own_run is not None
            labels = self.own_run.labels()
        self.pool = BoxPool(client, slots, helper, limits, labels, s.pool_size_of)
        cache = CompileCache(self.root / "cache", s.compile_cache_bytes)
        await asyncio.to_thread(cache.sweep)
        self.judge = Judge(s, self.pool, cache, helper, image_ids, jobs)
        runs_here = self.shared is None or s.run_workers
        for key in (k.strip() for k in s.warm_languages.split(",")):
            if key in image_ids and runs_here:
                self.pool.warm(key, image_for(key))
        if self.shared is None:
            self._workers = [asyncio.ensure_future(self._work(i)) for i in range(s.worker_count())]
        elif runs_here:
            await self.shared.ensure_group()
            self.worker = SharedWorker(self.shared, self.store, self.judge, s, self._count_running)
            count = s.worker_count()
            self._workers = [asyncio.ensure_future(self.worker.loop(i)) for i in range(count)]
        self._versions_task = asyncio.ensure_future(
            asyncio.to_thread(self._read_versions, client, image_ids)
        )
        log.info(
            "judge: %d workers, %d languages, judge-box %s",
            len(self._workers),
            len(image_ids),
            helper,
        )

    @staticmethod
    def _image_ids(client: docker.DockerClient) -> dict[str, str]:
        """Return the image id of each language whose image is present."""
        found: dict[str, str] = {}
        for language in JUDGE_LANGUAGES.values():
            if language.runner is None:
                continue
            try:
                found[language.key] = client.images.get(image_for(language.key)).id
            except DockerException:
                log.warning("judge: image %s is missing", image_for(language.key))
        if not found:
            raise JudgeUnavailable("no sandbox image is built (jupyter ide images build)")
        return found

    def _read_versions(self, client: docker.DockerClient, image_ids: dict[str, str]) -> None:
        """Read each image's recorded toolchain version (for the languages' names)."""
        for key in image_ids:
            try:
                container = client.containers.create(image_for(key), command=["true"])
            except DockerException:
                continue
            try:
                stream, _ = container.get_archive(f"{VERSIONS_DIR}/{key}")
                data = b"".join(stream)
                with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                    member = archive.extractfile(archive.getmembers()[0])
                    if member is not None:
                        self.versions[key] = member.read().decode().strip()[:40]
            except (DockerException, tarfile.TarError, IndexError, UnicodeDecodeError):
                pass
            finally:
                container.remove(force=True)

    async def stop(self) -> None:
        """Stop the workers and remove the warm boxes."""
        # A start still under way would start its workers after this stop: let it finish.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._not_starting.wait(), READY_TIMEOUT)
        if self.worker is not None:
            self.worker.stopping = True
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        for task in list(self._tasks):
            task.cancel()
        if self._versions_task is not None:
            await asyncio.gather(self._versions_task, return_exceptions=True)
        if self.pool is not None:
            await self.pool.close()
        if self.shared is not None:
            await self.shared.leave()
        if self.own_run is not None:  # after the pool: its boxes are gone, then the heartbeat
            await asyncio.to_thread(self.own_run.stop)

    def _count_running(self, change: int) -> None:
        self.running += change

    def _spawn(self, awaitable: Any) -> None:
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def available(self) -> None:
        """Wait for start-up; raise JudgeUnavailable when the judge cannot run programs."""
        if not self.ready.is_set():
            await asyncio.wait_for(self.ready.wait(), READY_TIMEOUT)
        if self.problem and self.settings.enabled and self.pool is None:
            async with self._restart:  # the engine may be back: try again, at most every 10 s
                if self.problem and time.monotonic() - self._started_at > RETRY_START_AFTER:
                    await self.start()
        if self.problem:
            raise JudgeUnavailable(self.problem)

    # -- languages and configuration -----------------------------------------------------

    async def versions_known(self, timeout: float = 30.0) -> None:
        """Wait (a bounded time) until the images' toolchain versions are read."""
        with contextlib.suppress(asyncio.TimeoutError, JudgeUnavailable):
            await self.available()
            if self._versions_task is not None:
                await asyncio.wait_for(asyncio.shield(self._versions_task), timeout)

    def languages(self) -> list[JudgeLanguage]:
        """Return the languages whose image is present (all of them before start-up)."""
        ids = self.judge.image_ids if self.judge is not None else None
        multi = self.settings.multi_file_language
        return [
            lang
            for lang in sorted(JUDGE_LANGUAGES.values(), key=lambda lang: lang.id)
            if ids is None or (lang.key in ids if lang.runner is not None else multi in ids)
        ]

    def language(self, language_id: int) -> JudgeLanguage | None:
        """Return one language by Judge0 id, if served."""
        return next((lang for lang in self.languages() if lang.id == language_id), None)

    def describe_language(self, language: JudgeLanguage, full: bool) -> dict[str, Any]:
        """Return a language as GET /languages (or /languages/{id} when ``full``) shows it."""
        version = self.versions.get(language.key, "")
        entry: dict[str, Any] = {"id": language.id, "name": language.name(version)}
        if full:
            entry.update(
                is_archived=False,
                source_file=language.source_file() or None,
                compile_cmd=language.compile_cmd(),
                run_cmd=language.run_cmd(),
            )
        return entry

    def about(self) -> dict[str, Any]:
        """Return GET /about."""
        return {
            "version": __version__,
            "homepage": "https://github.com/jupyter-ide",
            "source_code": "jupyter-ide (Judge0 CE compatible API)",
            "maintainer": "jupyter-ide",
        }

    # -- submissions ---------------------------------------------------------------------

    async def _rate_check(self, user: str, count: int) -> None:
        """Count ``count`` submissions against the user's per-minute limit."""
        limit = self.settings.submissions_per_minute
        if limit <= 0:
            return
        minute = int(time.time() // 60)
        added, _ = await self.cache.incr_if_below(
            f"judge:rate:{user}:{minute}", count, limit, ttl=120
        )
        if not added:
            raise RateLimited(max(1, 60 - int(time.time() % 60)))

    async def submit(
        self, user: str, bodies: list[Any], base64_encoded: bool
    ) -> list[Submission | Errors]:
        """Check and queue submissions; return each one's record or its errors."""
        await self.available()
        checked: list[Submission | Errors] = []
        jobs: list[_Live] = []
        now = datetime.now(timezone.utc)
        for body in bodies:
            request, errors = parse_submission(body, base64_encoded, self.settings)
            if request is not None and self.language(request.language.id) is None:
                missing = request.language.id
                request, errors = (
                    None,
                    {"language_id": [f"language with id {missing} doesn't exist"]},
                )
            if request is None:
                checked.append(errors)
                continue
            sub = Submission.from_request(str(uuid.uuid4()), user, request, now)
            jobs.append(_Live(sub, request))
            checked.append(sub)
        if not jobs:
            return checked
        await self._rate_check(user, len(jobs))
        if self.shared is not None:
            await self._submit_shared(user, [live.submission for live in jobs])
            return checked
        self.queue.put_many(user, jobs)  # QueueFull: nothing was queued
        for live in jobs:
            self.live[live.submission.token] = live
        try:
            await self.store.add([live.submission for live in jobs])
        except Exception:
            for live in jobs:
                live.cancelled = True
                live.submission.status = Status.INTERNAL_ERROR
                live.done.set()
                self.live.pop(live.submission.token, None)
            raise
        for live in jobs:
            live.recorded.set()
        return checked

    async def _submit_shared(self, user: str, subs: list[Submission]) -> None:
        """Record the rows, then queue them in Redis; a refusal removes the rows again."""
        assert self.shared is not None
        await self.store.add(subs)
        tokens = [sub.token for sub in subs]
        try:
            await self.shared.admit(user, tokens)  # QueueFull: nothing was queued
        except BaseException as e:
            await asyncio.shield(self.store.remove_queued(tokens))
            if isinstance(e, (RedisError, OSError)):
                raise JudgeUnavailable(f"the shared queue (Redis) did not answer: {e}") from e
            raise

    async def _work(self, number: int) -> None:
        """One worker: take submissions in the users' turn and judge them."""
        assert self.judge is not None
        while True:
            _, live = await self.queue.get()
            await live.recorded.wait()
            if live.cancelled:
                continue
            request, live.request = live.request, None
            sub = live.submission
            if request is None:
                continue
            sub.status = Status.PROCESSING
            self.running += 1
            try:
                outcome = await self.judge.judge(request)
            except Exception as e:  # a bug must not kill the worker
                log.exception("judge: worker %d failed on %s", number, sub.token)
                outcome = Outcome(Status.INTERNAL_ERROR, message=f"internal error: {e}")
            finally:
                self.running -= 1
            sub.outcome = outcome
            sub.status = outcome.status
            sub.finished_at = datetime.now(timezone.utc)
            try:
                await self.store.finish(sub)
            except Exception:
                log.exception("judge: could not record %s", sub.token)
            live.kept_until = time.monotonic() + self.settings.keep_results_seconds
            live.done.set()
            self._forget_old()

    def _forget_old(self) -> None:
        """Drop finished submissions from memory once they are past their keeping time."""
        now = time.monotonic()
        old = [t for t, live in self.live.items() if live.done.is_set() and live.kept_until < now]
        for token in old:
            del self.live[token]

    async def wait(self, token: str) -> Submission | None:
        """Wait until a submission is finished; return it as recorded (any process ran it)."""
        live = self.live.get(token)
        if live is not None:
            await live.done.wait()
            return live.submission
        if self.shared is None:
            return None
        pause = POLL_FIRST
        while True:  # whichever process runs it, the database has the verdict
            sub = await self.store.load_token(token)
            if sub is None or sub.status.finished:
                return sub
            await asyncio.sleep(pause)
            pause = min(POLL_MOST, pause * 1.5)

    async def get(self, tokens: list[str], user: str) -> dict[str, Submission]:
        """Return the user's submissions among ``tokens`` (others' are simply absent)."""
        found: dict[str, Submission] = {}
        missing = []
        for token in tokens:
            live = self.live.get(token)
            if live is not None and live.submission.user == user:
                found[token] = live.submission
            elif live is None:
                missing.append(token)
        if missing:
            found.update(await self.store.load(missing, user))
        return found

    async def page(
        self, users: list[str] | None, page: int, per_page: int
    ) -> tuple[list[Submission], int]:
        """Return one page of submissions of ``users`` (None: everyone)."""
        return await self.store.page(users, page, per_page)

    def state(self) -> dict[str, Any]:
        """Return the queue's and pool's state for health and the bench."""
        return {
            "queued": len(self.queue) if self.shared is None else None,  # Redis: see waiting()
            "queue": "redis" if self.shared is not None else "memory",
            "running": self.running,
            "workers": len(self._workers),
            "problem": self.problem,
            "compile_cache": (
                {"hits": self.judge.cache.hits, "misses": self.judge.cache.misses}
                if self.judge is not None
                else None
            ),
        }


__all__ = ["MULTI_FILE_ID", "JudgeManager", "JudgeUnavailable", "QueueFull", "RateLimited"]
