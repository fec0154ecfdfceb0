"""Contents: the file store behind /api/contents."""

from .local import IDEContentsManager

__all__ = ["IDEContentsManager"]
