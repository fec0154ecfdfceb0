"""The student copy: solution markers and cells stripped, test cells sorted by visibility."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from jupyter_ide.classroom.release import ReleaseError, prepare_file, strip_solutions
from jupyter_ide.classroom.scoring import late_days, score, shown

from .test_classroom_api import HW1, cell, graded_cell, notebook


def test_code_markers_become_stubs_at_their_indent() -> None:
    """C keeps a // stub; Python a # stub and a raise, so the function still parses."""
    c = b"int f(void) {\n    // BEGIN SOLUTION\n    return 42;\n    // END SOLUTION\n}\n"
    assert prepare_file(c, "f.c").student == b"int f(void) {\n    // YOUR CODE HERE\n}\n"
    py = b"def f():\n    # BEGIN SOLUTION\n    return 42\n    # END SOLUTION\n"
    student = prepare_file(py, "f.py").student
    assert student == b"def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    compile(student or b"", "f.py", "exec")  # parses
    binary = bytes(range(256))
    assert prepare_file(binary, "data.bin").student == binary


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("# BEGIN SOLUTION\nx\n", "never closed"),
        ("# END SOLUTION\n", "without BEGIN"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "inside another"),
    ],
)
def test_unbalanced_markers_are_refused(text: str, why: str) -> None:
    """A marker out of place is a clear error naming the file and line."""
    with pytest.raises(ReleaseError, match=why):
        strip_solutions(text, "#", "a.py")


def test_notebook_copy_keeps_visible_tests_only() -> None:
    """Solution cells become stubs, outputs go, non-visible test cells leave the copy but
    every test cell is in the spec, with its source."""
    prepared = prepare_file(HW1, "hw1.ipynb")
    student = json.loads(prepared.student or b"")
    sources = ["".join(c["source"]) for c in student["cells"]]
    assert sources[1] == "# YOUR CODE HERE\n"
    assert "raise NotImplementedError()" in sources[2] and "a * b" not in sources[2]
    assert [t.name for t in prepared.tests] == [
        "add works",
        "SECRET_mul_hidden",
        "after due",
        "after published",
    ]
    assert len(student["cells"]) == 4 and all(c.get("id") for c in student["cells"])
    assert prepared.tests[1].source.startswith("assert mul(2, 3)")
    assert {t.program for t in prepared.tests} == {"hw1.ipynb"}


def test_notebook_test_cells_are_checked() -> None:
    """Duplicate names, bad points or visibility are refused."""
    twice = notebook([graded_cell("a", 1, "visible", ""), graded_cell("a", 1, "visible", "")])
    with pytest.raises(ReleaseError, match="unique"):
        prepare_file(twice, "n.ipynb")
    with pytest.raises(ReleaseError, match="points"):
        prepare_file(notebook([graded_cell("a", -1, "visible", "")]), "n.ipynb")
    with pytest.raises(ReleaseError, match="visibility"):
        prepare_file(notebook([graded_cell("a", 1, "secret", "")]), "n.ipynb")
    with pytest.raises(ReleaseError, match="readable"):
        prepare_file(b"\xff", "n.ipynb")
    plain = prepare_file(notebook([cell("code", "x = 1\n")]), "n.ipynb")
    assert plain.tests == ()


def test_scores_lateness_and_visibility() -> None:
    """Started days count; the cut-off zeroes; manual points override tests, add rubric."""
    due = datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert late_days(due, due) == 0
    assert late_days(due + timedelta(seconds=1), due) == 1
    assert late_days(due + timedelta(days=2, hours=1), due) == 3
    results = [
        {"name": "t1", "score": 0.0, "max_score": 2.0},
        {"name": "t2", "score": 3.0, "max_score": 3.0},
    ]
    rubric = [{"name": "style", "points": 5.0}]
    on_time = score(results, {"t1": 1, "style": 4}, rubric, due, due, 10, None)
    assert (on_time.score, on_time.max_score) == (8.0, 10.0)
    late = score(results, {}, rubric, due + timedelta(days=2), due, 10, 72)
    assert (late.late_days, late.penalty_percent, late.score) == (2, 20.0, 2.4)
    cut = score(results, {}, rubric, due + timedelta(days=4), due, 10, 72)
    assert cut.score == 0 and cut.penalty_percent == 100
    before, after = due - timedelta(hours=1), due + timedelta(hours=1)
    assert shown("visible", before, due, False) and not shown("hidden", after, due, True)
    assert not shown("after_due_date", before, due, False) and shown(
        "after_due_date", after, due, False
    )
    assert not shown("after_published", after, due, False) and shown(
        "after_published", before, due, True
    )


def test_grading_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """JUPYTER_IDE_GRADING_WORKERS and _STALE_GRADING_SECONDS set the defaults; nonsense is
    refused with the variable's name."""
    from traitlets import TraitError

    from jupyter_ide.classroom.setup import ClassroomSettings

    assert ClassroomSettings().grading_workers == 4
    monkeypatch.setenv("JUPYTER_IDE_GRADING_WORKERS", "8")
    monkeypatch.setenv("JUPYTER_IDE_STALE_GRADING_SECONDS", "60")
    settings = ClassroomSettings()
    assert (settings.grading_workers, settings.stale_grading_seconds) == (8, 60.0)
    monkeypatch.setenv("JUPYTER_IDE_GRADING_WORKERS", "lots")
    with pytest.raises(TraitError, match="JUPYTER_IDE_GRADING_WORKERS"):
        _ = ClassroomSettings().grading_workers
    with pytest.raises(TraitError, match="above 0"):
        ClassroomSettings(stale_grading_seconds=0)
