"""AI transcripts: each course's AI exchanges, written off the proxy's path, read per course.

The proxy hands every answered request made in a course to ``exchange`` (no I/O there); a
background writer stores them in batches, with secrets redacted. Instructors of the course
read and export them; a student reads their own. Rows older than the retention are purged.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select

from ..ai_handlers.batching import Gathering
from ..ai_handlers.redact import redact
from ..auth.audit import record
from ..auth.courses import USER_NAME
from ..auth.permissions import Role
from ..db import Course, Database, User
from ..db.queries import get_or_create_user
from ..db.teaching_models import AITranscript
from .manager import AssignmentManager, ClassroomError, iso

log = logging.getLogger(__name__)

CSV_FIELDS = ("time", "student", "course", "model", "streamed", "messages", "answer")
FORMATS = ("json", "csv", "jsonl")
MAX_READ = 50_000


@dataclass
class Exchange:
    """One answered AI request made in a course."""

    user: str
    course: str
    model: str
    messages: list[Any]
    answer: str
    streamed: bool
    at: datetime


def _redacted(messages: list[Any]) -> list[Any]:
    """Return the messages with secret-looking text masked (keys pasted into a question)."""
    kept = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            content = redact(content)
        elif isinstance(content, list):
            content = [
                {**part, "text": redact(part["text"])}
                if isinstance(part, dict) and isinstance(part.get("text"), str)
                else part
                for part in content
            ]
        kept.append({"role": message.get("role"), "content": content})
    return kept


def _safe_cell(value: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


class TranscriptStore:
    """Write exchanges in batches off the request path; read, export and purge them."""

    def __init__(
        self,
        db: Database,
        assignments: AssignmentManager,
        retention_days: int,
        batch_seconds: float = 0.05,
    ) -> None:
        """Keep transcripts in ``db`` for ``retention_days``; courses checked by ``assignments``."""
        self.db = db
        self.assignments = assignments
        self.retention_days = retention_days
        self._pending: list[Exchange] = []
        self._user_ids: dict[str, int] = {}
        self._writer = Gathering(batch_seconds, self._drain)
        self._purger: asyncio.Task[None] | None = None

    # -- writing (the proxy's side) ------------------------------------------------------------

    def exchange(
        self,
        user: str,
        course: str,
        model: str,
        messages: list[Any],
        answer: str,
        streamed: bool,
    ) -> None:
        """Queue one exchange for the writer; returns at once (called on the proxy's path)."""
        now = datetime.now(timezone.utc)
        self._pending.append(Exchange(user, course, model, messages, answer, streamed, now))
        self._writer.wake()

    async def flush(self) -> None:
        """Write every queued exchange now."""
        await self._writer.flush()

    async def _drain(self) -> None:
        """Write queued exchanges in batches until none are left; a failed batch is logged."""
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._write(batch)
            except Exception as e:
                log.error("%d AI transcripts not written: %s", len(batch), e)

    async def _write(self, batch: list[Exchange]) -> None:
        """Insert a batch in one transaction (exchanges of courses since deleted are dropped)."""
        async with self.db.session() as session:
            names = {e.course for e in batch}
            found = await session.execute(
                select(Course.name, Course.id).where(Course.name.in_(names))
            )
            courses: dict[str, int] = {name: cid for name, cid in found.all()}
            for name in {e.user for e in batch} - set(self._user_ids):
                user, _ = await get_or_create_user(session, name)
                self._user_ids[name] = user.id
            rows = [
                {
                    "course_id": courses[e.course],
                    "user_id": self._user_ids[e.user],
                    "model": e.model[:255],
                    "messages": _redacted(e.messages),
                    "answer": redact(e.answer),
                    "streamed": e.streamed,
                    "created_at": e.at,
                }
                for e in batch
                if e.course in courses
            ]
            if rows:
                await session.execute(insert(cast(Table, AITranscript.__table__)), rows)

    # -- retention -----------------------------------------------------------------------------

    async def purge(self, now: datetime | None = None) -> int:
        """Delete transcripts older than the retention; return how many went."""
        cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=self.retention_days)
        async with self.db.session() as session:
            result = await session.execute(
                delete(AITranscript).where(AITranscript.created_at < cutoff)
            )
            gone = int(getattr(result, "rowcount", 0) or 0)
        if gone:
            log.info("Purged %d AI transcripts older than %d days", gone, self.retention_days)
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
                log.warning("AI transcript purge failed: %s", e)
            await asyncio.sleep(every_seconds)

    async def close(self) -> None:
        """Stop purging; write what is queued."""
        if self._purger is not None:
            self._purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purger
            self._purger = None
        await self.flush()

    # -- reading -------------------------------------------------------------------------------

    async def read(
        self,
        course_name: str,
        user: str,
        role: Role,
        student: str = "",
        limit: int = 500,
    ) -> dict[str, Any]:
        """Return the course's transcripts the caller may read, oldest first.

        Instructors (and admins) read every member's, or one ``student``'s; a student reads
        only their own.
        """
        if not 1 <= limit <= MAX_READ:
            raise ClassroomError(400, f"limit must be between 1 and {MAX_READ}")
        if student and not USER_NAME.match(student):
            raise ClassroomError(400, f"{student!r} is not a valid user name")
        await self.flush()
        async with self.db.session() as session:
            course = await self.assignments.course(session, course_name)
            member = await self.assignments.role_in(session, course, user, role)
            if member != "instructor":
                if student and student != user:
                    raise ClassroomError(403, "Students read only their own AI conversations")
                student = user
            query = (
                select(AITranscript, User.name)
                .join(User, User.id == AITranscript.user_id)
                .where(AITranscript.course_id == course.id)
                .order_by(AITranscript.created_at, AITranscript.id)
                .limit(limit)
            )
            if student:
                query = query.where(User.name == student)
            rows = (await session.execute(query)).all()
            if student != user:
                record(
                    session,
                    "ai_transcripts_read",
                    user,
                    course=course.name,
                    student=student or None,
                    count=len(rows),
                )
        return {
            "course": course.name,
            "student": student or None,
            "retention_days": self.retention_days,
            "transcripts": [
                {
                    "id": row.id,
                    "time": iso(row.created_at),
                    "student": name,
                    "course": course.name,
                    "model": row.model,
                    "streamed": row.streamed,
                    "messages": row.messages,
                    "answer": row.answer,
                }
                for row, name in rows
            ],
        }


def as_csv(items: list[dict[str, Any]]) -> str:
    """Return transcripts as CSV: one row per exchange, the messages as JSON text."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for item in items:
        writer.writerow(
            {
                "time": item["time"],
                "student": _safe_cell(item["student"]),
                "course": item["course"],
                "model": _safe_cell(item["model"]),
                "streamed": "yes" if item["streamed"] else "no",
                "messages": _safe_cell(json.dumps(item["messages"], ensure_ascii=False)),
                "answer": _safe_cell(item["answer"]),
            }
        )
    return out.getvalue()


def as_jsonl(items: list[dict[str, Any]]) -> str:
    """Return transcripts as JSON Lines: one exchange per line."""
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
