"""Grading through the judge's shared queue in Redis: judge workers on any node grade.

With Redis, a submission to grade is queued as ``grade:<id>`` in the judge queue's sibling
for gradings (its own lists and stream: a burst of gradings neither fills the judge API's
queue nor takes its turns). Whichever process runs the judge's workers (servers, the
service, ``jupyter ide judge-worker``) takes gradings from there, each in one box of its own.
The database claim (``GradingRun``) makes a grade recorded once: a worker killed while
grading leaves its entry pending; after ``claim_idle_seconds`` another worker takes it over,
claims the row again and grades it, and a late first worker records nothing. After
``max_deliveries`` workers died on it, it ends as an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select, update

from ..db import Database, User
from ..db.models import AssignmentSubmission
from ..kernels.judge.shared_queue import Delivery, SharedQueue
from ..kernels.judge.shared_worker import SWEEP_AGE, QueueWorker
from .grading_run import FilesUnreadable, GradingRun

log = logging.getLogger(__name__)

PREFIX = "grade:"
KIND = "grading"
SWEEP_BATCH = 200


def grade_token(submission_id: int) -> str:
    """Return the queue token of a submission to grade."""
    return f"{PREFIX}{submission_id}"


def submission_of(token: str) -> int | None:
    """Return the submission id a token names, or None for anything else."""
    number = token.removeprefix(PREFIX)
    if not token.startswith(PREFIX) or not number.isdigit() or len(number) > 18:
        return None
    return int(number)


class GradingWorker(QueueWorker):
    """Takes gradings from the shared queue, claims each in the database, grades it once."""

    def __init__(self, queue: SharedQueue, run: GradingRun, max_deliveries: int) -> None:
        """Grade what ``queue`` delivers with ``run``."""
        super().__init__(queue)
        self.run = run
        self.db: Database = run.db
        self.max_deliveries = max_deliveries
        self.graded = 0  # gradings this process recorded
        self.skipped = 0  # deliveries of submissions not waiting (graded, or held elsewhere)
        self.dropped = 0  # entries that named no submission

    async def handle(self, delivery: Delivery) -> None:
        """Claim and grade the delivered submission, then acknowledge its entry."""
        submission_id = submission_of(delivery.token)
        if submission_id is None:
            shown = dict(list(delivery.fields.items())[:4])
            log.warning(
                "grading: dropped entry %s %r: no such submission", delivery.entry_id, shown
            )
            self.dropped += 1
            await self.queue.done(delivery.entry_id)
            return
        takeover = delivery.deliveries > 1
        run = await self.run.claim(submission_id, takeover=takeover)
        if run is None:
            log.info("grading: submission %s is not waiting (a repeated delivery)", submission_id)
            self.skipped += 1
            await self.queue.done(delivery.entry_id)
            return
        if delivery.deliveries > self.max_deliveries:
            message = f"{delivery.deliveries - 1} workers stopped while grading it"
            await self.run.record(submission_id, run, None, message)
            await self.queue.done(delivery.entry_id)
            return
        try:
            async with self.keeping(delivery.entry_id):
                recorded = await self.run.grade(submission_id, run, unreadable_fails=False)
        except FilesUnreadable as e:
            # Not the submission's fault: give the claim back, leave the entry pending for
            # another worker (after max_deliveries it ends as an error).
            log.warning("grading: cannot read submission %s's files here: %s", submission_id, e)
            await self._unclaim(submission_id, run)
            return
        if recorded:
            self.graded += 1
        await self.queue.done(delivery.entry_id)

    async def _unclaim(self, submission_id: int, run: int) -> None:
        """Put a claimed submission back to queued (if the claim is still this run's)."""
        async with self.db.session() as session:
            await session.execute(
                update(AssignmentSubmission)
                .where(
                    AssignmentSubmission.id == submission_id,
                    AssignmentSubmission.status == "grading",
                    AssignmentSubmission.grade_runs == run,
                )
                .values(status="queued")
            )

    async def sweep(self, every: float) -> int:
        """Queue again the gradings the database says wait but Redis no longer has.

        Redis restarted without its data, or a server died between recording a submission
        and queueing it. Only rows older than the take-over time are looked at, by one
        process at a time; a row left ``grading`` with no entry is put back to ``queued``.
        """
        if not await self.queue.lock("sweep", every):
            return 0
        age = max(SWEEP_AGE, 2 * self.queue.claim_idle)
        before = datetime.now(timezone.utc) - timedelta(seconds=age)
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(AssignmentSubmission.id, User.name, AssignmentSubmission.grade_runs)
                    .join(User, User.id == AssignmentSubmission.user_id)
                    .where(
                        AssignmentSubmission.status.in_(("queued", "grading")),
                        AssignmentSubmission.created_at < before,
                        # a claim moves graded_at: a young claim is left alone
                        (AssignmentSubmission.graded_at.is_(None))
                        | (AssignmentSubmission.graded_at < before),
                    )
                    .order_by(AssignmentSubmission.id)
                    .limit(SWEEP_BATCH)
                )
            ).all()
        runs = {grade_token(int(sid)): int(runs) for sid, _, runs in rows}
        lost = await self.queue.missing(
            [(grade_token(int(sid)), str(name)) for sid, name, _ in rows]
        )
        for token, user in lost:
            submission_id = submission_of(token)
            assert submission_id is not None
            async with self.db.session() as session:
                await session.execute(
                    update(AssignmentSubmission)
                    .where(
                        AssignmentSubmission.id == submission_id,
                        AssignmentSubmission.status == "grading",
                        AssignmentSubmission.grade_runs == runs[token],
                    )
                    .values(status="queued")
                )
            await self.queue.requeue(user, token)
        if lost:
            log.warning("grading: queued %d submissions again that Redis had lost", len(lost))
        return len(lost)


class SharedGrading:
    """The shared side of a grading queue: put gradings in Redis, and grade them here."""

    def __init__(
        self,
        queue: SharedQueue,
        run: GradingRun,
        *,
        workers: int,
        run_here: bool,
        max_deliveries: int,
        ready: Any = None,
    ) -> None:
        """Queue in ``queue``; grade with ``workers`` loops when ``run_here``.

        ``ready``: an awaitable factory the loops wait for first (the judge's start-up); a
        process whose judge cannot run programs takes no gradings.
        """
        self.queue = queue
        self.worker = GradingWorker(queue, run, max_deliveries)
        self.workers = max(1, workers)
        self.run_here = run_here
        self.ready = ready
        self._loops: list[asyncio.Task[None]] = []
        self._puts: set[asyncio.Task[None]] = set()
        self._starting: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the grading loops (in the running loop) when this process grades."""
        if not self.run_here or self._starting is not None:
            return
        self._starting = asyncio.ensure_future(self._start())

    async def _start(self) -> None:
        if self.ready is not None:
            try:
                await self.ready()
            except Exception as e:  # the judge cannot run programs: leave gradings to others
                log.warning("grading: not grading in this process: %s", e)
                return
        await self.queue.ensure_group()
        self._loops = [asyncio.ensure_future(self.worker.loop(i)) for i in range(self.workers)]
        log.info("grading: %d loops on %s", self.workers, self.queue.base)

    def put(self, submission_id: int) -> None:
        """Queue a submission's grading in Redis (in the background)."""
        task = asyncio.ensure_future(self._put(submission_id))
        self._puts.add(task)
        task.add_done_callback(self._puts.discard)

    async def _put(self, submission_id: int) -> None:
        """Admit one grading under its student's name (their turn among students)."""
        try:
            async with self.worker.db.session() as session:
                owner = (
                    await session.execute(
                        select(User.name)
                        .join(AssignmentSubmission, AssignmentSubmission.user_id == User.id)
                        .where(AssignmentSubmission.id == submission_id)
                    )
                ).scalar_one_or_none()
            if owner is not None:
                await self.queue.requeue(str(owner), grade_token(submission_id))
        except Exception as e:  # the row stays queued: a worker's sweep queues it again
            log.warning("grading: could not queue submission %s in Redis: %s", submission_id, e)

    async def idle(self) -> None:
        """Wait until every grading put so far is in Redis."""
        while self._puts:
            await asyncio.gather(*list(self._puts), return_exceptions=True)

    async def close(self) -> None:
        """Stop the loops (what is queued stays in Redis) and close the connections."""
        self.worker.stopping = True
        tasks = [*self._loops, *self._puts]
        if self._starting is not None:
            tasks.append(self._starting)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._loops, self._starting = [], None
        await self.queue.leave()
