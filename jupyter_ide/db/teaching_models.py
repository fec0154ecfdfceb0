"""Models of live teaching: help queue, activity timeline, AI transcripts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, utcnow


class HelpRequest(Base):
    """A student's raised hand in a course: a message and a link to a file and line.

    ``open_slot`` is True while the request waits and NULL once it is closed, so the unique
    constraint allows one open request per student per course and any number of closed ones.
    """

    __tablename__ = "help_requests"
    __table_args__ = (
        UniqueConstraint("course_id", "user_id", "open_slot"),
        Index("ix_help_requests_course_status", "course_id", "status", "raised_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(String(1024), default="")  # "" when none is linked
    line: Mapped[int | None]
    # open -> resolved | returned (by an instructor) | withdrawn (by the student)
    status: Mapped[str] = mapped_column(String(16), default="open")
    open_slot: Mapped[bool | None] = mapped_column(default=True)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)  # the place in the queue
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)  # the instructor's note on resolve/return


class AITranscript(Base):
    """One AI exchange made in a course: the request's messages and the answer's text."""

    __tablename__ = "ai_transcripts"
    __table_args__ = (
        Index("ix_ai_transcripts_course_created", "course_id", "created_at"),
        Index("ix_ai_transcripts_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(255))
    messages: Mapped[list[Any]] = mapped_column(JSON, default=list)  # as the student sent them
    answer: Mapped[str] = mapped_column(Text, default="")
    streamed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
