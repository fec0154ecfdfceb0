"""What an assignment's tests are and what grading returns: the API's seam with the grader."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

Visibility = Literal["visible", "hidden", "after_due_date", "after_published"]
VISIBILITIES: tuple[Visibility, ...] = ("visible", "hidden", "after_due_date", "after_published")
TestKind = Literal["stdin", "file", "notebook"]
Status = Literal["passed", "failed"]


@dataclass(frozen=True)
class TestLimits:
    """A test's own sandbox limits."""

    cpu_seconds: float = 5.0
    memory_kb: int = 262144


@dataclass(frozen=True)
class TestCase:
    """One graded test of an assignment.

    ``stdin``: ``program`` (a path in the submission) is run with ``stdin`` and its output
    compared with ``expected_output`` (trailing whitespace of each line ignored, as Judge0).
    ``file``: the instructor's ``path`` (a test file never released) is run beside the
    submission by the language's runner (pytest for Python) or by ``command``.
    ``notebook``: the instructor's test cell named ``name`` in notebook ``program`` is run after
    the student's cells of that notebook; it passes when it raises nothing.
    """

    name: str
    kind: TestKind
    points: float
    visibility: Visibility = "visible"
    limits: TestLimits = field(default_factory=TestLimits)
    program: str = ""
    stdin: str = ""
    expected_output: str = ""
    path: str = ""
    command: tuple[str, ...] = ()
    source: str = ""  # a notebook test cell's code, from the instructor's copy


@dataclass(frozen=True)
class GradingSpec:
    """How a submission is graded: its language (one of the eight) and its tests in order."""

    language: str
    tests: tuple[TestCase, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the spec as JSON-ready data."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GradingSpec:
        """Rebuild a spec from :meth:`to_json`'s data."""
        tests = []
        for test in data["tests"]:
            values = dict(test)
            values["limits"] = TestLimits(**values.get("limits", {}))
            values["command"] = tuple(values.get("command", ()))
            tests.append(TestCase(**values))
        return cls(language=data["language"], tests=tuple(tests))


@dataclass(frozen=True)
class TestResult:
    """One test's outcome (Gradescope's fields; ``visibility`` copied from the test)."""

    name: str
    score: float
    max_score: float
    status: Status
    output: str
    visibility: Visibility
    cpu_seconds: float | None = None
    memory_kb: int | None = None


@dataclass(frozen=True)
class GradeReport:
    """Every test's result for one submission, in the spec's order."""

    results: tuple[TestResult, ...]

    @property
    def score(self) -> float:
        """Return the points earned."""
        return sum(result.score for result in self.results)

    @property
    def max_score(self) -> float:
        """Return the points possible."""
        return sum(result.max_score for result in self.results)


class Grader(Protocol):
    """Grades one submission in the judge's sandboxes (one fresh box per submission)."""

    async def grade(
        self,
        spec: GradingSpec,
        submission: dict[str, bytes],
        instructor_files: dict[str, bytes],
        owner: str,
    ) -> GradeReport:
        """Run every test of ``spec`` on ``submission`` (path -> bytes) for user ``owner``.

        ``instructor_files`` holds the test files and the instructor's notebooks (never
        released). A test that cannot run (missing file, compile error, mangled notebook)
        fails with a message in its output; the other tests are still graded.
        """
        ...
