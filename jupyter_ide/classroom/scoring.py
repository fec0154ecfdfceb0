"""Lateness, scores with manual overrides, and what a student may see of a result."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

DAY = 86400.0


@dataclass(frozen=True)
class Score:
    """A submission's score under the deadline in force for its student."""

    late_days: int
    penalty_percent: float
    score: float
    max_score: float


def late_days(submitted: datetime, deadline: datetime | None) -> int:
    """Return the days (started) past the deadline; 0 when on time or without a deadline."""
    if deadline is None or submitted <= deadline:
        return 0
    return math.ceil((submitted - deadline).total_seconds() / DAY)


def past_cutoff(submitted: datetime, deadline: datetime | None, cutoff_hours: float | None) -> bool:
    """Return True when the submission came after the deadline plus the cut-off."""
    if deadline is None or cutoff_hours is None:
        return False
    return submitted > deadline + timedelta(hours=cutoff_hours)


def score(
    results: list[dict[str, Any]],
    manual: dict[str, float],
    rubric: list[dict[str, Any]],
    submitted: datetime,
    deadline: datetime | None,
    penalty_per_day: float,
    cutoff_hours: float | None,
) -> Score:
    """Sum tests (manual points override a test's) and rubric items, then apply lateness."""
    raw = sum(float(manual.get(r["name"], r["score"])) for r in results)
    raw += sum(float(manual.get(item["name"], 0.0)) for item in rubric)
    possible = sum(float(r["max_score"]) for r in results)
    possible += sum(float(item["points"]) for item in rubric)
    days = late_days(submitted, deadline)
    penalty = 100.0 if past_cutoff(submitted, deadline, cutoff_hours) else 0.0
    penalty = max(penalty, min(100.0, days * penalty_per_day))
    return Score(days, penalty, round(raw * (1 - penalty / 100.0), 4), possible)


def shown(visibility: str, now: datetime, deadline: datetime | None, published: bool) -> bool:
    """Return True when a student may see a result of this visibility now."""
    if visibility == "visible":
        return True
    if visibility == "after_due_date":
        return deadline is None or now > deadline
    if visibility == "after_published":
        return published
    return False  # hidden, or anything unknown: never
