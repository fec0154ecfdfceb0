"""Semantic versions (semver 2.0.0 ordering, pre-releases included) with python-semver."""

from __future__ import annotations

from collections.abc import Iterable

import semver

from .errors import MarketplaceError


def parse(text: str) -> semver.Version:
    """Return the version, or 400 when ``text`` is not semver."""
    try:
        return semver.Version.parse(text)
    except (TypeError, ValueError) as e:
        raise MarketplaceError(400, f"{text!r} is not a semantic version (like 1.2.3)") from e


def newest(versions: Iterable[str], *, prereleases: bool = False) -> str | None:
    """Return the highest version; pre-releases only when asked or when there is nothing else."""
    parsed = sorted((parse(v) for v in versions), reverse=True)
    if not parsed:
        return None
    if not prereleases:
        stable = [v for v in parsed if v.prerelease is None]
        if stable:
            return str(stable[0])
    return str(parsed[0])


def ordered(versions: Iterable[str]) -> list[str]:
    """Return the versions newest first, by semver precedence."""
    return [str(v) for v in sorted((parse(v) for v in versions), reverse=True)]
