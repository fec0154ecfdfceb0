"""Assemble live teaching for a server: the help queue and the AI transcripts, their settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tornado.ioloop import IOLoop
from traitlets import Float, Int, TraitError, default, validate
from traitlets.config import LoggingConfigurable

from .env_numbers import positive_env
from .handlers import Classroom
from .helpqueue import HelpQueue
from .transcripts import TranscriptStore

TEACHING = "jupyter_ide_teaching"


class TeachingSettings(LoggingConfigurable):
    """How long AI transcripts are kept and how they are written."""

    transcript_retention_days = Int(
        help="AI transcripts older than this many days are purged. "
        "Env: JUPYTER_IDE_TRANSCRIPT_RETENTION_DAYS (default 180).",
    ).tag(config=True)

    transcript_purge_seconds = Float(
        help="How often the server purges AI transcripts past their retention. "
        "Env: JUPYTER_IDE_TRANSCRIPT_PURGE_SECONDS (default 3600).",
    ).tag(config=True)

    transcript_batch_seconds = Float(
        0.05,
        help="How long a transcript waits for others to share its database write (0: none).",
    ).tag(config=True)

    @default("transcript_retention_days")
    def _default_retention(self) -> int:
        return int(positive_env("JUPYTER_IDE_TRANSCRIPT_RETENTION_DAYS", 180))

    @default("transcript_purge_seconds")
    def _default_purge(self) -> float:
        return positive_env("JUPYTER_IDE_TRANSCRIPT_PURGE_SECONDS", 3600.0)

    @validate("transcript_retention_days", "transcript_purge_seconds")
    def _positive(self, proposal: Any) -> Any:
        if proposal["value"] <= 0:
            raise TraitError(f"{proposal['trait'].name} must be above 0")
        return proposal["value"]

    @validate("transcript_batch_seconds")
    def _not_negative(self, proposal: Any) -> Any:
        if not 0 <= proposal["value"] <= 5:
            raise TraitError("transcript_batch_seconds must be between 0 and 5")
        return proposal["value"]


@dataclass
class Teaching:
    """Live teaching's parts, as handlers reach them from the web app's settings."""

    help: HelpQueue
    transcripts: TranscriptStore


def make_teaching(classroom: Classroom, ai: Any, parent: Any) -> Teaching:
    """Return the help queue and transcripts; the AI proxy (if any) hands exchanges over."""
    try:
        settings = TeachingSettings(parent=parent)
        retention = settings.transcript_retention_days
        purge_every = settings.transcript_purge_seconds
    except TraitError as e:
        raise SystemExit(f"jupyter-ide refuses to start: {e}") from e
    assignments = classroom.assignments
    store = TranscriptStore(
        assignments.db, assignments, retention, settings.transcript_batch_seconds
    )
    if ai is not None:
        ai.transcripts = store
    IOLoop.current().add_callback(store.start_purging, purge_every)
    return Teaching(HelpQueue(assignments, assignments.files), store)


async def close_teaching(teaching: Teaching | None) -> None:
    """Stop purging and write the transcripts still queued."""
    if teaching is not None:
        await teaching.transcripts.close()
