"""Contents: files as content-addressed blobs (S3 or a folder) with a SQL index and history."""

from .manager import IDEContentsManager

__all__ = ["IDEContentsManager"]
