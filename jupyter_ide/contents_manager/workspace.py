"""The materialised workspace: a real folder mirroring the index, for kernels to use."""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..kernels.profile import sandbox_owner

TEMP_PREFIX = ".~ide-"


@dataclass(frozen=True)
class DiskState:
    """What a file on disk was when we last wrote or read it."""

    mtime_ns: int
    size: int
    content_hash: str


class UnsafePathError(Exception):
    """A path on disk leads out of the workspace (a symlink planted by code)."""


class WorkspaceMirror:
    """Writes index changes to the folder and notices what code changed there."""

    def __init__(self, root: Path) -> None:
        """Mirror into ``root``; what we write belongs to the sandbox user, who edits it too."""
        self.root = root
        self.files: dict[str, DiskState] = {}
        self.dirs: set[str] = set()
        self.owner = sandbox_owner()

    def own(self, disk: Path) -> None:
        """Give a file we wrote to the sandbox user (only when the server runs as root)."""
        if self.owner is not None:
            os.lchown(disk, *self.owner)

    def make_dirs(self, folder: Path) -> None:
        """Create ``folder`` and its parents inside the root, owned by the sandbox user."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.owner is None:
            return
        current = folder
        while current == self.root or self.root in current.parents:
            os.lchown(current, *self.owner)
            current = current.parent

    def target(self, path: str) -> Path:
        """Return the disk path of ``path``, refusing symlinks on the way."""
        current = self.root
        for part in path.split("/") if path else []:
            current = current / part
            if current.is_symlink():
                raise UnsafePathError(f"{path} passes through a symbolic link")
        return current

    def _record(self, path: str, disk: Path, content_hash: str) -> None:
        info = disk.stat()
        self.files[path] = DiskState(info.st_mtime_ns, info.st_size, content_hash)

    def changed(self, path: str) -> os.stat_result | None:
        """Return the file's stat when it differs from what we recorded, else None."""
        try:
            info = self.target(path).lstat()
        except (FileNotFoundError, NotADirectoryError, UnsafePathError):
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        known = self.files.get(path)
        if known and known.mtime_ns == info.st_mtime_ns and known.size == info.st_size:
            return None
        return info

    def fresh(self, path: str, content_hash: str) -> Path | None:
        """Return the disk file when it still holds ``content_hash`` as we wrote it."""
        known = self.files.get(path)
        if known is None or known.content_hash != content_hash:
            return None
        try:
            disk = self.target(path)
            info = disk.lstat()
        except (OSError, UnsafePathError):
            return None
        if info.st_mtime_ns == known.mtime_ns and info.st_size == known.size:
            return disk
        return None

    def write(self, path: str, content_hash: str, data: bytes | None, source: Path | None) -> None:
        """Put a file in place atomically (``source`` is moved in when given)."""
        disk = self.target(path)
        self.make_dirs(disk.parent)
        if disk.is_dir() and not disk.is_symlink():
            shutil.rmtree(disk)
        temp = disk.parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        if source is not None:
            shutil.move(source, temp)
        else:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(data or b"")
        self.own(temp)
        os.replace(temp, disk)
        self._record(path, disk, content_hash)

    def mkdir(self, path: str) -> None:
        """Create a folder (and the ones above it)."""
        self.make_dirs(self.target(path))
        parts = path.split("/")
        self.dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))

    def forget(self, path: str) -> None:
        """Drop what we know of ``path`` and everything below it."""
        below = path + "/"
        for known in [p for p in self.files if p == path or p.startswith(below)]:
            del self.files[known]
        self.dirs = {d for d in self.dirs if d != path and not d.startswith(below)}

    def remove(self, path: str) -> None:
        """Delete a file or a folder tree from disk."""
        disk = self.target(path)
        if disk.is_dir() and not disk.is_symlink():
            shutil.rmtree(disk, ignore_errors=True)
        else:
            disk.unlink(missing_ok=True)
        self.forget(path)

    def rename(self, old: str, new: str) -> None:
        """Move a file or folder on disk and in what we know."""
        source, dest = self.target(old), self.target(new)
        self.make_dirs(dest.parent)
        if source.exists():
            os.replace(source, dest)
        prefix = old + "/"
        for known in [p for p in self.files if p == old or p.startswith(prefix)]:
            self.files[new + known[len(old) :]] = self.files.pop(known)
        self.dirs = {
            new + d[len(old) :] if d == old or d.startswith(prefix) else d for d in self.dirs
        }

    def read(self, path: str) -> bytes:
        """Read a file from disk without following a final symlink."""
        fd = os.open(self.target(path), os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            return f.read()

    def scan(self, include_hidden: bool) -> tuple[dict[str, os.stat_result], set[str]]:
        """Walk the folder: regular files with their stat, and folders (no symlinks)."""
        files: dict[str, os.stat_result] = {}
        dirs: set[str] = set()
        pending = [("", self.root)]
        while pending:
            prefix, folder = pending.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                name = entry.name
                if name.startswith(TEMP_PREFIX) or (name.startswith(".") and not include_hidden):
                    continue
                path = f"{prefix}{name}"
                if entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    dirs.add(path)
                    pending.append((path + "/", Path(entry.path)))
                elif entry.is_file(follow_symlinks=False):
                    files[path] = entry.stat(follow_symlinks=False)
        return files, dirs
