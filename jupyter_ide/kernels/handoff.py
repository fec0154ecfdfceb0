"""Hand-off mounts: warm kernels that can be given to any user of a multi-user service.

A warm kernel starts before anyone asks for it, so it cannot mount its user's workspace. In
the jupyter-ide service it mounts a private, empty host folder at /workspace instead, with
propagation from the host (``rslave``); that folder is a shared mount of its own. Handing the
kernel to a user bind-mounts the user's workspace folder onto the private folder: the mount
propagates into the running container, where it covers the empty /workspace. When the kernel
ends the bind is undone and the folder removed. Each warm kernel has its own folder (its own
peer group), so a workspace appears in the one container it was handed to and nowhere else;
the container's copy is a slave, so nothing mounted inside it (it cannot mount anyway) comes
back to the host.

The folders live under one root, itself a private mount, so none of these mounts propagates
to the rest of the host. Mounting needs root (CAP_SYS_ADMIN) in the engine's mount namespace:
``unavailable()`` says why it cannot be done, and the service then starts kernels cold.
Blocking system calls: run them off the event loop.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path

from ..contents_manager.loopfs import mounts_at

log = logging.getLogger(__name__)

# <sys/mount.h>
MS_BIND = 0x1000
MS_PRIVATE = 1 << 18
MS_SHARED = 1 << 20
MNT_DETACH = 2
# What the container's /workspace is to the private folder: it receives the hand-off mount.
PROPAGATION = "rslave"

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.mount.argtypes = [
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_ulong,
    ctypes.c_void_p,
]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


class HandOffError(OSError):
    """A mount or unmount of a hand-off folder failed; the message says which and why."""


def _mount(source: Path | None, target: Path, flags: int) -> None:
    """Call mount(2) with no file system type and no data (binds and propagation changes)."""
    src = os.fsencode(source) if source is not None else None
    if _libc.mount(src, os.fsencode(target), None, flags, None) != 0:
        err = ctypes.get_errno()
        what = f"bind {source} onto {target}" if source is not None else f"change {target}"
        raise HandOffError(err, f"cannot {what}: {os.strerror(err)}")


def _unmount(target: Path) -> None:
    """Detach the mount on top of ``target`` (lazily: a process still using it keeps it)."""
    if _libc.umount2(os.fsencode(target), MNT_DETACH) != 0:
        err = ctypes.get_errno()
        raise HandOffError(err, f"cannot unmount {target}: {os.strerror(err)}")


def _unmount_all(folder: Path) -> None:
    """Undo every mount stacked at ``folder`` (a hand-off bind, then the folder's own)."""
    for _ in range(len(mounts_at(folder))):
        _unmount(folder)


def _bind_private_shared(folder: Path) -> None:
    """Make ``folder`` a mount of its own, in a peer group of its own."""
    _mount(folder, folder, MS_BIND)
    try:
        _mount(None, folder, MS_PRIVATE)  # leave the peer group a bind joins
        _mount(None, folder, MS_SHARED)  # a new group: its containers, nothing else
    except BaseException:
        _unmount(folder)
        raise


class HandOffMounts:
    """The private folders of one run's warm kernels, and the user workspaces bound onto them."""

    def __init__(self, root: Path, instance_id: str, alive: Callable[[str], bool]) -> None:
        """Keep the folders under ``root``, named after this run (``alive`` tells others')."""
        self.root = root
        self.instance_id = instance_id
        self.alive = alive

    # -- set-up ---------------------------------------------------------------------------

    def unavailable(self) -> str | None:
        """Say why hand-off mounts cannot be made here (None when they can): a real probe."""
        if os.geteuid() != 0:
            return (
                "the service does not run as root, and handing a warm kernel to a user "
                "mounts their workspace into it"
            )
        try:
            folder = self.prepare()
        except OSError as e:
            return f"mounting a hand-off folder failed ({e})"
        try:
            self.release(folder)
        except OSError as e:
            return f"unmounting a hand-off folder failed ({e})"
        return None

    def _ready_root(self) -> None:
        """Make the root folder (0700) a private mount of its own, once."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root.chmod(0o700)
        if not mounts_at(self.root):
            _mount(self.root, self.root, MS_BIND)
            try:
                _mount(None, self.root, MS_PRIVATE)
            except BaseException:
                _unmount(self.root)
                raise

    def prepare(self) -> Path:
        """Make a fresh private folder, a shared mount for one warm kernel's /workspace."""
        self._ready_root()
        folder = self.root / f"{self.instance_id}-{uuid.uuid4().hex[:12]}"
        folder.mkdir(mode=0o755)
        try:
            _bind_private_shared(folder)
        except BaseException:
            folder.rmdir()
            raise
        return folder

    # -- hand-off -------------------------------------------------------------------------

    def attach(self, folder: Path, workspace: Path) -> None:
        """Bind ``workspace`` onto a warm kernel's folder: its /workspace becomes that folder."""
        if len(mounts_at(folder)) != 1:
            raise HandOffError(0, f"{folder} is not an unused hand-off folder")
        _mount(workspace, folder, MS_BIND)

    def release(self, folder: Path) -> None:
        """Unmount a warm kernel's folder (its user's workspace first) and remove it."""
        if folder.parent != self.root:
            raise HandOffError(0, f"{folder} is not a hand-off folder of {self.root}")
        _unmount_all(folder)
        with contextlib.suppress(FileNotFoundError):
            folder.rmdir()  # empty: only mounts ever covered it

    # -- upkeep ---------------------------------------------------------------------------

    def _folders(self) -> list[Path]:
        """Return the hand-off folders there are now, of every run."""
        try:
            return [child for child in self.root.iterdir() if not child.is_symlink()]
        except FileNotFoundError:
            return []

    def sweep(self) -> int:
        """Release the folders of runs that have ended (their containers are gone first)."""
        released = 0
        for folder in self._folders():
            run = folder.name.split("-", 1)[0]
            if run == self.instance_id or self.alive(run):
                continue
            try:
                self.release(folder)
                released += 1
            except OSError as e:
                log.warning("Could not release hand-off folder %s: %s", folder, e)
        if released:
            log.warning("Released %d hand-off mount(s) left by an earlier run", released)
        return released

    def close(self) -> None:
        """Release this run's folders; unmount the root once no run has folders in it."""
        for folder in self._folders():
            if folder.name.startswith(f"{self.instance_id}-"):
                try:
                    self.release(folder)
                except OSError as e:
                    log.warning("Could not release hand-off folder %s: %s", folder, e)
        if self.root.is_dir() and not self._folders() and mounts_at(self.root):
            try:
                _unmount_all(self.root)
                self.root.rmdir()
            except OSError as e:
                log.warning("Could not remove %s: %s", self.root, e)
