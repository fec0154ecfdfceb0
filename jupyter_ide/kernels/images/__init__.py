"""The sandbox images: one Dockerfile per language on a shared base, and their builder."""

from __future__ import annotations

from ..image_names import IMAGE_REPOSITORY, image_for
from .builder import BASE, LANGUAGES, BuildResult, ImageBuildError, build

__all__ = [
    "BASE",
    "IMAGE_REPOSITORY",
    "LANGUAGES",
    "BuildResult",
    "ImageBuildError",
    "build",
    "image_for",
]
