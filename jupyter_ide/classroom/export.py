"""Exports: Gradescope's results.json for a submission, the gradebook as CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

# Gradescope autograder results.json: top level and per test (their documented fields).
RESULTS_FIELDS = ("score", "max_score", "tests")
TEST_FIELDS = ("name", "score", "max_score", "status", "output", "visibility")


def results_json(
    results: list[dict[str, Any]],
    manual: dict[str, float],
    score: float | None,
    max_score: float | None,
) -> dict[str, Any]:
    """Return a submission's grade in Gradescope's results.json shape (manual points win)."""
    tests = []
    for result in results:
        points = float(manual.get(result["name"], result["score"]))
        tests.append(
            {
                "name": result["name"],
                "score": points,
                "max_score": float(result["max_score"]),
                "status": result["status"],
                "output": result.get("output", ""),
                "visibility": result["visibility"],
            }
        )
    total = sum(t["score"] for t in tests) if score is None else score
    possible = sum(t["max_score"] for t in tests) if max_score is None else max_score
    return {
        "score": float(total),
        "max_score": float(possible),
        "tests": tests,
    }


def gradebook_csv(assignments: list[str], rows: list[dict[str, Any]]) -> str:
    """Return the gradebook (one row per student, one column per assignment) as CSV."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["student", *assignments, "total"])
    for row in rows:
        scores = [row["scores"].get(name) for name in assignments]
        cells = ["" if s is None else f"{s:g}" for s in scores]
        total = sum(s for s in scores if s is not None)
        writer.writerow([_safe(row["student"]), *cells, f"{total:g}"])
    return out.getvalue()


def _safe(cell: str) -> str:
    """Keep a spreadsheet from reading a name as a formula."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
