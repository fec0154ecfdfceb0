"""Blobs as files in a local folder: the embedded default."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

from .base import (
    BlobMissingError,
    BlobStore,
    BlobStoreError,
    StoreReport,
    check_blob_key,
    is_blob_key,
)

_SMALL = 1024 * 1024


class LocalBlobStore(BlobStore):
    """``<root>/<aa>/<sha256>``: written to a temporary name, then renamed into place."""

    def __init__(self, root: Path) -> None:
        """Keep blobs under ``root``."""
        self.root = root

    def describe(self) -> str:
        """Return the folder."""
        return self.root.as_uri()

    def _path(self, key: str) -> Path:
        """Return the file of blob ``key``; every method gets its path here, key checked."""
        key = check_blob_key(key)
        return self.root / key[:2] / key

    def _write(self, key: str, data: bytes | None, source: Path | None) -> None:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        temp = final.parent / f".tmp-{uuid.uuid4().hex}"
        try:
            if source is not None:
                shutil.copyfile(source, temp)
            else:
                temp.write_bytes(data or b"")
            os.replace(temp, final)
        except OSError as e:
            temp.unlink(missing_ok=True)
            raise BlobStoreError(f"could not write to {self.root}: {e.strerror or e}") from e

    async def put(self, key: str, data: bytes) -> None:
        """Write the blob atomically."""
        if len(data) <= _SMALL:
            self._write(key, data, None)
        else:
            await asyncio.to_thread(self._write, key, data, None)

    async def put_file(self, key: str, path: Path, size: int) -> None:
        """Copy a file into the store atomically."""
        await asyncio.to_thread(self._write, key, None, path)

    def _read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobMissingError(f"blob {key} is missing from {self.root}") from None
        except OSError as e:
            raise BlobStoreError(f"could not read from {self.root}: {e.strerror or e}") from e

    async def get(self, key: str) -> bytes:
        """Read the blob."""
        path = self._path(key)
        try:
            small = path.stat().st_size <= _SMALL
        except FileNotFoundError:
            raise BlobMissingError(f"blob {key} is missing from {self.root}") from None
        return self._read(key) if small else await asyncio.to_thread(self._read, key)

    async def exists(self, key: str) -> bool:
        """Check the file is there."""
        return self._path(key).is_file()

    async def delete(self, key: str) -> None:
        """Remove the file."""
        self._path(key).unlink(missing_ok=True)

    async def keys(self) -> AsyncIterator[tuple[str, datetime]]:
        """Walk the two-level folder."""
        if not self.root.is_dir():
            return
        for shard in sorted(self.root.iterdir()):
            if not shard.is_dir() or len(shard.name) != 2:
                continue
            for blob in shard.iterdir():
                if not is_blob_key(blob.name) or blob.name[:2] != shard.name:
                    continue  # temporary files, or anything that is not a blob
                mtime = datetime.fromtimestamp(blob.stat().st_mtime, tz=timezone.utc)
                yield blob.name, mtime

    async def check(self) -> StoreReport:
        """Create the folder if needed and write, read and remove a probe file."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            return StoreReport(False, False, problem=f"cannot create {self.root}: {e.strerror}")
        probe = self.root / f".probe-{uuid.uuid4().hex}"
        try:
            probe.write_bytes(b"probe")
            probe.read_bytes()
            probe.unlink()
        except OSError as e:
            return StoreReport(True, False, problem=f"{self.root} is not writable: {e.strerror}")
        usage = shutil.disk_usage(self.root)
        return StoreReport(True, True, {"free": f"{usage.free // 2**20} MiB"})
