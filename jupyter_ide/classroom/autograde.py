"""The grading queue: each submission claimed once in the database, graded by the Grader.

Without Redis (the embedded defaults) this process grades what it receives, ``workers`` at a
time. With the judge's shared queue in Redis, gradings go there instead (shared_grading.py)
and whichever processes run the judge's workers grade them.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, or_, select, update

from ..auth.permissions import Role
from ..db.models import AssignmentSubmission
from .grading_run import GradingRun
from .manager import ClassroomError
from .shared_grading import SharedGrading
from .spec import Grader
from .submissions import Submissions


class GradingQueue:
    """Grade submissions with ``workers`` at a time; a claim in the database makes it once."""

    def __init__(
        self,
        submissions: Submissions,
        grader: Grader | None,
        workers: int = 4,
        stale_seconds: float = 1800.0,
        shared: SharedGrading | None = None,
    ) -> None:
        """Grade what ``submissions`` receives with ``grader`` (None: kept queued).

        A submission claimed longer than ``stale_seconds`` ago and never finished (its
        server died while grading) may be claimed again. ``shared``: gradings go through
        the judge's queue in Redis instead of this process's own.
        """
        self.stale = timedelta(seconds=stale_seconds)
        self.submissions = submissions
        self.db = submissions.db
        self.grader = grader
        self.workers = max(1, workers)
        self.log = submissions.assignments.log
        self.shared = shared
        self._queue: asyncio.Queue[int] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        submissions.enqueue = self.put
        submissions.assignments.rescore_hook = submissions.rescore  # type: ignore[attr-defined]

    def start(self) -> None:
        """Start the workers and queue what an earlier run left queued (in the loop)."""
        if self.grader is None:
            return
        if self.shared is not None:  # what Redis lost, a worker's sweep queues again
            self.shared.start()
            return
        if self._queue is not None:
            return
        self._queue = asyncio.Queue()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._work()) for _ in range(self.workers)]
        self._tasks.append(loop.create_task(self._resume()))

    def put(self, submission_id: int) -> None:
        """Queue a submission for grading."""
        if self.grader is None:
            return  # stays "queued" in the database until a grader is configured
        if self.shared is not None:
            self.shared.put(submission_id)
            return
        self.start()
        assert self._queue is not None
        self._queue.put_nowait(submission_id)

    async def _resume(self) -> None:
        """Queue what an earlier run left queued."""
        async with self.db.session() as session:
            ids = (
                await session.execute(select(AssignmentSubmission.id).where(self._claimable()))
            ).scalars()
            for submission_id in ids:
                assert self._queue is not None
                self._queue.put_nowait(int(submission_id))

    def _claimable(self) -> Any:
        """Return the SQL test for a claimable submission: queued, or claimed long ago."""
        stale = datetime.now(timezone.utc) - self.stale
        return or_(
            AssignmentSubmission.status == "queued",
            and_(
                AssignmentSubmission.status == "grading",
                AssignmentSubmission.graded_at < stale,
            ),
        )

    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            submission_id = await self._queue.get()
            try:
                await self.grade(submission_id)
            except Exception:  # one submission's trouble must not stop the worker
                self.log.exception("Grading submission %s failed", submission_id)
            finally:
                self._queue.task_done()

    async def idle(self) -> None:
        """Wait until everything queued so far is graded (with Redis: queued there)."""
        if self.shared is not None:
            await self.shared.idle()
        if self._queue is not None:
            await self._queue.join()

    async def close(self) -> None:
        """Stop the workers (what is queued stays queued in the database)."""
        if self.shared is not None:
            await self.shared.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks, self._queue = [], None

    async def grade(self, submission_id: int) -> bool:
        """Claim a queued submission and grade it; False when another worker has it."""
        assert self.grader is not None
        grading = GradingRun(self.db, self.submissions.files.read, self.grader, self.log)
        run = await grading.claim(submission_id, stale=self.stale)
        if run is None:
            return False
        await grading.grade(submission_id, run)
        return True

    async def regrade(
        self, course_name: str, name: str, submission_id: str, user: str, role: Role
    ) -> dict[str, Any]:
        """Grade a submission again (manual points are kept); "all" regrades every one."""
        manager = self.submissions.assignments
        if self.grader is None:
            raise ClassroomError(503, "No grader is configured on this server")
        async with self.db.session() as session:
            course = await manager.course(session, course_name)
            await manager.teaching(session, course, user, role)
            found = await manager.assignment(session, course, name)
            query = update(AssignmentSubmission).where(
                AssignmentSubmission.assignment_id == found.id,
                AssignmentSubmission.status.in_(("graded", "error")),
            )
            if submission_id != "all":
                if (
                    not (submission_id.isascii() and submission_id.isdigit())
                    or len(submission_id) > 18
                ):
                    raise ClassroomError(400, "A submission id is a number (or all)")
                query = query.where(AssignmentSubmission.id == int(submission_id))
            ids = (
                (
                    await session.execute(
                        query.values(status="queued").returning(AssignmentSubmission.id)
                    )
                )
                .scalars()
                .all()
            )
            if submission_id != "all" and not ids:
                # Another assignment's (or course's) submission is as absent as a missing one.
                mine = await session.get(AssignmentSubmission, int(submission_id))
                if mine is None or mine.assignment_id != found.id:
                    raise ClassroomError(404, f"No submission {submission_id} of {name}")
                raise ClassroomError(409, f"Submission {submission_id} is not graded yet")
        for queued in ids:
            self.put(int(queued))
        return {"queued": sorted(int(i) for i in ids)}
