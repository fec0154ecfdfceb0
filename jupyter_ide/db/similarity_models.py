"""Models of similarity checks: runs over an assignment's submissions and their pairs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, utcnow

RUNNING = "running"
ONE_RUNNING = text("status = 'running'")


class SimilarityRun(Base):
    """One similarity check of an assignment: its progress while running, then its summary."""

    __tablename__ = "similarity_runs"
    __table_args__ = (
        # At most one running check per assignment, whichever server started it.
        Index(
            "ix_similarity_runs_one_running",
            "assignment_id",
            unique=True,
            postgresql_where=ONE_RUNNING,
            sqlite_where=ONE_RUNNING,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), index=True
    )
    started_by: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=RUNNING)  # running | done | error
    phase: Mapped[str] = mapped_column(String(32), default="reading")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    submissions: Mapped[int] = mapped_column(default=0)
    pairs: Mapped[int] = mapped_column(default=0)  # pairs compared (all of them, not only kept)
    # {noise, guarantee}; {path: content hash} of the starter code excluded;
    # [{student, path, reason}] of files left out.
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    starter: Mapped[dict[str, Any]] = mapped_column(default=dict)
    skipped: Mapped[list[Any]] = mapped_column(JSON, default=list)


class SimilarityPair(Base):
    """Two students' latest submissions as one run ranked them."""

    __tablename__ = "similarity_pairs"
    __table_args__ = (Index("ix_similarity_pairs_run_id_rank", "run_id", "rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("similarity_runs.id", ondelete="CASCADE"))
    rank: Mapped[int]
    submission_a: Mapped[int] = mapped_column(
        ForeignKey("assignment_submissions.id", ondelete="CASCADE")
    )
    submission_b: Mapped[int] = mapped_column(
        ForeignKey("assignment_submissions.id", ondelete="CASCADE")
    )
    student_a: Mapped[str] = mapped_column(String(255))
    student_b: Mapped[str] = mapped_column(String(255))
    score: Mapped[float] = mapped_column(Float)  # the mean of the two sides' similarity
    similarity_a: Mapped[float] = mapped_column(Float)  # share of a's code found in b
    similarity_b: Mapped[float] = mapped_column(Float)
    matched_a: Mapped[int] = mapped_column(default=0)  # matched tokens, each side
    matched_b: Mapped[int] = mapped_column(default=0)
