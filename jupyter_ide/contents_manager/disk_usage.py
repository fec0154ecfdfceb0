"""What a folder holds on disk: its total, and its largest files (never following links)."""

from __future__ import annotations

import contextlib
import heapq
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .workspace import TEMP_PREFIX

BLOCK = 512  # st_blocks is counted in 512-byte units


@dataclass(frozen=True)
class DiskFile:
    """One regular file in a workspace folder."""

    path: str  # relative, "/"-separated, as the contents API names it
    size: int  # its length
    disk_bytes: int  # what it takes on disk (less for a sparse file)


def _walk(root: Path) -> list[tuple[str, os.stat_result]]:
    """Every file and folder below ``root`` with its lstat; links are not followed."""
    found: list[tuple[str, os.stat_result]] = []
    pending = [("", str(root))]
    while pending:
        prefix, folder = pending.pop()
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                path = f"{prefix}{entry.name}"
                found.append((path, info))
                if stat.S_ISDIR(info.st_mode):
                    pending.append((path + "/", entry.path))
    return found


def used_bytes(root: Path) -> int:
    """Bytes everything below ``root`` takes on disk (a hard-linked file counts once)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for _, info in _walk(root):
        key = (info.st_dev, info.st_ino)
        if key in seen:
            continue
        seen.add(key)
        total += info.st_blocks * BLOCK
    return total


def largest_files(root: Path, limit: int) -> list[DiskFile]:
    """Return the ``limit`` regular files below ``root`` taking the most disk, largest first."""
    files = (
        DiskFile(path, info.st_size, info.st_blocks * BLOCK)
        for path, info in _walk(root)
        if stat.S_ISREG(info.st_mode) and not path.rsplit("/", 1)[-1].startswith(TEMP_PREFIX)
    )
    return heapq.nlargest(limit, files, key=lambda f: (f.disk_bytes, f.size))
