"""The materialised workspace: a real folder mirroring the index, for kernels to use.

Code running in a kernel can change anything inside the folder at any moment, so every disk
operation here is relative to directory descriptors opened from the workspace root, one
component at a time with ``O_NOFOLLOW`` (a symlink or a file where a folder should be stops
the walk); files are opened with ``O_NONBLOCK`` and used only when ``fstat`` says they are
regular, and reads are bounded. Renames, unlinks and mkdirs name their folders by descriptor
too, so a folder swapped for a symlink after it was opened cannot redirect them.

The methods are plain blocking calls, safe to run in a worker thread; what the mirror knows
(``files``, ``dirs`` and their generation stamps) is guarded by a lock.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..kernels.profile import sandbox_owner

TEMP_PREFIX = ".~ide-"
CHUNK = 1024 * 1024

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# Errors that mean "this path does not lead to anything inside the workspace".
_GONE = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)


@dataclass(frozen=True)
class DiskState:
    """What a file on disk was when we last wrote or read it."""

    mtime_ns: int
    size: int
    content_hash: str

    def same_as(self, info: os.stat_result) -> bool:
        """Return True when ``info`` shows the file as we recorded it."""
        return self.mtime_ns == info.st_mtime_ns and self.size == info.st_size


@dataclass
class Snapshot:
    """A regular file read from the workspace: its stat before reading, bytes or a spool."""

    state: DiskState
    size: int
    data: bytes | None = None
    spool: Path | None = None
    too_big: bool = False

    def discard(self) -> None:
        """Remove the spool file, if any."""
        if self.spool is not None:
            self.spool.unlink(missing_ok=True)
            self.spool = None


class UnsafePathError(Exception):
    """A path on disk leads out of the workspace (a symlink planted by code)."""


def _parts(path: str) -> list[str]:
    """Split an API path into components, refusing any that could step out of a folder."""
    parts = path.split("/") if path else []
    for part in parts:
        if part in ("", ".", "..") or "\0" in part:
            raise UnsafePathError(f"{path!r} is not a plain relative path")
    return parts


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


class WorkspaceMirror:
    """Writes index changes to the folder and notices what code changed there."""

    def __init__(self, root: Path) -> None:
        """Mirror into ``root``; what we write belongs to the sandbox user, who edits it too."""
        self.root = root
        self.files: dict[str, DiskState] = {}
        self.dirs: set[str] = set()
        # Generation of the last change we made to each known path; a scan that started
        # before a path's stamp cannot tell whether that path is gone.
        self.stamps: dict[str, int] = {}
        self.generation = 0
        self.owner = sandbox_owner()
        self.lock = threading.RLock()
        # A seam for tests: called with the API path once its folder is open, right before
        # the file itself is opened, replaced, renamed or removed.
        self.before_use: Callable[[str], None] | None = None

    # -- descriptors ----------------------------------------------------------------------

    def _open_root(self) -> int:
        return os.open(self.root, _DIR_FLAGS)

    def _step(self, parent: int, name: str, create: bool) -> int:
        """Open the folder ``name`` inside ``parent`` (creating it when asked), never a link."""
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                raise
        try:
            os.mkdir(name, 0o755, dir_fd=parent)
        except FileExistsError:
            pass
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        if self.owner is not None:
            os.fchown(fd, *self.owner)
        return fd

    @contextlib.contextmanager
    def _folder(self, parts: list[str], path: str, create: bool = False) -> Iterator[int]:
        """Yield a descriptor of the folder ``parts`` below the root, walked without links."""
        fd = self._open_root()
        try:
            for part in parts:
                try:
                    nxt = self._step(fd, part, create)
                except OSError as e:
                    if e.errno in (errno.ENOTDIR, errno.ELOOP) and _is_link(fd, part):
                        raise UnsafePathError(f"{path} passes through a symbolic link") from e
                    raise
                os.close(fd)
                fd = nxt
            yield fd
        finally:
            _close(fd)

    def _before_use(self, path: str) -> None:
        if self.before_use is not None:
            self.before_use(path)

    def _own_at(self, folder: int, name: str) -> None:
        if self.owner is not None:
            os.chown(name, *self.owner, dir_fd=folder, follow_symlinks=False)

    # -- what we know ---------------------------------------------------------------------

    def _stamp(self, *paths: str) -> None:
        with self.lock:
            self.generation += 1
            for path in paths:
                self.stamps[path] = self.generation

    def record(self, path: str, state: DiskState) -> None:
        """Remember that ``path`` on disk is ``state``."""
        with self.lock:
            self.files[path] = state
            self._stamp(path)

    def known(self, path: str) -> DiskState | None:
        """Return what we last recorded for ``path``."""
        with self.lock:
            return self.files.get(path)

    def known_before(self, generation: int) -> tuple[dict[str, DiskState], set[str]]:
        """Files and folders we knew of, unchanged by us since ``generation``."""
        with self.lock:
            files = {p: s for p, s in self.files.items() if self.stamps.get(p, 0) <= generation}
            dirs = {d for d in self.dirs if self.stamps.get(d, 0) <= generation}
            return files, dirs

    def known_dirs(self) -> set[str]:
        """Every folder we know of."""
        with self.lock:
            return set(self.dirs)

    def add_dir(self, folder: str) -> None:
        """Remember a folder (and the ones above it)."""
        parts = folder.split("/")
        above = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        with self.lock:
            self.dirs.update(above)
            self._stamp(*above)

    def forget(self, path: str) -> None:
        """Drop what we know of ``path`` and everything below it."""
        below = path + "/"
        with self.lock:
            for known in [p for p in self.files if p == path or p.startswith(below)]:
                del self.files[known]
            self.dirs = {d for d in self.dirs if d != path and not d.startswith(below)}
            self._stamp()

    def forget_file(self, path: str) -> None:
        """Drop what we know of the file ``path`` only."""
        with self.lock:
            self.files.pop(path, None)
            self._stamp()

    def forget_dir(self, folder: str) -> None:
        """Drop the folder ``folder`` only (not what we know below it)."""
        with self.lock:
            self.dirs.discard(folder)
            self._stamp()

    def _move_known(self, old: str, new: str) -> None:
        prefix = old + "/"
        with self.lock:
            moved = []
            for known in [p for p in self.files if p == old or p.startswith(prefix)]:
                target = new + known[len(old) :]
                self.files[target] = self.files.pop(known)
                moved.append(target)
            dirs = set()
            for d in self.dirs:
                if d == old or d.startswith(prefix):
                    d = new + d[len(old) :]
                    moved.append(d)
                dirs.add(d)
            self.dirs = dirs
            self._stamp(*moved)

    # -- set-up ---------------------------------------------------------------------------

    def prepare_root(self) -> None:
        """Create the workspace folder, owned by the sandbox user."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = self._open_root()
        try:
            if self.owner is not None:
                os.fchown(fd, *self.owner)
        finally:
            os.close(fd)

    # -- looking --------------------------------------------------------------------------

    def lstat(self, path: str) -> os.stat_result | None:
        """Return the stat of ``path`` without following links; None when it is not there."""
        parts = _parts(path)
        try:
            with self._folder(parts[:-1], path) as folder:
                return os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)
        except UnsafePathError:
            return None
        except OSError as e:
            if e.errno in _GONE:
                return None
            raise

    def changed(self, path: str) -> os.stat_result | None:
        """Return the file's stat when it differs from what we recorded, else None."""
        try:
            info = self.lstat(path)
        except OSError:
            return None
        if info is None or not stat.S_ISREG(info.st_mode):
            return None
        known = self.known(path)
        if known is not None and known.same_as(info):
            return None
        return info

    def absent(self, path: str) -> bool:
        """Return True only when ``path`` certainly no longer exists inside the workspace."""
        try:
            parts = _parts(path)
            with self._folder(parts[:-1], path) as folder:
                os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)
        except UnsafePathError:
            return True
        except OSError as e:
            return e.errno in _GONE
        return False

    def is_dir(self, path: str) -> bool:
        """Return True when ``path`` is a real folder inside the workspace now."""
        info = self.lstat(path) if path else os.stat(self.root)
        return info is not None and stat.S_ISDIR(info.st_mode)

    # -- reading --------------------------------------------------------------------------

    def _open_file(self, path: str) -> int:
        """Open ``path`` to read, never following a link nor blocking (-1: not readable here)."""
        parts = _parts(path)
        try:
            with self._folder(parts[:-1], path) as folder:
                self._before_use(path)
                return os.open(parts[-1], _READ_FLAGS, dir_fd=folder)
        except UnsafePathError:
            return -1
        except OSError as e:
            if e.errno in (*_GONE, errno.ENXIO, errno.EACCES, errno.EPERM, errno.EISDIR):
                return -1
            raise

    @contextlib.contextmanager
    def _open_regular(self, path: str) -> Iterator[tuple[int, os.stat_result] | None]:
        """Yield (descriptor, stat) of the regular file ``path``, or None for anything else."""
        fd = self._open_file(path)
        if fd < 0:
            yield None
            return
        try:
            info = os.fstat(fd)
            yield (fd, info) if stat.S_ISREG(info.st_mode) else None
        finally:
            os.close(fd)

    def snapshot(self, path: str, limit: int, spool_dir: Path, in_memory: int) -> Snapshot | None:
        """Read the regular file ``path`` (at most ``limit`` bytes) and hash it.

        The stat taken on the open file before reading is what gets recorded, so a file
        that changes while it is read is read again at the next sync. Larger than
        ``in_memory``, the bytes go to a spool file in ``spool_dir``.
        """
        with self._open_regular(path) as opened:
            if opened is None:
                return None
            fd, before = opened
            digest = hashlib.sha256()
            chunks: list[bytes] = []
            spool: Path | None = None
            out = None
            total = 0
            try:
                while total <= limit:
                    chunk = os.read(fd, min(CHUNK, limit + 1 - total))
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > limit:
                        break
                    digest.update(chunk)
                    if out is None and total > in_memory:
                        spool_dir.mkdir(parents=True, exist_ok=True)
                        handle, name = tempfile.mkstemp(dir=spool_dir, suffix=".sync")
                        spool, out = Path(name), os.fdopen(handle, "wb")
                        out.write(b"".join(chunks))
                        chunks.clear()
                    if out is not None:
                        out.write(chunk)
                    else:
                        chunks.append(chunk)
            except BaseException:
                if out is not None:
                    out.close()
                if spool is not None:
                    spool.unlink(missing_ok=True)
                raise
            if out is not None:
                out.close()
            if total > limit:
                if spool is not None:
                    spool.unlink(missing_ok=True)
                gone = DiskState(before.st_mtime_ns, before.st_size, "")
                return Snapshot(gone, total, too_big=True)
            state = DiskState(before.st_mtime_ns, before.st_size, digest.hexdigest())
            data = None if spool is not None else b"".join(chunks)
            return Snapshot(state, total, data, spool)

    def adopt(self, path: str, content_hash: str, size: int, written_ns: int) -> str:
        """Compare the disk file with the index's entry: "same", "newer" or "write".

        "same": it holds ``content_hash`` (now recorded); "newer": code changed it after
        ``written_ns`` (left for the sync to import); "write": replace it from the blob.
        """
        with self._open_regular(path) as opened:
            if opened is None:
                return "write"
            fd, info = opened
            if info.st_size == size:
                digest = hashlib.sha256()
                total = 0
                while total <= size:
                    chunk = os.read(fd, min(CHUNK, size + 1 - total))
                    if not chunk:
                        break
                    digest.update(chunk)
                    total += len(chunk)
                if total == size and digest.hexdigest() == content_hash:
                    self.add_dir_parents(path)
                    self.record(path, DiskState(info.st_mtime_ns, info.st_size, content_hash))
                    return "same"
            return "newer" if info.st_mtime_ns > written_ns else "write"

    def fresh_bytes(self, path: str, content_hash: str, size: int) -> bytes | None:
        """Return the file's bytes when it still holds ``content_hash`` as we wrote it."""
        known = self.known(path)
        if known is None or known.content_hash != content_hash or known.size != size:
            return None
        with self._open_regular(path) as opened:
            if opened is None or not known.same_as(opened[1]):
                return None
            data = _read_up_to(opened[0], size + 1)
        return data if len(data) == size else None

    # -- writing --------------------------------------------------------------------------

    def _clear_dir(self, folder: int, name: str) -> None:
        """Remove a real folder standing where a file must go."""
        try:
            info = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(info.st_mode):
            shutil.rmtree(name, dir_fd=folder)

    def write(self, path: str, content_hash: str, data: bytes | None, source: Path | None) -> None:
        """Put a file in place atomically (``source``, a file outside, is moved in when given)."""
        parts = _parts(path)
        with self._folder(parts[:-1], path, create=True) as folder:
            self._before_use(path)
            name = parts[-1]
            temp = f"{TEMP_PREFIX}{uuid.uuid4().hex}"
            try:
                if source is not None:
                    info = self._move_in(folder, source, temp)
                else:
                    fd = os.open(temp, _CREATE_FLAGS, 0o644, dir_fd=folder)
                    try:
                        _write_all(fd, data or b"")
                        if self.owner is not None:
                            os.fchown(fd, *self.owner)
                        info = os.fstat(fd)
                    finally:
                        os.close(fd)
                self._clear_dir(folder, name)
                os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp, dir_fd=folder)
                raise
        self.add_dir_parents(path)
        self.record(path, DiskState(info.st_mtime_ns, info.st_size, content_hash))

    def add_dir_parents(self, path: str) -> None:
        """Remember the folders above ``path``."""
        if "/" in path:
            self.add_dir(path.rsplit("/", 1)[0])

    def _move_in(self, folder: int, source: Path, temp: str) -> os.stat_result:
        """Move a spool file into ``folder`` as ``temp`` (copying across file systems)."""
        try:
            os.rename(source, temp, dst_dir_fd=folder)
        except OSError as e:
            if e.errno != errno.EXDEV:
                raise
            out = os.open(temp, _CREATE_FLAGS, 0o644, dir_fd=folder)
            try:
                with open(source, "rb") as f:
                    while chunk := f.read(CHUNK):
                        _write_all(out, chunk)
            finally:
                os.close(out)
            source.unlink(missing_ok=True)
        self._own_at(folder, temp)
        return os.stat(temp, dir_fd=folder, follow_symlinks=False)

    def copy_fresh(self, src: str, dst: str, content_hash: str) -> bool:
        """Copy ``src`` to ``dst`` on disk when ``src`` still holds ``content_hash``."""
        known = self.known(src)
        if known is None or known.content_hash != content_hash:
            return False
        with self._open_regular(src) as opened:
            if opened is None or not known.same_as(opened[1]):
                return False
            parts = _parts(dst)
            with self._folder(parts[:-1], dst, create=True) as folder:
                self._before_use(dst)
                temp = f"{TEMP_PREFIX}{uuid.uuid4().hex}"
                out = os.open(temp, _CREATE_FLAGS, 0o644, dir_fd=folder)
                try:
                    try:
                        copied = 0
                        while copied <= known.size:
                            chunk = os.read(opened[0], min(CHUNK, known.size + 1 - copied))
                            if not chunk:
                                break
                            _write_all(out, chunk)
                            copied += len(chunk)
                        if self.owner is not None:
                            os.fchown(out, *self.owner)
                        info = os.fstat(out)
                    finally:
                        os.close(out)
                    if copied != known.size:
                        raise OSError(errno.EAGAIN, f"{src} changed while it was copied")
                    self._clear_dir(folder, parts[-1])
                    os.replace(temp, parts[-1], src_dir_fd=folder, dst_dir_fd=folder)
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.unlink(temp, dir_fd=folder)
                    raise
        self.add_dir_parents(dst)
        self.record(dst, DiskState(info.st_mtime_ns, info.st_size, content_hash))
        return True

    def mkdir(self, path: str) -> None:
        """Create a folder (and the ones above it)."""
        with self._folder(_parts(path), path, create=True):
            pass
        self.add_dir(path)

    def remove(self, path: str) -> None:
        """Delete a file or a folder tree from disk (what is not reachable is left alone)."""
        parts = _parts(path)
        try:
            with self._folder(parts[:-1], path) as folder:
                self._before_use(path)
                name = parts[-1]
                info = os.stat(name, dir_fd=folder, follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    shutil.rmtree(name, dir_fd=folder)
                else:
                    os.unlink(name, dir_fd=folder)
        except UnsafePathError:
            pass
        except OSError as e:
            if e.errno not in _GONE:
                raise
        finally:
            self.forget(path)

    def rename(self, old: str, new: str) -> None:
        """Move a file or folder on disk and in what we know."""
        source, dest = _parts(old), _parts(new)
        with (
            self._folder(source[:-1], old) as src_folder,
            self._folder(dest[:-1], new, create=True) as dst_folder,
        ):
            self._before_use(old)
            try:
                os.rename(source[-1], dest[-1], src_dir_fd=src_folder, dst_dir_fd=dst_folder)
            except FileNotFoundError:
                pass
        self.add_dir_parents(new)
        self._move_known(old, new)

    # -- scanning -------------------------------------------------------------------------

    def scan(self, include_hidden: bool) -> tuple[dict[str, os.stat_result], set[str]]:
        """Walk the folder: regular files with their stat, and folders (no symlinks)."""
        files: dict[str, os.stat_result] = {}
        dirs: set[str] = set()
        pending = [("", self._open_root())]
        while pending:
            prefix, fd = pending.pop()
            try:
                with os.scandir(fd) as entries:
                    for entry in entries:
                        name = entry.name
                        if name.startswith(TEMP_PREFIX) or (
                            name.startswith(".") and not include_hidden
                        ):
                            continue
                        path = f"{prefix}{name}"
                        if entry.is_symlink():
                            continue
                        if entry.is_dir(follow_symlinks=False):
                            try:
                                sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
                            except OSError:
                                continue
                            dirs.add(path)
                            pending.append((path + "/", sub))
                        elif entry.is_file(follow_symlinks=False):
                            with contextlib.suppress(OSError):
                                files[path] = entry.stat(follow_symlinks=False)
            except OSError:
                pass
            finally:
                os.close(fd)
        return files, dirs


def _is_link(folder: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _read_up_to(fd: int, limit: int) -> bytes:
    chunks = []
    total = 0
    while total < limit:
        chunk = os.read(fd, min(CHUNK, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
