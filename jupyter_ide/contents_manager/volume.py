"""WorkspaceVolume: a size cap on a user's workspace folders that code in kernels cannot pass.

The user's folder ``<workspaces_root>/<storage key>/<user>`` (their workspaces, and the index
markers beside them) is what the cap covers; kernels see only their workspace folder inside it.
The folder is a working copy: every file's bytes are kept in the blob store and the index, so
losing the volume loses nothing saved. How the cap is enforced, per case:

- ``loop`` (the server runs as root, ``/dev/loop-control``, util-linux and e2fsprogs exist):
  the folder is an ext4 file system of its own, a sparse image file beside it
  (``<user>~volume.ext4``, as large on the host as what it holds) loop-mounted with
  ``nosuid,nodev,noatime,discard`` before the workspace is materialised and before any kernel
  mounts it. Code writing past the cap gets ENOSPC ("No space left on device") in the sandbox;
  the host's disk is untouched beyond it. It stays executable: students compile and run
  programs there. Unmounted when the last server using it stops, re-used at the next start
  (also after a crash: a mount left behind is found and adopted), grown when the cap rises.
- ``mount``: something else (an admin, a Kubernetes volume) already mounted a file system at
  the user's folder; its own size is the cap.
- ``sync`` (a normal user cannot mount): the folder is measured every ``check_interval``
  seconds and the user's kernels are stopped when it grows past the cap. Code can overshoot
  by what it writes between two measurements; health and the doctor say so.
- ``off``: not capped (the admin's choice, or no cap configured).

While the folder is full, saves through the contents API are refused with a 507 that says
"Workspace full" and names the largest files, and ``/ide/api/workspace/disk`` lists and deletes
what code wrote, including files the index does not hold.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import os
import shutil
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from tornado import web
from tornado.ioloop import IOLoop
from traitlets import CaselessStrEnum, Float, Int, default
from traitlets.config import LoggingConfigurable

from . import loopfs
from .disk_usage import DiskFile, largest_files, used_bytes
from .folders import ASIDE_INFIX
from .index import human_size

MODES = ("auto", "loop", "sync", "off")
MIB = 1024 * 1024
FULL_BELOW = MIB  # less free than this: the workspace is full
ROOM_MARGIN = 64 * 1024  # what a save needs beyond its own blocks (folder entries, extents)
BLOCK = 4096
LARGEST_NAMED = 3
FIT_STEPS = 4


# Volumes this process holds: released at exit even when the server's own stop did not run.
_HELD: weakref.WeakSet[WorkspaceVolume] = weakref.WeakSet()


@atexit.register
def _release_all() -> None:
    for volume in list(_HELD):
        with contextlib.suppress(Exception):
            volume.release()


class VolumeError(RuntimeError):
    """The workspace volume was required (mode ``loop``) but could not be mounted."""


class Listed(Protocol):
    """The index: which paths the user's file list holds."""

    async def get(self, path: str) -> object | None:
        """Return the entry of ``path`` (None when the index does not hold it)."""


@dataclass(frozen=True)
class VolumeState:
    """How the user's folder is capped and how full it is."""

    mechanism: str  # "loop", "mount", "sync" or "off"
    cap_bytes: int  # the cap asked for (0: none)
    size_bytes: int  # what the folder may hold: its file system's size, else the cap
    used_bytes: int
    free_bytes: int
    reason: str = ""  # why the file system does not cap it

    @property
    def capped(self) -> bool:
        """Whether the file system itself refuses writes past the cap."""
        return self.mechanism in ("loop", "mount")

    @property
    def full(self) -> bool:
        """Whether there is (next to) no room left."""
        return self.size_bytes > 0 and self.free_bytes < FULL_BELOW

    def as_json(self) -> dict[str, Any]:
        """Return the state as health and the disk API show it."""
        return {
            "mechanism": self.mechanism,
            "capped": self.capped,
            "cap_bytes": self.cap_bytes,
            "size_bytes": self.size_bytes,
            "used_bytes": self.used_bytes,
            "free_bytes": self.free_bytes,
            "full": self.full,
            "reason": self.reason,
        }


def loop_unavailable() -> str:
    """Return why this process cannot mount a loop volume ("" when it can)."""
    if os.geteuid() != 0:
        return "the server does not run as root, so it cannot mount a size-capped volume"
    if not Path("/dev/loop-control").exists():
        return "/dev/loop-control is missing (a container without loop devices)"
    tools = ("mount", "umount", "losetup", "mkfs.ext4", "resize2fs")
    missing = [t for t in tools if not loopfs.tool(t)]
    if missing:
        return f"{', '.join(missing)} not installed (Debian: util-linux, e2fsprogs)"
    return ""


def _flock(fd: int, how: int) -> None:
    fcntl.flock(fd, how)


def _only_empty_folders(folder: Path) -> bool:
    """Whether everything below ``folder`` is a folder (no file, link or anything else)."""
    for parent, dirs, files in os.walk(folder, followlinks=False):
        if files or any(os.path.islink(os.path.join(parent, d)) for d in dirs):
            return False
    return True


def _remove_empty_folders(folder: Path) -> None:
    for parent, dirs, _ in os.walk(folder, topdown=False):
        for d in dirs:
            os.rmdir(os.path.join(parent, d))


class WorkspaceVolume(LoggingConfigurable):
    """The size cap of one user's workspace folders (see the module's text for each case)."""

    mode = CaselessStrEnum(
        MODES,
        help="How the user's workspace folder is capped. auto: a loop-mounted ext4 volume "
        "when the server runs as root, else measured by the server (kernels stopped past the "
        "cap); loop: the volume is required (the server refuses to open the workspace "
        "without it); sync: measured only; off: not capped. "
        "Env: JUPYTER_IDE_WORKSPACE_VOLUME.",
    ).tag(config=True)

    size_bytes = Int(
        help="Bytes the user's workspace folder may hold on disk; 0: the user's quota "
        "(IDEContentsManager.quota_bytes). Raising it grows an existing volume at the next "
        "start. Env: JUPYTER_IDE_WORKSPACE_BYTES.",
    ).tag(config=True)

    check_interval = Float(
        2.0,
        help="Seconds between measurements of the folder when the file system does not cap "
        "it (mode sync, or auto without mount rights).",
    ).tag(config=True)

    @default("mode")
    def _default_mode(self) -> str:
        return os.environ.get("JUPYTER_IDE_WORKSPACE_VOLUME", "").strip() or "auto"

    @default("size_bytes")
    def _default_size_bytes(self) -> int:
        value = os.environ.get("JUPYTER_IDE_WORKSPACE_BYTES", "").strip()
        return int(value) if value.isdigit() else 0

    def __init__(self, **kwargs: Any) -> None:
        """Nothing is mounted until ``attach``/``open``."""
        super().__init__(**kwargs)
        self.kernel_manager: Any = None  # stops the user's kernels in sync mode
        self.folder: Path | None = None  # the workspace folder (kernels see this)
        self.root: Path | None = None  # the user's folder: what is capped
        self.cap = 0
        self.mechanism = "off"
        self.reason = "not opened yet"
        self.stopped: tuple[float, int] | None = None  # when kernels were stopped, how many
        self._hold: int | None = None  # shared lock on the image while this server uses it
        self._used: int | None = None
        self._last_used: int | None = None
        self._watch: asyncio.Task[None] | None = None
        self._lock = threading.Lock()

    # -- opening ------------------------------------------------------------------------

    def cap_for(self, quota_bytes: int) -> int:
        """Return the cap: the configured size, else the user's quota."""
        return self.size_bytes or max(quota_bytes, 0)

    def attach(self, folder: Path, quota_bytes: int) -> None:
        """Cap the user's folder above the workspace ``folder`` (blocking; call before kernels).

        Idempotent. Raises VolumeError in mode ``loop`` when the volume cannot be mounted.
        """
        with self._lock:
            if self.root == folder.parent:
                return
            self.folder, self.root = folder, folder.parent
            self.cap = self.cap_for(quota_bytes)
            self.mechanism, self.reason = self._open(self.root)
            self.log.info("Workspace folder %s: %s", self.root, self.describe_text(self.state()))

    async def open(self, folder: Path, quota_bytes: int) -> None:
        """``attach`` off the event loop; start measuring when the file system does not cap."""
        if self.root != folder.parent:
            try:
                await asyncio.to_thread(self.attach, folder, quota_bytes)
            except VolumeError as e:
                raise web.HTTPError(503, f"Cannot open your workspace: {e}") from e
        self.watch()

    def _open(self, root: Path) -> tuple[str, str]:
        """Mount or adopt a volume at ``root``; return (mechanism, why not capped)."""
        if self.mode == "off":
            return "off", "WorkspaceVolume.mode is off"
        if self.cap <= 0:
            return "off", "no cap: the quota and WorkspaceVolume.size_bytes are 0"
        image = loopfs.image_for(root)
        mounted = loopfs.mounts_at(root)
        if mounted and loopfs.backing_file(mounted[-1].source) != os.path.realpath(image):
            top = mounted[-1]
            if self.mode in ("auto", "loop"):
                return "mount", ""  # an admin's own file system: its size is the cap
            return "sync", f"{root} is a {top.fstype} mount the server did not make"
        why = "" if self.mode in ("auto", "loop") else "WorkspaceVolume.mode is sync"
        if not why:
            why = loop_unavailable()
        if not why:
            try:
                self._open_loop(root, image)
                return "loop", ""
            except (loopfs.LoopError, OSError) as e:
                why = f"its volume could not be mounted ({e})"
                self.log.warning("Workspace folder %s: %s", root, why)
        if self.mode == "loop":
            raise VolumeError(f"The workspace volume is required (mode loop), but {why}.")
        root.mkdir(parents=True, exist_ok=True)
        return "sync", why

    def _open_loop(self, root: Path, image: Path) -> None:
        """Mount (or adopt) the image at ``root``, sized to the cap, and hold it shared."""
        image.parent.mkdir(parents=True, exist_ok=True)
        gate = os.open(image.with_suffix(".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            _flock(gate, fcntl.LOCK_EX)  # one server at a time mounts, resizes or unmounts
            if loopfs.mounts_at(root):
                self._grow_online(root, image)  # left mounted by a server that died
            else:
                alone = not loopfs.attached(image)  # no container of an earlier run holds it
                self._clear_mount_point(root)
                fresh = not image.exists()
                if fresh:
                    loopfs.create_image(image, loopfs.first_guess(self.cap))
                loopfs.mount_image(image, root)
                if alone:
                    self._fit(root, image, fresh)
                else:
                    self._grow_online(root, image)
            os.chmod(root, 0o755)  # noqa: S103 - kernels pass through it to their folder
            hold = os.open(image, os.O_RDONLY | os.O_CLOEXEC)
            _flock(hold, fcntl.LOCK_SH)
            self._hold = hold
            _HELD.add(self)
        finally:
            os.close(gate)

    def _fit(self, root: Path, image: Path, fresh: bool) -> None:
        """Resize the volume, which only we hold, to hold the cap (a used one never shrinks)."""
        for _ in range(FIT_STEPS):
            have = loopfs.fs_size(root)
            over = fresh and have > self.cap + self.cap // 64 + MIB
            if self.cap <= have and not over:
                return
            target = -(-(os.path.getsize(image) + self.cap - have) // MIB) * MIB
            self.log.info("Resizing the workspace volume %s to %s", image, human_size(target))
            loopfs.unmount(root)
            try:
                loopfs.resize_offline(image, target)
            finally:
                loopfs.mount_image(image, root)

    def _grow_online(self, root: Path, image: Path) -> None:
        """Grow a volume others may hold, while mounted; it stays as it is when that fails."""
        have = loopfs.fs_size(root)
        if have >= self.cap:
            return
        device = loopfs.mounts_at(root)[-1].source
        try:
            loopfs.grow_online(image, device, os.path.getsize(image) + self.cap - have + MIB)
        except (loopfs.LoopError, OSError) as e:
            self.log.warning(
                "The workspace volume %s stays at %s until a start where no kernel holds it: %s",
                image,
                human_size(have),
                e,
            )

    def _clear_mount_point(self, root: Path) -> None:
        """Leave ``root`` an empty folder to mount on; files found there are moved aside."""
        if not root.exists():
            root.mkdir(parents=True)
            return
        if _only_empty_folders(root):
            _remove_empty_folders(root)
            return
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        aside = root.with_name(f"{root.name}~before-volume-{stamp}")
        os.rename(root, aside)
        root.mkdir()
        self.log.warning(
            "Workspace folder %s held files from before its volume; moved them to %s "
            "(everything saved is in the index and comes back from the blob store)",
            root,
            aside,
        )

    # -- closing ------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop measuring; unmount the volume when no other server uses it."""
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        await asyncio.to_thread(self.release)

    def release(self) -> None:
        """Give the volume up (blocking): the last server using it unmounts it."""
        with self._lock:
            _HELD.discard(self)
            hold, self._hold = self._hold, None
            root = self.root
            self.root = self.folder = None
            self.mechanism, self.reason = "off", "closed"
        if hold is None or root is None:
            return
        image = loopfs.image_for(root)
        gate = os.open(image.with_suffix(".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            _flock(gate, fcntl.LOCK_EX)
            os.close(hold)
            probe = os.open(image, os.O_RDONLY | os.O_CLOEXEC)
            try:
                try:
                    _flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return  # another server still works in it
                mounted = loopfs.mounts_at(root)
                if mounted and loopfs.backing_file(mounted[-1].source) == os.path.realpath(image):
                    try:
                        loopfs.unmount(root)
                    except loopfs.LoopError as e:
                        self.log.warning("Workspace volume %s stays mounted: %s", root, e)
            finally:
                os.close(probe)
        finally:
            os.close(gate)

    # -- measuring ----------------------------------------------------------------------

    def watch(self) -> None:
        """Start measuring the folder (on the running loop) when the file system does not cap it."""
        if self.mechanism != "sync" or self.check_interval <= 0:
            return
        if self._watch is None or self._watch.done():
            self._watch = asyncio.get_running_loop().create_task(self._watch_loop())

    async def _watch_loop(self) -> None:
        while True:
            try:
                await self.measure()
            except Exception as e:  # a timer must survive anything
                self.log.warning("Could not measure the workspace folder: %s", e)
            await asyncio.sleep(self.check_interval)

    async def measure(self) -> int:
        """Measure the folder; stop the user's kernels when it grew past the cap."""
        root = self.root
        if root is None:
            return 0
        used = await asyncio.to_thread(used_bytes, root)
        before, self._last_used = self._last_used, used
        self._used = used
        if self.mechanism == "sync" and used > self.cap and (before is None or used > before):
            await self._stop_kernels(used)
        return used

    async def _stop_kernels(self, used: int) -> None:
        """Shut every kernel of this server down: code in one of them is filling the folder."""
        km = self.kernel_manager
        ids = list(km.list_kernel_ids()) if km is not None else []
        self.log.warning(
            "Workspace folder %s holds %s, over its cap of %s: stopping %d kernel(s)",
            self.root,
            human_size(used),
            human_size(self.cap),
            len(ids),
        )
        for kernel_id in ids:
            try:
                await km.shutdown_kernel(kernel_id, now=True)
            except Exception as e:  # the others must still stop
                self.log.warning("Could not stop kernel %s: %s", kernel_id, e)
        self.stopped = (time.time(), len(ids))

    def state(self) -> VolumeState:
        """How the folder is capped and how full it is now."""
        root, mechanism, cap = self.root, self.mechanism, self.cap
        if root is None or mechanism == "off":
            return VolumeState("off", cap, 0, 0, 0, self.reason)
        if mechanism in ("loop", "mount"):
            try:
                info = os.statvfs(root)
            except OSError as e:
                return VolumeState(mechanism, cap, 0, 0, 0, f"cannot be measured ({e})")
            size = info.f_blocks * info.f_frsize
            used = (info.f_blocks - info.f_bfree) * info.f_frsize
            return VolumeState(mechanism, cap, size, used, info.f_bavail * info.f_frsize)
        used = self._used if self._used is not None else used_bytes(root)
        return VolumeState("sync", cap, cap, used, max(cap - used, 0), self.reason)

    async def largest(self, limit: int, index: Listed) -> list[tuple[DiskFile, bool]]:
        """Return the workspace folder's largest files, each with whether the index holds it."""
        folder = self.folder
        if folder is None:
            return []
        found = await asyncio.to_thread(largest_files, folder, limit)
        return [(f, await index.get(f.path) is not None) for f in found]

    def set_aside(self) -> list[tuple[str, int]]:
        """Return the folders set aside in the user's folder (name, bytes), largest first.

        A workspace folder that held files of no index (code wrote there before the server
        first opened it, or the database was recreated) is moved aside, never imported; it
        still takes room under the cap, so the user must be able to see and delete it.
        """
        root = self.root
        if root is None:
            return []
        found = []
        with contextlib.suppress(OSError), os.scandir(root) as entries:
            for entry in entries:
                if ASIDE_INFIX in entry.name and entry.is_dir(follow_symlinks=False):
                    found.append((entry.name, used_bytes(Path(entry.path))))
        return sorted(found, key=lambda item: -item[1])

    def drop_aside(self, name: str) -> bool:
        """Delete the set-aside folder ``name`` (False when there is no such folder)."""
        root = self.root
        if root is None or ASIDE_INFIX not in name or "/" in name or name.startswith("."):
            return False
        if name not in {found for found, _ in self.set_aside()}:
            return False
        shutil.rmtree(root / name)  # fd-based on Linux: a link inside never leads out
        return True

    # -- words --------------------------------------------------------------------------

    def describe_text(self, state: VolumeState) -> str:
        """One sentence on the cap, for logs, health and the doctor."""
        usage = f"{human_size(state.used_bytes)} of {human_size(state.size_bytes)} used"
        if state.mechanism == "loop":
            return f"{usage}; capped by its own loop-mounted ext4 volume: code cannot pass it"
        if state.mechanism == "mount":
            return f"{usage}; capped by the file system mounted there"
        if state.mechanism == "sync":
            stopped = ""
            if self.stopped is not None:
                when = datetime.fromtimestamp(self.stopped[0], timezone.utc).strftime("%H:%M:%S")
                stopped = f"; kernels were stopped at {when} UTC when it passed the cap"
            return (
                f"workspace size not capped by the filesystem: {state.reason}. "
                f"The server measures it every {self.check_interval:g} s and stops your "
                f"kernels when it grows past {human_size(state.cap_bytes)} "
                f"({human_size(state.used_bytes)} used now){stopped}"
            )
        return f"workspace size not capped: {state.reason}"

    async def full_message(self, state: VolumeState, action: str, index: Listed) -> str:
        """Say that the workspace is full, what fills it and how to make room."""
        named = []
        for found, indexed in await self.largest(LARGEST_NAMED, index):
            where = "" if indexed else ", not in your file list"
            named.append(f"{found.path} ({human_size(found.disk_bytes)}{where})")
        largest = f" The largest files in it: {', '.join(named)}." if named else ""
        aside = await asyncio.to_thread(self.set_aside)
        if aside:
            total = human_size(sum(size for _, size in aside))
            largest += (
                f" Folders set aside (files code wrote before your workspace opened, never in "
                f"your file list) take {total}: {', '.join(name for name, _ in aside)}."
            )
        return (
            f"Workspace full: your workspace folder holds {human_size(state.used_bytes)} of the "
            f"{human_size(state.size_bytes)} it may hold, so there is no room {action}.{largest} "
            "Delete files you do not need (in the file list, in a terminal, or with "
            "DELETE /ide/api/workspace/disk?path=… or ?aside=…; GET /ide/api/workspace/disk "
            "lists what takes the space), then try again."
        )

    async def check_room(self, path: str, size: int, index: Listed) -> None:
        """Refuse (507 "Workspace full") a save of ``size`` bytes the folder has no room for."""
        if self.mechanism == "off" or self.root is None:
            return
        state = self.state()
        needed = -(-size // BLOCK) * BLOCK + ROOM_MARGIN
        if state.size_bytes and state.free_bytes < needed:
            action = f"to save {path} ({human_size(size)})"
            raise web.HTTPError(507, await self.full_message(state, action, index))


def _open_by_a_process(path: str) -> bool:
    """Whether some process still has the (deleted) file ``path`` open."""
    wanted = (path, f"{path} (deleted)")
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        with contextlib.suppress(OSError):
            if os.readlink(fd) in wanted:
                return True
    return False


def _unmount_if_stale(folder: Path, image: Path) -> bool:
    """Unmount the volume at ``folder`` when no server holds ``image``; say whether it did."""
    if not image.exists():  # removed with its folder: stale once nothing has it open
        if _open_by_a_process(str(image)):
            return False
        loopfs.unmount(folder)
        return True
    try:
        gate = os.open(image.with_suffix(".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return False
    try:
        try:
            _flock(gate, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a server is opening or closing it
            probe = os.open(image, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return False
        try:
            _flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)  # refused while a server holds it
        except OSError:
            return False
        finally:
            os.close(probe)
        loopfs.unmount(folder)
        return True
    finally:
        os.close(gate)


def sweep_stale(under: Path) -> list[Path]:
    """Unmount the workspace volumes below ``under`` that no running server holds (root only).

    A server killed outright (SIGKILL) cannot unmount its volume; its next start adopts it,
    but a folder that is never used again (a test's, a removed user's) keeps it mounted.
    """
    prefix = os.path.realpath(under).rstrip("/") + "/"
    swept = []
    for entry in loopfs.all_mounts():
        folder = Path(entry.target)
        image = loopfs.image_for(folder)
        if not entry.target.startswith(prefix) or loopfs.backing_file(entry.source) != str(image):
            continue
        try:
            if _unmount_if_stale(folder, image):
                swept.append(folder)
        except loopfs.LoopError:
            continue  # busy: a process works in it after all
    return swept


def attach_volume(cm: Any, kernel_manager: Any = None) -> None:
    """Cap the workspace of the contents manager ``cm`` now, before any kernel mounts it."""
    volume: WorkspaceVolume = cm.volume
    volume.kernel_manager = kernel_manager
    volume.attach(cm.workspace_dir, cm.quota_bytes)
    if volume.mechanism == "sync":
        IOLoop.current().add_callback(volume.watch)
