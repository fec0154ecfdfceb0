"""Rebuild a checked request from a stored submission, for a worker in another process."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from .languages import JUDGE_LANGUAGES
from .request import Limits, SubmissionRequest
from .submission import Submission


class NotReplayable(ValueError):
    """The stored submission cannot be run (unknown language, limits missing)."""


_LIMIT_TYPES = {f.name: f.type for f in fields(Limits)}


def _limit(options: dict[str, Any], name: str) -> Any:
    value = options.get(name)
    kind = str(_LIMIT_TYPES[name])
    if value is None:
        if name == "enable_network":
            return False
        raise NotReplayable(f"the stored submission has no {name}")
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return int(value)
    return float(value)


def request_of(sub: Submission) -> SubmissionRequest:
    """Return the request a stored submission was accepted with (checked when it came in)."""
    language = JUDGE_LANGUAGES.get(sub.language_id)
    if language is None:
        raise NotReplayable(f"no language with id {sub.language_id}")
    options = sub.options
    limits = Limits(**{name: _limit(options, name) for name in _LIMIT_TYPES})
    texts = sub.texts
    return SubmissionRequest(
        language=language,
        source_code=texts.get("source_code") or b"",
        stdin=texts.get("stdin") or b"",
        expected_output=texts.get("expected_output"),
        compiler_options=str(options.get("compiler_options") or ""),
        command_line_arguments=str(options.get("command_line_arguments") or ""),
        additional_files=texts.get("additional_files"),
        limits=limits,
    )
