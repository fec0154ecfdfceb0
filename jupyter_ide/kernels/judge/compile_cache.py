"""Compiled artefacts of identical sources, flags and image, reused by content hash.

An entry is the build folder after a successful compile (sources, binary, classes), stored
under ``<root>/<hash[:2]>/<hash>/`` and hard-linked read-only into the run box's slot. Only
successful compiles are kept; run results are never cached.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import shutil
import tarfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

MARKER = ".judge-used"


def cache_key(image_id: str, language: str, argv: Iterable[str], files: dict[str, bytes]) -> str:
    """Hash everything that decides the compiler's output."""
    digest = hashlib.sha256()
    for part in (image_id, language, "\0".join(argv)):
        digest.update(part.encode("utf-8", errors="surrogateescape") + b"\n")
    for name in sorted(files):
        digest.update(name.encode("utf-8", errors="surrogateescape") + b"\0")
        digest.update(hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


class CompileCache:
    """A folder of compiled artefacts with a size cap (least recently used go first)."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        """Use ``root`` (made on demand); keep at most ``max_bytes``."""
        self.root = root
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self._inflight: dict[str, asyncio.Future[Path | None]] = {}

    def _entry(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str) -> Path | None:
        """Return the artefact folder of ``key``, or None."""
        entry = self._entry(key)
        if not entry.is_dir():
            return None
        try:
            os.utime(entry / MARKER)
        except OSError:
            return None
        return entry

    def put_tar(self, key: str, tar_bytes: bytes) -> Path:
        """Store a build folder received as a tar stream; return its folder."""
        entry = self._entry(key)
        staging = self.root / f".staging-{uuid.uuid4().hex[:12]}"
        staging.mkdir(parents=True, mode=0o755)
        try:
            with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as archive:
                archive.extractall(staging, filter="data")
            for root, dirs, names in os.walk(staging):
                for name in dirs:
                    (Path(root) / name).chmod(0o755)
                for name in names:
                    path = Path(root) / name
                    if not path.is_symlink():
                        path.chmod(0o755 if path.stat().st_mode & 0o100 else 0o644)
            (staging / MARKER).touch()
            entry.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(staging, entry)
            except OSError:
                if not entry.is_dir():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self.evict()
        return entry

    def inflight(self, key: str) -> asyncio.Future[Path | None] | None:
        """Return the pending compile of the same key, if one runs."""
        return self._inflight.get(key)

    def begin(self, key: str) -> asyncio.Future[Path | None]:
        """Note that a compile of ``key`` runs; others wait for its result."""
        future: asyncio.Future[Path | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        return future

    def end(self, key: str, entry: Path | None) -> None:
        """Publish the compile's result to those waiting."""
        future = self._inflight.pop(key, None)
        if future is not None and not future.done():
            future.set_result(entry)

    def evict(self) -> None:
        """Remove least recently used entries while the cache is over its size."""
        entries: list[tuple[float, int, Path]] = []
        total = 0
        if not self.root.is_dir():
            return
        for bucket in self.root.iterdir():
            if not bucket.is_dir() or bucket.name.startswith("."):
                continue
            for entry in bucket.iterdir():
                size = sum(
                    p.stat().st_size for p in entry.rglob("*") if p.is_file() and not p.is_symlink()
                )
                try:
                    used = (entry / MARKER).stat().st_mtime
                except OSError:
                    used = 0.0
                entries.append((used, size, entry))
                total += size
        entries.sort()
        now = time.time()
        for used, size, entry in entries:
            if total <= self.max_bytes:
                break
            if now - used < 1.0:
                continue  # just made or used: a run may be linking it
            shutil.rmtree(entry, ignore_errors=True)
            total -= size
