"""Files made once and then only read, safe when several servers start at the same time."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def create_once(path: Path, data: bytes, mode: int = 0o600) -> bytes:
    """Return what ``path`` holds, first writing ``data`` to it when it does not exist.

    The file appears whole or not at all (written aside, then linked into place), and when
    servers race only the first one's data is kept: every caller gets the same bytes.
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(aside, path)  # fails when another server was first
        except FileExistsError:
            return path.read_bytes()
        return data
    finally:
        aside.unlink(missing_ok=True)
