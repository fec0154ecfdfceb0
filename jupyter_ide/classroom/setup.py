"""Assemble the classroom for a server: managers, the grading queue and the Grader."""

from __future__ import annotations

import importlib
from typing import Any

from tornado.ioloop import IOLoop
from traitlets import Float, Int
from traitlets.config import LoggingConfigurable

from ..contents_manager import IDEContentsManager
from ..db import Database
from .autograde import GradingQueue
from .gradebook import Gradebook
from .handlers import Classroom
from .manager import AssignmentManager
from .spec import Grader
from .submissions import Submissions
from .workspaces import WorkspaceFiles

GRADER_SETTING = "jupyter_ide_grader"


class ClassroomSettings(LoggingConfigurable):
    """How the classroom grades."""

    grading_workers = Int(
        4,
        help="Submissions graded at once by this server (each in its own judge sandbox).",
    ).tag(config=True)

    stale_grading_seconds = Float(
        1800.0,
        help="A submission claimed for grading this long ago and never finished (its server "
        "died) is graded again by whichever server resumes the queue.",
    ).tag(config=True)


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


def make_classroom(
    db: Database, contents: IDEContentsManager, grader: Grader | None, parent: Any
) -> Classroom:
    """Return the classroom of a server whose files are ``contents``'."""
    files = WorkspaceFiles(db, contents)
    assignments = AssignmentManager(db, files, parent=parent, log=parent.log)
    submissions = Submissions(assignments)
    settings = ClassroomSettings(parent=parent)
    queue = GradingQueue(
        submissions, grader, settings.grading_workers, settings.stale_grading_seconds
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
