"""The activity recorder: edits (in bursts), saves, pastes, runs and presence, written off path.

Reports come from /ide (edits, pastes, runs, presence) and from the contents manager (saves,
through a post-save hook where the save really happens). Each is queued and written in
batches by a background writer, so a save or a run never waits for its event row. Pastes are
checked on the server: the pasted text is looked for in the user's other files.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..ai_handlers.batching import Gathering
from ..auth.permissions import Role
from ..contents_manager.index import FILE
from ..db import Course, Database, JudgeSubmission
from ..db.activity_models import ActivityEvent, Presence
from ..db.models import File, Workspace
from ..db.queries import get_or_create_user
from ..kernels.run_watch import KernelRun
from .helpqueue import check_path
from .manager import AssignmentManager, ClassroomError
from .workspaces import WorkspaceFiles

log = logging.getLogger(__name__)

KINDS = ("edit", "paste", "run")
MAX_EDITS = 100_000  # edits one report may count
MAX_CHARS = 10_000_000
MAX_AGE_MS = 600_000
TOKEN = re.compile(r"^[0-9a-fA-F-]{8,36}$")
ASSIGNMENT_PATH = re.compile(r"^assignments/([^/]+)/")


@dataclass
class ActivityLimits:
    """What the recorder keeps and how: the settings it runs with."""

    paste_threshold: int = 200
    max_paste: int = 1_000_000
    edit_burst_seconds: float = 60.0
    batch_seconds: float = 0.05
    source_files: int = 500  # most files a paste's source is looked for in
    source_bytes: int = 1_000_000  # files larger than this are not searched
    source_total: int = 20_000_000  # most bytes one paste's search reads
    retention_days: int = 365  # events (and presence) older than this are purged


@dataclass
class Pending:
    """One event waiting for the writer."""

    user: str
    kind: str
    path: str
    at: datetime
    course_id: int | None = None
    course_from_path: bool = False  # a save: the course is found by the writer
    count: int = 1
    size: int = 0
    text_hash: str = ""
    source: str | None = None
    ref: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    end: datetime | None = None  # an edit burst's last edit (its report); ``at``: its first


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _whole(value: Any, name: str, low: int, high: int) -> int:
    """Return a whole number within [low, high] or raise 400."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ClassroomError(400, f"{name} must be a whole number from {low} to {high}")
    return value


def _file_path(value: Any) -> str:
    """Return a workspace file path (required), or raise 400."""
    path = check_path(value)
    if not path:
        raise ClassroomError(400, "path must name a file of your workspace")
    return path


class ActivityRecorder:
    """Queue activity events and write them in batches; search pastes' sources."""

    def __init__(
        self, db: Database, assignments: AssignmentManager, files: WorkspaceFiles, limits: Any
    ) -> None:
        """Write to ``db``; check courses with ``assignments``; search files with ``files``."""
        self.db = db
        self.assignments = assignments
        self.files = files
        self.limits: ActivityLimits = limits
        self._pending: list[Pending] = []
        self._user_ids: dict[str, int] = {}
        self._writer = Gathering(limits.batch_seconds, self._drain)
        self._purger: asyncio.Task[None] | None = None

    # -- the contents manager's side -----------------------------------------------------------

    def saved(self, model: dict[str, Any], os_path: str, contents_manager: Any) -> None:
        """Post-save hook: queue a save of ``model`` by the manager's owner (no I/O here)."""
        owner = str(getattr(contents_manager, "owner", "") or "")
        path = str(model.get("path") or "")
        if not owner or not path or model.get("type") == "directory":
            return
        self._queue(
            Pending(
                user=owner,
                kind="save",
                path=path,
                at=_now(),
                course_from_path=True,
                size=int(model.get("size") or 0),
                text_hash=str(model.get("hash") or "")[:64],
            )
        )

    def kernel_run(self, owner: str, path: str, kernel_name: str, run: KernelRun) -> None:
        """Queue a cell run the server saw on ``owner``'s kernel (no I/O here)."""
        try:
            path = check_path(path)
        except ClassroomError:
            path = ""
        self._queue(
            Pending(
                user=owner,
                kind="run",
                path=path,
                at=run.started,
                course_from_path=True,
                text_hash=run.code_hash,
                detail=run.detail(kernel_name[:64]),
                end=run.ended,
            )
        )

    def _queue(self, event: Pending) -> None:
        self._pending.append(event)
        self._writer.wake()

    # -- the browser's side --------------------------------------------------------------------

    async def course_of(self, name: Any, user: str, role: Role) -> int | None:
        """Return the id of a course the caller belongs to (None for none named), else 4xx."""
        if name is None or name == "":
            return None
        if not isinstance(name, str):
            raise ClassroomError(400, "course must be a course name")
        async with self.db.session() as session:
            course = await self.assignments.course(session, name)
            await self.assignments.role_in(session, course, user, role)
            return course.id

    async def report(self, body: Any, course: str | None, user: str, role: Role) -> dict[str, Any]:
        """Record what /ide reports: {kind: edit|paste|run, path, ...}; return what was kept."""
        if not isinstance(body, dict):
            raise ClassroomError(400, "The body must be a JSON object {kind, path, ...}")
        kind = body.get("kind")
        if kind not in KINDS:
            raise ClassroomError(400, f"kind must be one of {', '.join(KINDS)}")
        allowed = {"kind", "path", "course"} | {
            "edit": {"edits", "chars", "age_ms"},
            "paste": {"text"},
            "run": {"token"},
        }[kind]
        unknown = set(body) - allowed
        if unknown:
            raise ClassroomError(400, f"Unknown fields for a {kind}: {', '.join(sorted(unknown))}")
        path = _file_path(body.get("path"))
        course_id = await self.course_of(body.get("course") or course, user, role)
        if kind == "edit":
            edits = _whole(body.get("edits", 1), "edits", 1, MAX_EDITS)
            chars = _whole(body.get("chars", 0), "chars", 0, MAX_CHARS)
            # The burst began age_ms ago (typing is reported once it pauses), at most 10 min.
            age = _whole(body.get("age_ms", 0), "age_ms", 0, MAX_AGE_MS)
            now = _now()
            at = now - timedelta(milliseconds=age)
            self._queue(
                Pending(user, "edit", path, at, course_id, count=edits, size=chars, end=now)
            )
            return {"recorded": "edit", "path": path}
        if kind == "run":
            return await self._run(body.get("token"), path, user)
        return await self._paste(body.get("text"), path, course_id, user)

    async def _run(self, token: Any, path: str, user: str) -> dict[str, Any]:
        """Link a judge run of the caller's to the file it ran (the verdict stays the judge's)."""
        if not isinstance(token, str) or not TOKEN.match(token):
            raise ClassroomError(400, "token must be the judge submission's token")
        async with self.db.session() as session:
            user_id = await self._user_id(session, user)
            found = (
                await session.execute(
                    select(JudgeSubmission.course_id, JudgeSubmission.language_id).where(
                        JudgeSubmission.token == token, JudgeSubmission.user_id == user_id
                    )
                )
            ).one_or_none()
        if found is None:
            raise ClassroomError(404, f"You made no run with token {token}")
        course_id, language_id = found
        detail = {"language_id": int(language_id)}
        self._queue(Pending(user, "run", path, _now(), course_id, ref=token, detail=detail))
        return {"recorded": "run", "path": path, "token": token}

    async def _paste(
        self, text: Any, path: str, course_id: int | None, user: str
    ) -> dict[str, Any]:
        """Record a paste at or above the threshold (smaller ones count as an edit)."""
        if not isinstance(text, str):
            raise ClassroomError(400, "text must be the pasted text")
        limits = self.limits
        if len(text) > limits.max_paste:
            raise ClassroomError(413, f"A paste report holds at most {limits.max_paste} characters")
        if len(text) < limits.paste_threshold:
            self._queue(Pending(user, "edit", path, _now(), course_id, size=len(text)))
            return {"recorded": "edit", "path": path}
        source = await self.find_source(user, path, text)
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        self._queue(
            Pending(
                user,
                "paste",
                path,
                _now(),
                course_id,
                size=len(text),
                text_hash=digest,
                source=source,
            )
        )
        return {"recorded": "paste", "path": path, "size": len(text), "source": source}

    async def find_source(self, user: str, path: str, text: str) -> str | None:
        """Return another file of the user's workspace that holds ``text``, if any."""
        needle = text.replace("\r\n", "\n").strip()
        if not needle:
            return None
        least = len(needle.encode("utf-8", "surrogatepass"))
        live = self.files._live(user)
        if live is not None:
            await live.sync_from_disk()  # what code wrote counts as a file too
        workspace = self.files.contents.workspace
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(File.path, File.content_hash, File.size)
                    .join(Workspace, Workspace.id == File.workspace_id)
                    .where(
                        Workspace.user_id == await self._user_id(session, user),
                        Workspace.name == workspace,
                        File.kind == FILE,
                        File.path != path,
                        File.size >= least,
                        File.size <= self.limits.source_bytes,
                    )
                    .order_by(File.updated_at.desc())
                    .limit(self.limits.source_files)
                )
            ).all()
        budget = self.limits.source_total
        for found, content_hash, size in rows:
            if any(part.startswith(".") for part in found.split("/")):
                continue  # checkpoints and hidden files are not a source
            budget -= int(size)
            if budget < 0:
                break  # a paste report costs a bounded read, whatever the workspace holds
            try:
                data = await self.files.read(content_hash)
            except Exception as e:  # a missing blob is no source; the paste is still kept
                log.warning("Paste source search could not read %s: %s", found, e)
                continue
            content = data.decode("utf-8", errors="ignore").replace("\r\n", "\n")
            if needle in content:
                return str(found)
        return None

    async def presence(self, body: Any, course: str | None, user: str, role: Role) -> None:
        """Mark the caller online in a course, with the file open ({course, path})."""
        if not isinstance(body, dict) or set(body) - {"course", "path"}:
            raise ClassroomError(400, "The body is {course, path}: where you are in /ide")
        path = check_path(body.get("path"))
        course_id = await self.course_of(body.get("course") or course, user, role)
        if course_id is None:
            raise ClassroomError(400, "course must name one of your courses")
        async with self.db.session() as session:
            values = {
                "user_id": await self._user_id(session, user),
                "course_id": course_id,
                "path": path,
                "seen_at": _now(),
            }
            dialect = self.db.engine.dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            statement = insert(Presence).values(**values)
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["user_id", "course_id"],
                    set_={"path": values["path"], "seen_at": values["seen_at"]},
                )
            )

    # -- the writer ----------------------------------------------------------------------------

    async def flush(self) -> None:
        """Write every queued event now."""
        await self._writer.flush()

    async def close(self) -> None:
        """Stop purging; write what is queued."""
        if self._purger is not None:
            self._purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purger
            self._purger = None
        await self.flush()

    async def purge(self, now: datetime | None = None) -> int:
        """Delete events and presence older than the retention; return how many events went."""
        cutoff = (now or _now()) - timedelta(days=self.limits.retention_days)
        async with self.db.session() as session:
            result = await session.execute(
                delete(ActivityEvent).where(ActivityEvent.ended_at < cutoff)
            )
            await session.execute(delete(Presence).where(Presence.seen_at < cutoff))
            gone = int(getattr(result, "rowcount", 0) or 0)
        if gone:
            log.info(
                "Purged %d activity events older than %d days", gone, self.limits.retention_days
            )
        return gone

    def start_purging(self, every_seconds: float) -> None:
        """Purge now and then every ``every_seconds`` in the background."""
        if self._purger is None:
            self._purger = asyncio.create_task(self._purge_loop(every_seconds))

    async def _purge_loop(self, every_seconds: float) -> None:
        while True:
            try:
                await self.purge()
            except Exception as e:  # the next round tries again
                log.warning("Activity purge failed: %s", e)
            await asyncio.sleep(every_seconds)

    async def _user_id(self, session: AsyncSession, name: str) -> int:
        found = self._user_ids.get(name)
        if found is None:
            user, _ = await get_or_create_user(session, name)
            found = self._user_ids[name] = user.id
        return found

    async def _drain(self) -> None:
        """Write queued events in batches until none are left; a failed batch is logged."""
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._write(batch)
            except Exception as e:
                log.error("%d activity events not written: %s", len(batch), e)

    async def _save_course(self, session: AsyncSession, event: Pending, user_id: int) -> int | None:
        """Return an event's course: the assignment folder's, else where the user was last seen."""
        match = ASSIGNMENT_PATH.match(event.path)
        if match:
            found = (
                await session.execute(select(Course.id).where(Course.name == match.group(1)))
            ).scalar_one_or_none()
            if found is not None:
                return int(found)
        seen = (
            await session.execute(
                select(Presence.course_id)
                .where(Presence.user_id == user_id)
                .order_by(Presence.seen_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        return int(seen) if seen is not None else None

    async def _write(self, batch: list[Pending]) -> None:
        """Write a batch in one transaction; edits extend their file's open burst."""
        burst = timedelta(seconds=self.limits.edit_burst_seconds)
        async with self.db.session() as session:
            for event in batch:
                user_id = await self._user_id(session, event.user)
                if event.course_from_path or (event.course_id is None and event.kind != "run"):
                    event.course_id = await self._save_course(session, event, user_id)
                if event.kind == "edit":
                    last = (
                        await session.execute(
                            select(ActivityEvent)
                            .where(
                                ActivityEvent.user_id == user_id,
                                ActivityEvent.path == event.path,
                            )
                            .order_by(ActivityEvent.started_at.desc(), ActivityEvent.id.desc())
                            .limit(1)
                        )
                    ).scalar_one_or_none()
                    if (
                        last is not None
                        and last.kind == "edit"
                        and last.course_id == event.course_id
                        and event.at - last.ended_at <= burst
                    ):
                        last.count += event.count
                        last.size += event.size
                        last.ended_at = max(last.ended_at, event.end or event.at)
                        await session.flush()
                        continue
                session.add(
                    ActivityEvent(
                        user_id=user_id,
                        course_id=event.course_id,
                        path=event.path,
                        kind=event.kind,
                        started_at=event.at,
                        ended_at=event.end or event.at,
                        count=event.count,
                        size=event.size,
                        text_hash=event.text_hash,
                        source=event.source,
                        ref=event.ref,
                        detail=event.detail,
                    )
                )
                await session.flush()


__all__ = ["ActivityLimits", "ActivityRecorder"]
