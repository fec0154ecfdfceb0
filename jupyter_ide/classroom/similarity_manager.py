"""Similarity checks of an assignment: started by an instructor, run in worker processes.

A check compares each student's latest submission with every other one's (the starter code
excluded), in the background: the files are read, fingerprinted and compared in a process
pool, the progress is written to the run's row about once a second (which is also its
heartbeat), and the ranked pairs are stored when it ends. One check per assignment runs at a
time, whichever server started it (a partial unique index); a check whose server stopped
beating is marked failed when the next one starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from traitlets import Float, Int, List, TraitError, Unicode, validate
from traitlets.config import LoggingConfigurable

from ..auth.permissions import Role
from ..db import Course, User
from ..db.models import Assignment, AssignmentSubmission
from ..db.similarity_models import RUNNING, SimilarityPair, SimilarityRun
from . import similarity as engine
from .manager import AssignmentManager, ClassroomError, iso

# Where each phase's progress falls in the whole check, in percent.
PHASES = {
    "reading": (0, 10),
    "fingerprinting": (10, 50),
    "comparing": (50, 95),
    "saving": (95, 100),
}
MAX_PAGE = 500


class Progress:
    """A running check's progress, kept in memory and written out by its reporter."""

    def __init__(self) -> None:
        """Start at reading."""
        self.phase, self.done, self.total = "reading", 0, 0

    def set(self, phase: str, total: int) -> None:
        """Enter a phase of ``total`` steps."""
        self.phase, self.done, self.total = phase, 0, total


class _Reader:
    """Reads blobs once each, a few at a time."""

    def __init__(self, files: Any, at_once: int = 16) -> None:
        """Read through ``files`` (WorkspaceFiles)."""
        self.files = files
        self.cache: dict[str, bytes] = {}
        self.gate = asyncio.Semaphore(at_once)

    async def read(self, content_hash: str) -> bytes:
        """Return a blob's bytes."""
        if content_hash not in self.cache:
            async with self.gate:
                self.cache[content_hash] = await self.files.read(content_hash)
        return self.cache[content_hash]


class SimilarityChecker(LoggingConfigurable):
    """Start similarity checks, report their progress, serve ranked pairs and matched regions."""

    workers = Int(
        0,
        help="Worker processes that fingerprint and compare submissions "
        "(0: one per CPU, at most 4).",
    ).tag(config=True)
    noise_threshold = Int(
        25, help="Shortest match that counts, in tokenized characters (copydetect's noise)."
    ).tag(config=True)
    guarantee_threshold = Int(
        35,
        help="Matches this long are always found (copydetect's guarantee; the winnowing "
        "window is guarantee - noise + 1).",
    ).tag(config=True)
    max_file_bytes = Int(
        256 * 1024, help="Files larger than this are left out of a check (and listed as such)."
    ).tag(config=True)
    max_submission_bytes = Int(
        2 * 1024 * 1024,
        help="Past this many bytes of one submission's source, its further files are left out.",
    ).tag(config=True)
    keep_pairs = Int(2000, help="How many of the best-ranked pairs a check stores.").tag(
        config=True
    )
    languages = List(
        Unicode(),
        default_value=list(engine.LANGUAGES),
        help="Pygments names of the languages compared; other files are left out.",
    ).tag(config=True)
    stale_seconds = Float(
        60.0,
        help="A running check whose progress was not written for this long (its server "
        "stopped) is marked failed when another check of the assignment starts.",
    ).tag(config=True)
    report_seconds = Float(1.0, help="How often a running check writes its progress.").tag(
        config=True
    )

    @validate("noise_threshold", "guarantee_threshold", "max_file_bytes", "keep_pairs")
    def _positive(self, proposal: Any) -> Any:
        if proposal["value"] < 1:
            raise TraitError(f"{proposal['trait'].name} must be at least 1")
        return proposal["value"]

    def __init__(self, assignments: AssignmentManager, **kwargs: Any) -> None:
        """Work on the assignments' database and blob store."""
        super().__init__(**kwargs)
        if self.guarantee_threshold < self.noise_threshold:
            raise TraitError("guarantee_threshold must be at least noise_threshold")
        self.assignments = assignments
        self.db = assignments.db
        self.files = assignments.files
        self._pool: ProcessPoolExecutor | None = None
        self._tasks: dict[int, asyncio.Task[None]] = {}

    # -- the process pool ---------------------------------------------------------------------

    def pool_size(self) -> int:
        """Return how many worker processes the pool has."""
        return self.workers or max(1, min(4, os.cpu_count() or 1))

    @property
    def pool(self) -> Executor:
        """The worker processes (started on first use; spawned, not forked from a server)."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.pool_size(), mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    def settings(self) -> engine.Settings:
        """Return the fingerprinting settings in force."""
        return engine.Settings(self.noise_threshold, self.guarantee_threshold)

    async def close(self) -> None:
        """Stop running checks (marked failed) and the worker processes."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    # -- who may ------------------------------------------------------------------------------

    async def _teaching(
        self, session: AsyncSession, course_name: str, name: str, user: str, role: Role
    ) -> tuple[Course, Assignment]:
        """Return the course and assignment; 403 unless the caller teaches the course."""
        course = await self.assignments.course(session, course_name)
        await self.assignments.teaching(session, course, user, role)
        return course, await self.assignments.assignment(session, course, name)

    # -- starting -----------------------------------------------------------------------------

    async def start(
        self, course_name: str, name: str, body: Any, user: str, role: Role
    ) -> dict[str, Any]:
        """Start a check of the students' latest submissions; 409 while one runs."""
        if body not in (None, {}):
            raise ClassroomError(400, "A similarity check takes no options: send {} or nothing")
        async with self.db.session() as session:
            course, found = await self._teaching(session, course_name, name, user, role)
            latest = await self._latest(session, found)
            if len(latest) < 2:
                raise ClassroomError(
                    409,
                    f"{name} has submissions from {len(latest)} student(s); "
                    "a similarity check needs at least 2",
                )
            await self._end_stale(session, found)
        settings = self.settings()
        row = SimilarityRun(
            assignment_id=found.id,
            started_by=user,
            status=RUNNING,
            phase="reading",
            submissions=len(latest),
            settings={
                "noise": settings.noise,
                "guarantee": settings.guarantee,
                "max_file_bytes": self.max_file_bytes,
                "max_submission_bytes": self.max_submission_bytes,
                "languages": list(self.languages),
            },
            starter=dict(found.files),
            skipped=[],
        )
        try:
            async with self.db.session() as session:
                session.add(row)
                await session.flush()
                run_id = row.id
                view = self.run_view(row)
        except IntegrityError as e:
            raise ClassroomError(
                409, f"A similarity check of {name} is already running; wait for it to end"
            ) from e
        self.log.info("Similarity check %s of %s/%s started by %s", run_id, course.name, name, user)
        task = asyncio.get_running_loop().create_task(self._run(run_id, latest, row.starter))
        self._tasks[run_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(run_id, None))
        return view

    async def _latest(
        self, session: AsyncSession, found: Assignment
    ) -> list[tuple[int, str, dict[str, Any]]]:
        """Return each student's latest submission: (id, student, files), by student."""
        newest = (
            select(func.max(AssignmentSubmission.id))
            .where(AssignmentSubmission.assignment_id == found.id)
            .group_by(AssignmentSubmission.user_id)
        )
        rows = (
            await session.execute(
                select(AssignmentSubmission.id, User.name, AssignmentSubmission.files)
                .join(User, User.id == AssignmentSubmission.user_id)
                .where(AssignmentSubmission.id.in_(newest))
                .order_by(User.name)
            )
        ).all()
        return [(int(i), str(n), dict(f)) for i, n, f in rows]

    async def _end_stale(self, session: AsyncSession, found: Assignment) -> None:
        """Mark failed a running check of the assignment whose server stopped beating."""
        cutoff = datetime.now(timezone.utc) - timedelta(seconds=self.stale_seconds)
        await session.execute(
            update(SimilarityRun)
            .where(
                SimilarityRun.assignment_id == found.id,
                SimilarityRun.status == RUNNING,
                SimilarityRun.heartbeat_at < cutoff,
            )
            .values(
                status="error",
                error="The server running this check stopped",
                finished_at=datetime.now(timezone.utc),
            )
        )

    # -- running ------------------------------------------------------------------------------

    async def _run(
        self, run_id: int, latest: list[tuple[int, str, dict[str, Any]]], starter: dict[str, Any]
    ) -> None:
        """Carry a check out; its row ends done (with pairs) or error (the last result kept)."""
        progress = Progress()
        stop = asyncio.Event()
        reporter = asyncio.get_running_loop().create_task(self._report(run_id, progress, stop))
        try:
            await self._check(run_id, latest, starter, progress)
        except asyncio.CancelledError:
            await self._fail(run_id, "The server stopped during the check")
            raise
        except Exception as e:
            self.log.exception("Similarity check %s failed", run_id)
            if isinstance(e, BrokenProcessPool) and self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None  # a worker died (out of memory?): the next check starts anew
            await self._fail(run_id, f"The check failed: {e or type(e).__name__}")
        finally:
            stop.set()  # not cancelled: a write in flight ends cleanly
            await asyncio.gather(reporter, return_exceptions=True)

    async def _report(self, run_id: int, progress: Progress, stop: asyncio.Event) -> None:
        """Write the progress (and so the heartbeat) about once per ``report_seconds``."""
        while not stop.is_set():
            try:
                async with self.db.session() as session:
                    await session.execute(
                        update(SimilarityRun)
                        .where(SimilarityRun.id == run_id, SimilarityRun.status == RUNNING)
                        .values(
                            phase=progress.phase,
                            done=progress.done,
                            total=progress.total,
                            heartbeat_at=datetime.now(timezone.utc),
                        )
                    )
            except Exception as e:  # a database hiccup must not end the check
                self.log.warning("Similarity check %s: progress not written: %s", run_id, e)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), self.report_seconds)

    async def _fail(self, run_id: int, message: str) -> None:
        """Mark a check failed; earlier results stay."""
        async with self.db.session() as session:
            await session.execute(
                update(SimilarityRun)
                .where(SimilarityRun.id == run_id)
                .values(status="error", error=message, finished_at=datetime.now(timezone.utc))
            )

    async def _sources(
        self, files: dict[str, Any], who: str, skipped: list[dict[str, str]], reader: _Reader
    ) -> dict[str, engine.Source]:
        """Read one submission's source files (sorted by path), noting what is left out."""
        allowed = frozenset(self.languages)
        found: dict[str, engine.Source] = {}
        budget = self.max_submission_bytes
        for path, (content_hash, size) in sorted(files.items()):
            reason = None
            if size > self.max_file_bytes:
                reason = f"larger than {self.max_file_bytes} bytes"
            elif size > budget:
                reason = f"past the first {self.max_submission_bytes} bytes of the submission"
            else:
                source = engine.readable(
                    path, await reader.read(content_hash), self.max_file_bytes, allowed
                )
                if isinstance(source, str):
                    reason = source
                else:
                    budget -= size
                    found[path] = source
            if reason is not None:
                skipped.append({"student": who, "path": path, "reason": reason})
        return found

    async def _check(
        self,
        run_id: int,
        latest: list[tuple[int, str, dict[str, Any]]],
        starter: dict[str, Any],
        progress: Progress,
    ) -> None:
        """Read, fingerprint, compare, rank and store."""
        loop = asyncio.get_running_loop()
        settings = self.settings()
        skipped: list[dict[str, str]] = []
        reader = _Reader(self.files)
        progress.set("reading", len(latest) + 1)

        async def one(files: dict[str, Any], who: str, into: list[dict[str, str]]) -> Any:
            found = await self._sources(files, who, into, reader)
            progress.done += 1
            return list(found.values())

        starter_sources, *sources = await asyncio.gather(
            one(starter, "(starter)", []), *(one(f, who, skipped) for _, who, f in latest)
        )
        skipped.sort(key=lambda s: (s["student"], s["path"]))
        reader.cache.clear()

        progress.set("fingerprinting", len(latest))
        excluded = await loop.run_in_executor(
            self.pool, engine.starter_hashes, starter_sources, settings
        )
        chunk = max(1, math.ceil(len(sources) / (self.pool_size() * 4)))
        pending = [
            loop.run_in_executor(
                self.pool, engine.fingerprint_many, sources[i : i + chunk], excluded, settings
            )
            for i in range(0, len(sources), chunk)
        ]
        prints: list[engine.Fingerprint] = []
        for chunk_done in pending:  # in order: each chunk's fingerprints follow the previous ones
            prints += await chunk_done
            progress.done = len(prints)

        n = len(prints)
        progress.set("comparing", n)
        rows = max(1, math.ceil(n / (self.pool_size() * 2)))
        matched = np.zeros((n, n), dtype=np.int64)
        row_tasks = [
            _from(
                r,
                loop.run_in_executor(
                    self.pool, engine.matched_rows, prints, r, min(n, r + rows), settings.noise
                ),
            )
            for r in range(0, n, rows)
        ]
        for next_rows in asyncio.as_completed(row_tasks):
            r, block = await next_rows
            matched[r : r + len(block)] = block
            progress.done += len(block)

        progress.set("saving", 1)
        coverage = [p.coverage for p in prints]
        ranked = await asyncio.to_thread(engine.ranked, matched, coverage, self.keep_pairs)
        rows_out = [
            {
                "run_id": run_id,
                "rank": rank,
                "submission_a": latest[i][0],
                "submission_b": latest[j][0],
                "student_a": latest[i][1],
                "student_b": latest[j][1],
                "score": (sim_a + sim_b) / 2,
                "similarity_a": sim_a,
                "similarity_b": sim_b,
                "matched_a": matched_a,
                "matched_b": matched_b,
            }
            for rank, (i, j, sim_a, sim_b, matched_a, matched_b) in enumerate(ranked, 1)
        ]
        async with self.db.session() as session:
            if rows_out:
                await session.execute(insert(SimilarityPair), rows_out)
            row = await session.get(SimilarityRun, run_id)
            assert row is not None
            row.status, row.phase, row.done, row.total = "done", "saving", 1, 1
            row.pairs, row.skipped = n * (n - 1) // 2, skipped
            row.finished_at = datetime.now(timezone.utc)
            # The newest finished check is the result; older ones go (their pairs with them).
            await session.execute(
                delete(SimilarityRun).where(
                    SimilarityRun.assignment_id == row.assignment_id,
                    SimilarityRun.id != run_id,
                    SimilarityRun.status != RUNNING,
                )
            )
        self.log.info(
            "Similarity check %s: %d submissions, %d pairs kept", run_id, n, len(rows_out)
        )

    # -- reading results ----------------------------------------------------------------------

    def run_view(self, row: SimilarityRun) -> dict[str, Any]:
        """Return a check as the API shows it."""
        low, high = PHASES.get(row.phase, (0, 100))
        share = row.done / row.total if row.total else 0.0
        percent = 100.0 if row.status == "done" else low + (high - low) * share
        return {
            "id": row.id,
            "status": row.status,
            "phase": row.phase,
            "done": row.done,
            "total": row.total,
            "percent": round(percent, 1),
            "started_by": row.started_by,
            "created_at": iso(row.created_at),
            "finished_at": iso(row.finished_at),
            "error": row.error,
            "submissions": row.submissions,
            "pairs": row.pairs,
            "skipped": row.skipped,
            "settings": row.settings,
        }

    async def status(self, course_name: str, name: str, user: str, role: Role) -> dict[str, Any]:
        """Return the newest check (running, done or failed) and the newest finished one."""
        async with self.db.session() as session:
            _, found = await self._teaching(session, course_name, name, user, role)
            runs = (
                await session.execute(
                    select(SimilarityRun)
                    .where(SimilarityRun.assignment_id == found.id)
                    .order_by(SimilarityRun.id.desc())
                )
            ).scalars()
            newest, result = None, None
            for run in runs:
                newest = newest or run
                if run.status == "done":
                    result = run
                    break
            return {
                "run": self.run_view(newest) if newest is not None else None,
                "result": self.run_view(result) if result is not None else None,
            }

    async def _result(self, session: AsyncSession, found: Assignment) -> SimilarityRun:
        """Return the newest finished check, or 409."""
        run = (
            await session.execute(
                select(SimilarityRun)
                .where(SimilarityRun.assignment_id == found.id, SimilarityRun.status == "done")
                .order_by(SimilarityRun.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if run is None:
            raise ClassroomError(409, f"No similarity check of {found.name} has finished yet")
        return run

    async def pairs(
        self, course_name: str, name: str, offset: str, limit: str, user: str, role: Role
    ) -> dict[str, Any]:
        """Return ranked pairs of the newest finished check, best first (a page)."""
        start, count = (
            _whole(offset, "offset", 0, 10**9, 0),
            _whole(limit, "limit", 1, MAX_PAGE, 50),
        )
        async with self.db.session() as session:
            _, found = await self._teaching(session, course_name, name, user, role)
            run = await self._result(session, found)
            stored = (
                await session.execute(select(func.count()).where(SimilarityPair.run_id == run.id))
            ).scalar_one()
            rows = (
                await session.execute(
                    select(SimilarityPair)
                    .where(SimilarityPair.run_id == run.id)
                    .order_by(SimilarityPair.rank)
                    .offset(start)
                    .limit(count)
                )
            ).scalars()
            return {
                "run": self.run_view(run),
                "stored": int(stored),
                "offset": start,
                "pairs": [pair_view(p) for p in rows],
            }

    async def pair(
        self, course_name: str, name: str, pair_id: str, user: str, role: Role
    ) -> dict[str, Any]:
        """Return a pair side by side: both students' compared files and matched regions."""
        if not pair_id.isdigit() or len(pair_id) > 18:
            raise ClassroomError(400, "A pair id is a number")
        async with self.db.session() as session:
            _, found = await self._teaching(session, course_name, name, user, role)
            pair = await session.get(SimilarityPair, int(pair_id))
            run = None if pair is None else await session.get(SimilarityRun, pair.run_id)
            if pair is None or run is None or run.assignment_id != found.id:
                raise ClassroomError(404, f"No similarity pair {pair_id} of {name}")
            subs = {
                s.id: s
                for s in (
                    await session.execute(
                        select(AssignmentSubmission).where(
                            AssignmentSubmission.id.in_([pair.submission_a, pair.submission_b])
                        )
                    )
                ).scalars()
            }
            view = pair_view(pair)
            settings, starter = dict(run.settings), dict(run.starter)
        allowed = frozenset(settings.get("languages", self.languages))
        max_bytes = int(settings.get("max_file_bytes", self.max_file_bytes))
        reader = _Reader(self.files)

        async def read(files: dict[str, Any]) -> dict[str, engine.Source]:
            out = {}
            for path, (content_hash, size) in sorted(files.items()):
                if size > max_bytes:
                    continue
                data = await reader.read(content_hash)
                source = engine.readable(path, data, max_bytes, allowed)
                if not isinstance(source, str):
                    out[path] = source
            return out

        side_a = await read(subs[pair.submission_a].files)
        side_b = await read(subs[pair.submission_b].files)
        starter_sources = list((await read(starter)).values())
        fingerprinting = engine.Settings(
            int(settings.get("noise", self.noise_threshold)),
            int(settings.get("guarantee", self.guarantee_threshold)),
        )
        matches = await asyncio.get_running_loop().run_in_executor(
            self.pool, engine.pair_regions, side_a, side_b, starter_sources, fingerprinting
        )
        view["files_a"] = {p: {"text": t, "language": lang} for p, (t, lang) in side_a.items()}
        view["files_b"] = {p: {"text": t, "language": lang} for p, (t, lang) in side_b.items()}
        view["matches"] = matches
        return view


def pair_view(pair: SimilarityPair) -> dict[str, Any]:
    """Return a ranked pair as the API shows it."""
    return {
        "id": pair.id,
        "rank": pair.rank,
        "a": {"student": pair.student_a, "submission": pair.submission_a},
        "b": {"student": pair.student_b, "submission": pair.submission_b},
        "score": pair.score,
        "similarity_a": pair.similarity_a,
        "similarity_b": pair.similarity_b,
        "matched_a": pair.matched_a,
        "matched_b": pair.matched_b,
    }


def _whole(text: str, field: str, low: int, high: int, default: int) -> int:
    """Return a whole-number query argument within bounds, or raise 400."""
    if text == "":
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ClassroomError(400, f"{field} is a whole number from {low} to {high}")
    return int(text)


async def _from(start: int, future: Any) -> tuple[int, Any]:
    """Await rows computed in a worker; return them with the first row's index."""
    return start, await future
