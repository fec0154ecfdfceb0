"""Compiled artefacts of identical sources, flags and image, reused by content hash.

An entry is the build folder after a successful compile (sources, binary, classes), stored
under ``<root>/<hash[:2]>/<hash>/`` and hard-linked read-only into the run box's slot. Only
successful compiles are kept; run results are never cached.

A job holds a **lease** on the entry it uses, from the compile (or the cache hit) until its last
run: a shared ``flock`` on the entry's marker file. Eviction takes the lock exclusively without
waiting, so an entry in use — by this server or another one sharing the folder — is never
removed; it goes at a later eviction once nobody holds it. The cap is therefore soft by the
size of the entries in use. A build made with the cache off never enters the cache: it is
unpacked into the job's own folder (``Build.private``) and removed when the job ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import io
import os
import shutil
import stat
import tarfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

MARKER = ".judge-used"
STAGING_MAX_AGE = 3600.0  # seconds; a store takes well under one
# Under the cap, a store adds its size to a running total instead of measuring the whole
# folder; the folder is measured again past the cap, and every RESCAN_EVERY stores (other
# servers sharing the folder add entries this process does not count).
RESCAN_EVERY = 64


def cache_key(image_id: str, language: str, argv: Iterable[str], files: dict[str, bytes]) -> str:
    """Hash everything that decides the compiler's output."""
    digest = hashlib.sha256()
    for part in (image_id, language, "\0".join(argv)):
        digest.update(part.encode("utf-8", errors="surrogateescape") + b"\n")
    for name in sorted(files):
        digest.update(name.encode("utf-8", errors="surrogateescape") + b"\0")
        digest.update(hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def unpack_build(tar_bytes: bytes, folder: Path) -> None:
    """Unpack a build folder's tar into ``folder`` (made here), readable by the sandbox user."""
    folder.mkdir(parents=True, mode=0o755)
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as archive:
        _extract(archive, folder)
    for root, dirs, names in os.walk(folder):
        for name in dirs:
            (Path(root) / name).chmod(0o755)
        for name in names:
            path = Path(root) / name
            if not path.is_symlink():
                path.chmod(0o755 if path.stat().st_mode & 0o100 else 0o644)


def _extract(archive: tarfile.TarFile, folder: Path) -> None:
    """Extract the sandbox's (untrusted) tar safely: nothing outside ``folder``, no owners."""
    if hasattr(tarfile, "data_filter"):
        archive.extractall(folder, filter="data")
        return
    # Pythons without extraction filters (before 3.10.12 and 3.11.4, e.g. Debian 12's 3.11.2):
    # only plain files and folders with relative names, without the tar's owners.
    for member in archive.getmembers():
        name = PurePosixPath(member.name)
        if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
            continue
        archive.extract(member, folder, set_attrs=False)
        if member.isfile():  # only whether it is executable is kept
            (folder / name).chmod(0o755 if member.mode & 0o111 else 0o644)


class Build:
    """A compiled program a job uses: a leased cache entry or the job's own folder."""

    def __init__(self, path: Path, lock_fd: int | None) -> None:
        """Hold ``path`` (leased through ``lock_fd``; None: a private folder to delete)."""
        self.path = path
        self._fd = lock_fd
        self._released = False

    @classmethod
    def private(cls, jobs_root: Path, tar_bytes: bytes) -> Build:
        """Unpack an uncached build into a fresh folder of the job's own (blocking)."""
        folder = jobs_root / uuid.uuid4().hex
        try:
            unpack_build(tar_bytes, folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return cls(folder, None)

    @property
    def cached(self) -> bool:
        """Whether this is a cache entry (else the job's own folder)."""
        return self._fd is not None

    def release(self) -> None:
        """Give up the lease (a cache entry) or delete the folder (a private build)."""
        if self._released:
            return
        self._released = True
        if self._fd is not None:
            os.close(self._fd)
        else:
            shutil.rmtree(self.path, ignore_errors=True)


class CompileCache:
    """A folder of compiled artefacts with a size cap; least recently used unleased go first."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        """Use ``root`` (made on demand); keep at most ``max_bytes`` of unleased entries."""
        self.root = root
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self.scans = 0  # full measurements of the folder (evict)
        self._inflight: dict[str, asyncio.Future[bool]] = {}
        self._total: int | None = None  # bytes in the folder as last measured, plus stores
        self._stores = 0

    def _entry(self, key: str) -> Path:
        return self.root / key[:2] / key

    def lease(self, key: str) -> Build | None:
        """Return the entry of ``key`` with a lease held on it, or None when absent."""
        entry = self._entry(key)
        try:
            fd = os.open(entry / MARKER, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            if _same_file(fd, entry / MARKER):
                os.utime(entry / MARKER)
                return Build(entry, fd)
        except OSError:
            pass  # being evicted right now, or just gone
        os.close(fd)
        return None

    def put_tar(self, key: str, tar_bytes: bytes) -> Build:
        """Store a build folder received as a tar stream; return it leased (blocking)."""
        for _ in range(3):
            build = self._store(key, tar_bytes)
            if build is not None:
                self._stored(build.path)
                return build
            # The same key's entry of another job was being evicted just then; it is gone now.
        raise OSError(f"the compile cache could not store the build {key[:12]}")

    def _store(self, key: str, tar_bytes: bytes) -> Build | None:
        """Put the build in place (or find the same key's) and lease it; None if it vanished."""
        entry = self._entry(key)
        staging = self.root / f".staging-{uuid.uuid4().hex[:12]}"
        fd: int | None = None
        try:
            unpack_build(tar_bytes, staging)
            (staging / MARKER).touch()
            # Leased before it is visible, so no eviction can take it from us.
            fd = os.open(staging / MARKER, os.O_RDONLY | os.O_CLOEXEC)
            fcntl.flock(fd, fcntl.LOCK_SH)
            entry.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(staging, entry)
            except OSError:
                return self.lease(key)  # another job stored the same key first: use theirs
            build, fd = Build(entry, fd), None
            return build
        finally:
            if fd is not None:
                os.close(fd)
            shutil.rmtree(staging, ignore_errors=True)

    def _stored(self, entry: Path) -> None:
        """Count a stored entry; evict when the cache may be over its size (blocking)."""
        self._stores += 1
        if self._total is not None:
            self._total += _size(entry)
        if self._total is None or self._total > self.max_bytes or self._stores % RESCAN_EVERY == 0:
            self.evict()

    def sweep(self) -> None:
        """Remove what an interrupted store or eviction left (never a finished entry)."""
        if not self.root.is_dir():
            return
        for leftover in self.root.glob(".trash-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in self.root.glob(".staging-*"):
            with contextlib.suppress(OSError):
                if time.time() - leftover.stat().st_mtime > STAGING_MAX_AGE:
                    shutil.rmtree(leftover, ignore_errors=True)

    def inflight(self, key: str) -> asyncio.Future[bool] | None:
        """Return the pending compile of the same key, if one runs."""
        return self._inflight.get(key)

    def begin(self, key: str) -> None:
        """Note that a compile of ``key`` runs; others wait for it, then lease its entry."""
        self._inflight[key] = asyncio.get_running_loop().create_future()

    def end(self, key: str, stored: bool) -> None:
        """Tell those waiting that the compile of ``key`` is over (stored or not)."""
        future = self._inflight.pop(key, None)
        if future is not None and not future.done():
            future.set_result(stored)

    def evict(self) -> None:
        """Remove least recently used entries nobody leases while the cache is over its size."""
        if not self.root.is_dir():
            return
        self.scans += 1
        entries: list[tuple[float, int, Path]] = []
        total = 0
        for bucket in self.root.iterdir():
            if not bucket.is_dir() or bucket.name.startswith("."):
                continue
            for entry in bucket.iterdir():
                size = _size(entry)
                try:
                    used = (entry / MARKER).stat().st_mtime
                except OSError:
                    used = 0.0
                entries.append((used, size, entry))
                total += size
        entries.sort()
        for _, size, entry in entries:
            if total <= self.max_bytes:
                break
            if self._remove_unleased(entry):
                total -= size
        self._total = total

    def _remove_unleased(self, entry: Path) -> bool:
        """Remove ``entry`` unless a job leases it; True when it is gone."""
        try:
            fd = os.open(entry / MARKER, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            fd = None  # not a finished entry (entries appear whole, marker inside)
        except OSError:
            return False
        try:
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return False  # in use
                if not _same_file(fd, entry / MARKER):
                    return False  # replaced meanwhile
            trash = self.root / f".trash-{uuid.uuid4().hex[:12]}"
            try:
                os.rename(entry, trash)  # gone for every reader at once
            except OSError:
                return False
            shutil.rmtree(trash, ignore_errors=True)
            return True
        finally:
            if fd is not None:
                os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (not moved away or replaced)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


def _size(entry: Path) -> int:
    """Bytes of the regular files under ``entry``."""
    total = 0
    for root, _, names in os.walk(entry):
        for name in names:
            with contextlib.suppress(OSError):
                info = os.lstat(os.path.join(root, name))
                if stat.S_ISREG(info.st_mode):
                    total += info.st_size
    return total
