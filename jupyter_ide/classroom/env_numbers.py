"""Numbers for classroom settings from the environment, checked as the settings' own checks."""

from __future__ import annotations

import os

from traitlets import TraitError


def positive_env(name: str, fallback: float) -> float:
    """Return a number above 0 from the environment, or ``fallback`` when unset."""
    text = os.environ.get(name, "").strip()
    if not text:
        return fallback
    try:
        value = float(text)
    except ValueError as e:
        raise TraitError(f"{name}={text!r} is not a number") from e
    # Traitlets do not pass a @default's value through @validate, so it is checked here.
    if value <= 0:
        raise TraitError(f"{name} must be above 0")
    return value
