"""The blob store interface: immutable blobs named by the sha256 of their bytes."""

from __future__ import annotations

import abc
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


class BlobStoreError(Exception):
    """The blob store did not do what was asked (unreachable, refused, failed)."""


class BlobMissingError(BlobStoreError):
    """A blob the index names is not in the store."""


class BlobKeyError(BlobMissingError):
    """A key that is not a sha256 hex digest: no blob can have it, so nothing is looked up."""


_KEY = re.compile(r"[0-9a-f]{64}")


def is_blob_key(key: object) -> bool:
    """Return True when ``key`` is a blob key: a sha256 in 64 lowercase hex digits."""
    return isinstance(key, str) and _KEY.fullmatch(key) is not None


def check_blob_key(key: object) -> str:
    """Return ``key`` when it is a blob key; raise BlobKeyError before any I/O otherwise."""
    if isinstance(key, str) and _KEY.fullmatch(key):
        return key
    shown = repr(key)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    raise BlobKeyError(f"refused blob key {shown}: a blob key is a sha256, 64 lowercase hex digits")


@dataclass
class StoreReport:
    """What `jupyter ide doctor` learns about a store."""

    reachable: bool
    writable: bool
    details: dict[str, str] = field(default_factory=dict)
    problem: str = ""


class BlobStore(abc.ABC):
    """Content-addressed storage: ``put`` a blob under its hash, never change it.

    Every method that takes a key refuses anything but a sha256 hex digest (BlobKeyError)
    before it touches storage, so a key read from a tampered index can never name a path or
    an object outside the store; ``keys`` yields only such keys.
    """

    @abc.abstractmethod
    def describe(self) -> str:
        """Return where blobs go, without secrets."""

    @abc.abstractmethod
    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (its sha256)."""

    @abc.abstractmethod
    async def put_file(self, key: str, path: Path, size: int) -> None:
        """Store the file at ``path`` under ``key``, streaming it (no whole copy in memory)."""

    @abc.abstractmethod
    async def get(self, key: str) -> bytes:
        """Return the bytes of blob ``key``; BlobMissingError when absent."""

    @abc.abstractmethod
    async def exists(self, key: str) -> bool:
        """Return True when blob ``key`` is stored."""

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Remove blob ``key`` (absent is fine)."""

    @abc.abstractmethod
    def keys(self) -> AsyncIterator[tuple[str, datetime]]:
        """Yield every stored blob's key and when it was written."""

    @abc.abstractmethod
    async def check(self) -> StoreReport:
        """Probe the store: reachable, writable, and its settings worth reporting."""

    async def close(self) -> None:  # noqa: B027 - most stores hold nothing to release
        """Release connections."""
