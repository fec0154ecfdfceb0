"""The compile cache's leases and private builds, on the real file system (no Docker needed):
an entry a job uses is never evicted, whoever holds it; uncached builds stay out of the cache."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

from jupyter_ide.kernels.judge.compile_cache import (
    MARKER,
    RESCAN_EVERY,
    Build,
    CompileCache,
    unpack_build,
)


def build_tar(files: dict[str, tuple[bytes, int]]) -> bytes:
    """A tar of a build folder: name -> (content, mode)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, (data, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def entries(cache: CompileCache) -> set[str]:
    """The keys the cache holds."""
    return {p.name for p in cache.root.glob("??/*")}


KEYS = [c * 64 for c in "abcd"]


def test_a_leased_entry_is_never_evicted_and_goes_once_released(tmp_path: Path) -> None:
    """Over a one-byte cap, entries in use stay; released ones go at the next store."""
    cache = CompileCache(tmp_path / "cache", max_bytes=1)
    tar = build_tar({"main": (b"\x7fELF" + b"x" * 100, 0o755)})
    first = cache.put_tar(KEYS[0], tar)
    second = cache.put_tar(KEYS[1], tar)
    assert entries(cache) == {KEYS[0], KEYS[1]}  # both leased: over the cap, still there
    assert (first.path / "main").read_bytes().startswith(b"\x7fELF")
    again = cache.lease(KEYS[0])  # a second job on the same entry
    assert again is not None
    first.release()
    cache.put_tar(KEYS[2], tar).release()
    assert KEYS[0] in entries(cache)  # the second job still holds it
    again.release()
    third = cache.put_tar(KEYS[3], tar)
    assert entries(cache) == {KEYS[1], KEYS[3]}  # released entries went; leased ones stayed
    assert cache.lease(KEYS[0]) is None
    second.release()
    third.release()
    cache.evict()
    assert entries(cache) == set()
    assert not list(cache.root.glob(".*"))  # no staging or trash left behind


def test_an_entry_leased_by_another_server_process_is_never_evicted(tmp_path: Path) -> None:
    """Servers sharing a data dir: a lease held by another process protects the entry too."""
    cache = CompileCache(tmp_path / "cache", max_bytes=1)
    cache.put_tar(KEYS[0], build_tar({"a.out": (b"x" * 64, 0o755)})).release()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys\n"
            "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
            "fcntl.flock(fd, fcntl.LOCK_SH)\n"
            "print('held', flush=True)\n"
            "sys.stdin.read()\n",
            str(cache.root / KEYS[0][:2] / KEYS[0] / MARKER),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        cache.evict()
        assert entries(cache) == {KEYS[0]}
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        assert holder.stdout is not None
        holder.stdout.close()
    cache.evict()
    assert entries(cache) == set()


def test_uncached_builds_live_in_the_jobs_own_folder(tmp_path: Path) -> None:
    """A cache-off build is unpacked beside the cache, executable, and removed on release."""
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    tar = build_tar({"main": (b"binary", 0o700), "src/main.c": (b"int main;", 0o600)})
    builds = [Build.private(jobs, tar) for _ in range(2)]
    assert builds[0].path != builds[1].path and not builds[0].cached
    for build in builds:
        assert build.path.parent == jobs
        assert (build.path / "main").stat().st_mode & 0o777 == 0o755
        assert (build.path / "src" / "main.c").stat().st_mode & 0o777 == 0o644
    builds[0].release()
    assert not builds[0].path.exists() and (builds[1].path / "main").is_file()
    builds[1].release()
    assert list(jobs.iterdir()) == []


def test_a_hostile_build_tar_cannot_write_outside_its_folder(tmp_path: Path) -> None:
    """The tar comes from the sandbox: escaping names and links are refused, not followed."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in ("../escaped", "ok"):
            info = tarfile.TarInfo(name)
            info.size = 2
            archive.addfile(info, io.BytesIO(b"hi"))
        link = tarfile.TarInfo("link")
        link.type, link.linkname = tarfile.SYMTYPE, str(tmp_path / "outside")
        archive.addfile(link)
    folder = tmp_path / "build" / "entry"
    try:
        unpack_build(buffer.getvalue(), folder)
    except tarfile.TarError:
        pass  # refusing the whole archive is fine too
    assert not (tmp_path / "build" / "escaped").exists()
    assert not (folder / "link").is_symlink()


def test_stores_under_the_cap_do_not_measure_the_whole_folder(tmp_path: Path) -> None:
    """Under the cap a store adds its own size; past it (or every RESCAN_EVERY stores) the
    folder is measured again and the least recently used unleased entries go."""
    tar = build_tar({"a.out": (b"x" * 1000, 0o755)})
    keys = [f"{i:064x}" for i in range(RESCAN_EVERY + 1)]
    cache = CompileCache(tmp_path / "cache", max_bytes=10_500)
    for key in keys[:10]:
        cache.put_tar(key, tar).release()
    assert cache.scans == 1 and len(entries(cache)) == 10  # 10 x 1000 bytes: under the cap
    cache.put_tar(keys[10], tar).release()  # over the cap: measured, the oldest one goes
    assert cache.scans == 2 and entries(cache) == set(keys[1:11])

    roomy = CompileCache(tmp_path / "roomy", max_bytes=1 << 30)
    for key in keys:
        roomy.put_tar(key, tar).release()
    assert roomy.scans == 2  # the first store and the RESCAN_EVERY-th
    assert len(entries(roomy)) == len(keys)
