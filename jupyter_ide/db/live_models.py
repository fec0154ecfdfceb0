"""Models of the live view: a course's live-view options (pair editing)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, utcnow


class LiveCourseSettings(Base):
    """A course's live-view options; no row means the defaults (view only, no pair editing)."""

    __tablename__ = "live_course_settings"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    pair_editing: Mapped[bool] = mapped_column(default=False)
    updated_by: Mapped[str] = mapped_column(String(255), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LivePair(Base):
    """One side of a named pair: ``user_id`` may edit ``partner_id``'s files live in the course.

    A pair is two rows (one per student), so a student has at most one partner in a course.
    """

    __tablename__ = "live_pairs"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
