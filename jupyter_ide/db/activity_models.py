"""Models of the activity timeline and the lab dashboard: events and presence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, utcnow


class ActivityEvent(Base):
    """One thing a user did to a file: an edit burst, a save, a paste or a run.

    An edit row stands for a burst: it is extended (``ended_at``, ``count``) while edits of
    the same file keep coming. Submissions and AI requests are read from their own tables.
    """

    __tablename__ = "activity_events"
    __table_args__ = (
        Index("ix_activity_events_user_path", "user_id", "path", "started_at"),
        Index("ix_activity_events_course_started", "course_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The course it happened in, where known (None: none named, or not a member).
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(1024), default="")
    kind: Mapped[str] = mapped_column(String(16))  # edit | save | paste | run
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime] = mapped_column(default=utcnow)
    count: Mapped[int] = mapped_column(default=1)  # edits in the burst (1 for the others)
    size: Mapped[int] = mapped_column(default=0)  # characters typed / pasted, bytes saved
    text_hash: Mapped[str] = mapped_column(String(64), default="")  # pasted text / saved blob
    source: Mapped[str | None] = mapped_column(String(1024))  # the file a paste came from
    ref: Mapped[str | None] = mapped_column(String(64), index=True)  # a run's judge token
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Presence(Base):
    """Where a user was last seen in a course's /ide: the file open and when."""

    __tablename__ = "activity_presence"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(1024), default="")
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
