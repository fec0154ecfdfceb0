"""Chunked uploads staged in a spool file, hashed as they arrive (nothing held in memory)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from ..db.models import utcnow


class Upload:
    """One upload in progress: its spool file, running hash and size."""

    def __init__(self, spool: Path) -> None:
        """Start an empty spool."""
        spool.parent.mkdir(parents=True, exist_ok=True)
        spool.write_bytes(b"")
        self.spool = spool
        self.size = 0
        self.parts = 0
        self.started = utcnow()
        self._hash = hashlib.sha256()

    def append(self, data: bytes) -> None:
        """Add a chunk."""
        with self.spool.open("ab") as f:
            f.write(data)
        self._hash.update(data)
        self.size += len(data)
        self.parts += 1

    def finish(self) -> tuple[str, int]:
        """Return the upload's sha256 and size."""
        return self._hash.hexdigest(), self.size


class UploadTable:
    """Uploads in progress, by path."""

    def __init__(self, folder: Path) -> None:
        """Spool into ``folder``."""
        self.folder = folder
        self._uploads: dict[str, Upload] = {}

    def start(self, path: str) -> Upload:
        """Begin (or restart) the upload of ``path``."""
        self.discard(path)
        upload = Upload(self.folder / f"{uuid.uuid4().hex}.part")
        self._uploads[path] = upload
        return upload

    def find(self, path: str) -> Upload | None:
        """Return the upload of ``path`` in progress, if any."""
        return self._uploads.get(path)

    def discard(self, path: str) -> None:
        """Forget an upload and remove its spool."""
        upload = self._uploads.pop(path, None)
        if upload is not None:
            upload.spool.unlink(missing_ok=True)

    def expire(self, age: timedelta, now: datetime | None = None) -> None:
        """Drop uploads started longer than ``age`` ago."""
        limit = (now or utcnow()) - age
        for path in [p for p, u in self._uploads.items() if u.started < limit]:
            self.discard(path)
