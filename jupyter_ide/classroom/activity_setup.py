"""Assemble the activity timeline and the lab dashboard for a server, with their settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tornado.ioloop import IOLoop
from traitlets import Float, Int, TraitError, default, validate
from traitlets.config import LoggingConfigurable

from .activity import ActivityLimits, ActivityRecorder
from .activity_timeline import ActivityReader
from .dashboard import Dashboard
from .env_numbers import positive_env
from .handlers import Classroom

ACTIVITY = "jupyter_ide_activity"
PURGE_SECONDS = 3600.0


class ActivitySettings(LoggingConfigurable):
    """What the activity timeline records and when a student counts as online."""

    paste_threshold = Int(
        help="A paste of at least this many characters is recorded as a paste (with the file "
        "it came from); smaller ones count as typing. "
        "Env: JUPYTER_IDE_PASTE_THRESHOLD (default 200).",
    ).tag(config=True)

    max_paste = Int(1_000_000, help="Most characters a paste report may carry (more: 413).").tag(
        config=True
    )

    edit_burst_seconds = Float(
        help="Edits of a file less than this many seconds apart extend one timeline row. "
        "Env: JUPYTER_IDE_EDIT_BURST_SECONDS (default 60).",
    ).tag(config=True)

    online_seconds = Float(
        help="A student seen (a heartbeat from /ide) within this many seconds is online on the "
        "lab dashboard. Env: JUPYTER_IDE_ONLINE_SECONDS (default 60).",
    ).tag(config=True)

    retention_days = Int(
        help="Activity events older than this many days are purged (hourly). "
        "Env: JUPYTER_IDE_ACTIVITY_RETENTION_DAYS (default 365).",
    ).tag(config=True)

    reports_per_minute = Int(
        help="Most activity reports (edits, pastes, runs, presence) one user may send a minute; "
        "more are answered 429. Env: JUPYTER_IDE_ACTIVITY_REPORTS_PER_MINUTE (default 600).",
    ).tag(config=True)

    batch_seconds = Float(
        0.05, help="How long an activity event waits for others to share its database write."
    ).tag(config=True)

    @default("paste_threshold")
    def _default_paste(self) -> int:
        return int(positive_env("JUPYTER_IDE_PASTE_THRESHOLD", 200))

    @default("reports_per_minute")
    def _default_reports(self) -> int:
        return int(positive_env("JUPYTER_IDE_ACTIVITY_REPORTS_PER_MINUTE", 600))

    @default("retention_days")
    def _default_retention(self) -> int:
        return int(positive_env("JUPYTER_IDE_ACTIVITY_RETENTION_DAYS", 365))

    @default("edit_burst_seconds")
    def _default_burst(self) -> float:
        return positive_env("JUPYTER_IDE_EDIT_BURST_SECONDS", 60.0)

    @default("online_seconds")
    def _default_online(self) -> float:
        return positive_env("JUPYTER_IDE_ONLINE_SECONDS", 60.0)

    @validate(
        "paste_threshold",
        "max_paste",
        "edit_burst_seconds",
        "online_seconds",
        "retention_days",
        "reports_per_minute",
    )
    def _positive(self, proposal: Any) -> Any:
        if proposal["value"] <= 0:
            raise TraitError(f"{proposal['trait'].name} must be above 0")
        return proposal["value"]

    @validate("batch_seconds")
    def _not_negative(self, proposal: Any) -> Any:
        if not 0 <= proposal["value"] <= 5:
            raise TraitError("batch_seconds must be between 0 and 5")
        return proposal["value"]


@dataclass
class Activity:
    """The recorder, the reader and the dashboard, as handlers reach them."""

    recorder: ActivityRecorder
    reader: ActivityReader
    dashboard: Dashboard
    reports_per_minute: int = 600


def make_activity(classroom: Classroom, parent: Any) -> Activity:
    """Return the activity parts; saves of the server's contents manager are recorded."""
    try:
        settings = ActivitySettings(parent=parent)
        limits = ActivityLimits(
            paste_threshold=settings.paste_threshold,
            max_paste=settings.max_paste,
            edit_burst_seconds=settings.edit_burst_seconds,
            batch_seconds=settings.batch_seconds,
            retention_days=settings.retention_days,
        )
        online = settings.online_seconds
        per_minute = settings.reports_per_minute
    except TraitError as e:
        raise SystemExit(f"jupyter-ide refuses to start: {e}") from e
    assignments = classroom.assignments
    files = assignments.files
    recorder = ActivityRecorder(assignments.db, assignments, files, limits)
    # Where the save really happens: this server's manager (a hub service's: each user's).
    files.contents.register_post_save_hook(recorder.saved)  # type: ignore[no-untyped-call]
    IOLoop.current().add_callback(recorder.start_purging, PURGE_SECONDS)
    reader = ActivityReader(assignments, files)
    return Activity(recorder, reader, Dashboard(assignments, online), per_minute)


async def close_activity(activity: Activity | None) -> None:
    """Write the events still queued."""
    if activity is not None:
        await activity.recorder.close()
