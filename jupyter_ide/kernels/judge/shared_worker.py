"""A worker on the shared queue: take (or take over) a submission, run it, record it once.

QueueWorker is the loop any job kind shares (take, take over, wait, keep the entry fresh);
SharedWorker runs judge submissions with it, the classroom's grading its own jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from .judging import Judge, Outcome
from .replay import NotReplayable, request_of
from .settings import JudgeSettings
from .shared_queue import Delivery, SharedQueue, sleep_or_wake
from .statuses import Status
from .store import SubmissionStore
from .submission import Submission

log = logging.getLogger(__name__)

ERROR_PAUSE = 1.0  # seconds a worker waits after Redis or the database failed it
SWEEP_AGE = 10.0  # at least this old (seconds) before a row missing in Redis is queued again


def _valid_token(token: str) -> bool:
    """Whether ``token`` looks like a submission token (a UUID)."""
    try:
        return str(uuid.UUID(token)) == token
    except ValueError:
        return False


class QueueWorker:
    """Serves one SharedQueue: take (or take over) an entry, ``handle`` it, ack it."""

    def __init__(self, queue: SharedQueue) -> None:
        """Serve ``queue``."""
        self.queue = queue
        self.stopping = False  # set before the loops are cancelled (see ``loop``)

    async def handle(self, delivery: Delivery) -> None:
        """Run one delivered entry to its recorded end, then acknowledge it."""
        raise NotImplementedError

    async def sweep(self, every: float) -> int:
        """Queue again what the database says waits but Redis lost; return how many."""
        return 0

    async def loop(self, number: int) -> None:
        """Serve until cancelled: take over idle entries now and then, else take the next."""
        every = max(0.5, self.queue.claim_idle / 3)
        next_claim = 0.0
        loop = asyncio.get_running_loop()
        sweep_every = max(5.0, self.queue.claim_idle)
        next_sweep = loop.time() + sweep_every
        while not self.stopping:
            try:
                if number == 0 and loop.time() >= next_sweep:
                    next_sweep = loop.time() + sweep_every
                    await self.sweep(sweep_every)
                delivery: Delivery | None = None
                if loop.time() >= next_claim:
                    delivery = await self.queue.claim()
                    if delivery is None:
                        next_claim = loop.time() + every
                    else:
                        log.warning(
                            "judge: worker %d took over %s (delivery %d)",
                            number,
                            delivery.token,
                            delivery.deliveries,
                        )
                if delivery is None:
                    delivery = await self.queue.take()
                if delivery is None:
                    await sleep_or_wake(self.queue, min(every, 1.0))
                    continue
                await self.handle(delivery)
            except (OSError, RedisError, SQLAlchemyError) as e:
                if self.stopping:  # redis-py may turn a cancellation into a connection error
                    return
                log.warning("judge: worker %d: %s; retrying", number, e)
                await asyncio.sleep(ERROR_PAUSE)
            except Exception:  # a bug must not kill the worker
                log.exception("judge: worker %d failed", number)
                await asyncio.sleep(ERROR_PAUSE)

    @contextlib.asynccontextmanager
    async def keeping(self, entry_id: str) -> AsyncIterator[None]:
        """Keep the entry ours (its idle time reset) while the body runs."""
        # Stopped by an event, not cancelled: redis-py may turn a cancellation mid-command
        # into a connection error, which the keeper would take for a failed beat and go on.
        stop = asyncio.Event()
        keeper = asyncio.ensure_future(self._keep(entry_id, stop))
        try:
            yield
        finally:
            stop.set()
            await keeper

    async def _keep(self, entry_id: str, stop: asyncio.Event) -> None:
        """Reset the entry's idle time while it runs, so no other worker takes it over."""
        every = max(0.2, self.queue.claim_idle / 3)
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            if stop.is_set():
                return
            try:
                if not await self.queue.keep(entry_id):
                    log.warning("judge: another worker took %s over", entry_id)
                    return
            except (OSError, RedisError) as e:
                log.warning("judge: could not keep %s: %s", entry_id, e)


class SharedWorker(QueueWorker):
    """Runs submissions from a SharedQueue with a Judge; verdicts go to the store once."""

    def __init__(
        self,
        queue: SharedQueue,
        store: SubmissionStore,
        judge: Judge,
        settings: JudgeSettings,
        running: Callable[[int], None] | None = None,
    ) -> None:
        """Use ``queue``, ``store`` and ``judge``; ``running(+1/-1)`` counts runs in progress."""
        super().__init__(queue)
        self.store = store
        self.judge = judge
        self.settings = settings
        self.running = running or (lambda _: None)
        self.ran = 0  # submissions this process ran to a verdict it recorded
        self.repeated = 0  # deliveries of submissions that already had their verdict
        self.dropped = 0  # stream entries that named no submission

    async def sweep(self, every: float) -> int:
        """Queue again what the database says waits but Redis no longer has; return how many.

        Redis restarted without its data, or a server died between recording a submission
        and queueing it: the row stays queued (or processing) with nothing left to run it.
        Only rows older than the take-over time are looked at (younger ones may be on their
        way into Redis), by one process at a time.
        """
        if not await self.queue.lock("sweep", every):
            return 0
        age = max(SWEEP_AGE, 2 * self.queue.claim_idle)
        before = datetime.now(timezone.utc) - timedelta(seconds=age)
        lost = await self.queue.missing(await self.store.unfinished(before))
        for token, user in lost:
            await self.queue.requeue(user, token)
        if lost:
            log.warning("judge: queued %d submissions again that Redis had lost", len(lost))
        return len(lost)

    async def handle(self, delivery: Delivery) -> None:
        """Run one delivered entry to its recorded verdict, then acknowledge it."""
        token = delivery.token
        sub = await self.store.load_token(token) if _valid_token(token) else None
        if sub is None:
            shown = dict(list(delivery.fields.items())[:4])
            log.warning("judge: dropped entry %s %r: no such submission", delivery.entry_id, shown)
            self.dropped += 1
            await self.queue.done(delivery.entry_id)
            return
        if sub.status.finished:
            log.info("judge: %s already has its verdict (a repeated delivery)", token)
            self.repeated += 1
            await self.queue.done(delivery.entry_id)
            return
        if delivery.deliveries > self.settings.max_deliveries:
            outcome = Outcome(
                Status.INTERNAL_ERROR,
                message=f"internal error: {delivery.deliveries - 1} workers stopped running it",
            )
        else:
            outcome = await self._run(delivery, sub)
        sub.outcome = outcome
        sub.status = outcome.status
        sub.finished_at = datetime.now(timezone.utc)
        if await self.store.finish(sub):
            self.ran += 1
        else:
            log.info("judge: %s was recorded by another worker first", token)
            self.repeated += 1
        await self.queue.done(delivery.entry_id)

    async def _run(self, delivery: Delivery, sub: Submission) -> Outcome:
        """Judge the stored submission while keeping its entry ours."""
        token = sub.token
        try:
            request = request_of(sub)
        except NotReplayable as e:
            return Outcome(Status.INTERNAL_ERROR, message=f"internal error: {e}")
        await self.store.mark_processing(token)
        self.running(1)
        try:
            async with self.keeping(delivery.entry_id):
                return await self.judge.judge(request)
        except Exception as e:  # a bug must not kill the worker
            log.exception("judge: failed on %s", token)
            return Outcome(Status.INTERNAL_ERROR, message=f"internal error: {e}")
        finally:
            self.running(-1)
