"""A size-capped ext4 file system in a sparse image file, loop-mounted at a folder (root only).

Blocking calls to util-linux and e2fsprogs (``mount``, ``umount``, ``losetup``, ``mkfs.ext4``,
``resize2fs``); run them off the event loop. ``mount -o loop`` sets the loop device to clear
itself once nothing uses the file system any more, and re-uses the device already attached to
the same image, so a mount made while a kernel container still holds the old one (after a
restart) is the very same file system, never a second writer on one image.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# nosuid/nodev: nothing code leaves here is a set-uid program or a device for the host.
# exec stays: students compile and run programs in their workspace (`gcc a.c && ./a.out`),
# which the sandbox allows in /tmp anyway. discard gives deleted blocks back to the host.
MOUNT_OPTIONS = "loop,nosuid,nodev,noatime,discard"
# No reserved blocks (the server, not code, runs as root here); the journal and inode tables
# read as zeros from a sparse file, so they need not be written out.
MKFS_ARGS = ("-q", "-F", "-T", "default", "-b", "4096", "-m", "0", "-L", "ide-workspace")
MKFS_EXTENDED = "lazy_itable_init=1,lazy_journal_init=1,root_owner=0:0"
SBIN_PATH = "/usr/sbin:/sbin:/usr/bin:/bin"
TIMEOUT = 120.0
MIB = 1024 * 1024


class LoopError(RuntimeError):
    """A tool failed; the message says which and what it printed."""


@dataclass(frozen=True)
class MountEntry:
    """One line of /proc/self/mountinfo that matters here."""

    target: str
    source: str
    fstype: str
    options: str


def _unescape(field: str) -> str:
    """Decode mountinfo's octal escapes (a space is written as backslash 040)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def all_mounts() -> list[MountEntry]:
    """Return every mount this process sees, in mount order."""
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            left, _, right = line.rstrip("\n").partition(" - ")
            fields = left.split(" ")
            rest = right.split(" ")
            if len(fields) >= 6 and len(rest) >= 2:
                found.append(
                    MountEntry(_unescape(fields[4]), _unescape(rest[1]), rest[0], fields[5])
                )
    return found


def mounts_at(folder: Path) -> list[MountEntry]:
    """Return the mounts whose mount point is ``folder``, the one on top last."""
    target = os.path.realpath(folder)
    return [entry for entry in all_mounts() if entry.target == target]


def backing_file(device: str) -> str | None:
    """Return the image file behind the loop device ``/dev/loopN`` (None for anything else)."""
    name = os.path.basename(device)
    if not re.fullmatch(r"loop\d+", name):
        return None
    try:
        text = Path(f"/sys/block/{name}/loop/backing_file").read_text(encoding="utf-8")
    except OSError:
        return None
    return text.rstrip("\n").removesuffix(" (deleted)")


def tool(name: str) -> str | None:
    """Return the path of a system tool (sbin folders included), or None."""
    return shutil.which(name, path=f"{os.environ.get('PATH', '')}:{SBIN_PATH}")


def _run(*argv: str, ok: tuple[int, ...] = (0,)) -> str:
    """Run a tool; raise LoopError with what it printed when it exits with another code."""
    path = tool(argv[0])
    if path is None:
        raise LoopError(f"{argv[0]} is not installed (Debian: util-linux, e2fsprogs)")
    try:
        done = subprocess.run(
            [path, *argv[1:]], capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise LoopError(f"{argv[0]} failed: {e}") from e
    if done.returncode not in ok:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise LoopError(f"{' '.join(argv[:1])} failed: {said[-1] if said else done.returncode}")
    return done.stdout


def create_image(image: Path, size: int) -> None:
    """Make a sparse image file of ``size`` bytes holding an empty ext4 file system."""
    temp = image.with_name(image.name + ".new")
    temp.unlink(missing_ok=True)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.ftruncate(fd, size)
    finally:
        os.close(fd)
    try:
        _run("mkfs.ext4", *MKFS_ARGS, "-E", MKFS_EXTENDED, str(temp))
        os.replace(temp, image)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def mount_image(image: Path, folder: Path) -> None:
    """Mount the image's file system at ``folder``."""
    _run("mount", "-t", "ext4", "-o", MOUNT_OPTIONS, str(image), str(folder))


def unmount(folder: Path) -> None:
    """Unmount ``folder`` (the loop device goes once no container holds the file system)."""
    _run("umount", str(folder))


def grow_online(image: Path, device: str, size: int) -> None:
    """Grow the mounted file system on ``device`` (a loop of ``image``) to ``size`` bytes.

    The kernel wants CAP_SYS_RESOURCE for this; without it the image is grown but the file
    system keeps its size until ``resize_offline`` runs at a start where nothing holds it.
    """
    with open(image, "r+b") as f:
        if os.fstat(f.fileno()).st_size < size:
            os.ftruncate(f.fileno(), size)
    _run("losetup", "--set-capacity", device)
    _run("resize2fs", device)


def resize_offline(image: Path, size: int) -> None:
    """Make the unmounted file system in ``image`` ``size`` bytes long (grow or shrink).

    Only when no loop device holds the image (``attached`` is empty): a file system still
    mounted anywhere must never be changed under it.
    """
    _run("e2fsck", "-f", "-p", str(image), ok=(0, 1))  # resize2fs wants a checked file system
    with open(image, "r+b") as f:
        if os.fstat(f.fileno()).st_size < size:
            os.ftruncate(f.fileno(), size)
    _run("resize2fs", str(image), f"{size // 1024}K")
    with open(image, "r+b") as f:
        if os.fstat(f.fileno()).st_size > size:
            os.ftruncate(f.fileno(), size)


def attached(image: Path) -> list[str]:
    """Return the loop devices backed by ``image``: it is in use (maybe by an old container)."""
    target = os.path.realpath(image)
    found = []
    for entry in Path("/sys/block").glob("loop*"):
        if backing_file(f"/dev/{entry.name}") == target:
            found.append(f"/dev/{entry.name}")
    return found


def fs_size(folder: Path) -> int:
    """Bytes the file system mounted at ``folder`` can hold (data blocks, as df counts them)."""
    info = os.statvfs(folder)
    return info.f_blocks * info.f_frsize


def image_for(folder: Path) -> Path:
    """Where the image of ``folder`` lives: beside it, out of every sandbox's sight."""
    return folder.parent / f"{folder.name}~volume.ext4"


def first_guess(cap: int) -> int:
    """Return an image size whose file system holds about ``cap`` bytes (ext4 keeps 2-20%)."""
    return cap + cap // 16 + 8 * MIB


def probe(workdir: Path) -> None:
    """Make, mount, write and unmount a small volume in ``workdir``; raise when any step fails."""
    image, folder = workdir / "probe~volume.ext4", workdir / "probe"
    folder.mkdir()
    create_image(image, 16 * MIB)
    mount_image(image, folder)
    try:
        (folder / "written").write_bytes(b"ok")
    finally:
        unmount(folder)
