"""The names of the sandbox images: jupyter-ide/<language>:<package version>."""

from __future__ import annotations

from .._version import __version__

IMAGE_REPOSITORY = "jupyter-ide"


def image_for(language: str) -> str:
    """Return the image tag a language's kernels and judge runs use."""
    return f"{IMAGE_REPOSITORY}/{language}:{__version__}"
