"""Assemble the classroom for a server: managers, the grading queue and the Grader."""

from __future__ import annotations

import importlib
from typing import Any

from tornado.ioloop import IOLoop
from traitlets import Float, Int, TraitError, default, validate
from traitlets.config import LoggingConfigurable

from ..contents_manager import IDEContentsManager
from ..db import Database
from .autograde import GradingQueue
from .env_numbers import positive_env
from .gradebook import Gradebook
from .grading_run import GradingRun, Reader
from .handlers import Classroom
from .manager import AssignmentManager
from .shared_grading import KIND, SharedGrading
from .spec import Grader
from .submissions import Submissions
from .workspaces import WorkspaceFiles

GRADER_SETTING = "jupyter_ide_grader"


class ClassroomSettings(LoggingConfigurable):
    """How the classroom grades."""

    grading_workers = Int(
        help="Submissions graded at once by this server (each in its own judge sandbox). "
        "With Redis, gradings go through the judge's shared queue instead, and each process "
        "running judge workers grades as many at once as JudgeSettings.workers. "
        "Env: JUPYTER_IDE_GRADING_WORKERS (default 4).",
    ).tag(config=True)

    stale_grading_seconds = Float(
        help="A submission claimed for grading this long ago and never finished (its server "
        "died) is graded again by whichever server resumes the queue. "
        "Env: JUPYTER_IDE_STALE_GRADING_SECONDS (default 1800).",
    ).tag(config=True)

    @default("grading_workers")
    def _default_workers(self) -> int:
        return int(positive_env("JUPYTER_IDE_GRADING_WORKERS", 4))

    @default("stale_grading_seconds")
    def _default_stale(self) -> float:
        return positive_env("JUPYTER_IDE_STALE_GRADING_SECONDS", 1800.0)

    @validate("grading_workers", "stale_grading_seconds")
    def _positive(self, proposal: Any) -> Any:
        if proposal["value"] <= 0:
            raise TraitError(f"{proposal['trait'].name} must be above 0")
        return proposal["value"]


def judge_grader(judge: Any) -> Grader | None:
    """Return the judge's Grader (jupyter_ide.classroom.grading.JudgeGrader), if installed."""
    if judge is None:
        return None
    try:
        module = importlib.import_module("jupyter_ide.classroom.grading")
    except ModuleNotFoundError:
        return None
    grader: Grader = module.JudgeGrader(judge)
    return grader


def shared_grading(
    db: Database, read: Reader, grader: Grader | None, log: Any
) -> SharedGrading | None:
    """Return grading through the judge's shared queue when the judge has one (Redis)."""
    judge = getattr(grader, "judge", None)
    shared = getattr(judge, "shared", None)
    if grader is None or judge is None or shared is None:
        return None
    settings = judge.settings
    return SharedGrading(
        shared.sibling(KIND),
        GradingRun(db, read, grader, log),
        workers=settings.worker_count(),
        run_here=settings.run_workers,
        max_deliveries=settings.max_deliveries,
        ready=judge.available,
    )


def make_classroom(
    db: Database, contents: IDEContentsManager, grader: Grader | None, parent: Any
) -> Classroom:
    """Return the classroom of a server whose files are ``contents``'."""
    files = WorkspaceFiles(db, contents)
    assignments = AssignmentManager(db, files, parent=parent, log=parent.log)
    submissions = Submissions(assignments)
    try:
        settings = ClassroomSettings(parent=parent)
        settings.grading_workers, settings.stale_grading_seconds  # noqa: B018 - read: checked
    except TraitError as e:
        raise SystemExit(f"jupyter-ide refuses to start: {e}") from e
    queue = GradingQueue(
        submissions,
        grader,
        settings.grading_workers,
        settings.stale_grading_seconds,
        shared_grading(db, files.read, grader, parent.log),
    )
    IOLoop.current().add_callback(queue.start)  # what a previous run left queued
    return Classroom(assignments, submissions, queue, Gradebook(assignments))


async def close_classroom(classroom: Classroom | None) -> None:
    """Stop grading and close the classroom's blob store connections."""
    if classroom is None:
        return
    await classroom.queue.close()
    close = getattr(classroom.queue.grader, "close", None)
    if close is not None:
        await close()
    await classroom.assignments.files.close()
