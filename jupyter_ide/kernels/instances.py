"""Which runs of a server are alive: each holds a lock file that dies with its process.

Servers that share a data dir (a restart, or two started at once by one user) share a server
id; the start-up sweep removes what earlier runs left only when their lock is free.
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path

from ..server_extension.create_once import create_once

INSTANCE_NAME = re.compile(r"^[0-9a-f]{12}$")


def stable_id(path: Path) -> str:
    """Return the id kept at ``path``, creating it once even when servers race for it."""
    value = create_once(path, uuid.uuid4().hex.encode(), 0o644).decode().strip()
    if not value:
        raise ValueError(f"{path} is empty: delete it to make a new server id")
    return value


class InstanceLocks:
    """Lock files, one per live run, in ``folder``; this run holds its own."""

    def __init__(self, folder: Path, instance_id: str) -> None:
        """Remember where the locks live and which one is this run's."""
        self.folder = folder
        self.instance_id = instance_id
        self._held: int | None = None
        self._ended: set[str] = set()  # runs of this data dir found ended (their lock free)
        self._lock = threading.Lock()  # kernels start in threads: one takes the lock file

    def _path(self, instance_id: str) -> Path:
        """Return the lock file of a run."""
        return self.folder / f"{instance_id}.lock"

    def hold(self) -> None:
        """Take this run's lock (released when the process ends, or by ``release``)."""
        with self._lock:
            if self._held is not None:
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self._path(self.instance_id)
            fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._held = fd

    def release(self) -> None:
        """Give this run's lock up and remove its file."""
        with self._lock:
            if self._held is None:
                return
            self._path(self.instance_id).unlink(missing_ok=True)
            os.close(self._held)
            self._held = None

    def alive(self, instance_id: str) -> bool:
        """Return True when the run ``instance_id`` still holds its lock."""
        if instance_id == self.instance_id:
            return self._held is not None
        if not INSTANCE_NAME.match(instance_id):
            return False
        path = self._path(instance_id)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        else:
            path.unlink(missing_ok=True)  # a run that ended without cleaning up
            self._ended.add(instance_id)
            return False
        finally:
            os.close(fd)

    def ended(self, instance_ids: Iterable[str]) -> set[str]:
        """Return the runs of ``instance_ids`` that ran on this data dir and have ended.

        Certain, unlike a heartbeat that outlives a killed run by its time to live: a restart
        on the same data dir knows its crashed predecessor is gone.
        """
        return {
            run
            for run in instance_ids
            if run in self._ended or (self._path(run).exists() and not self.alive(run))
        }
