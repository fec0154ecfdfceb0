"""Archive hygiene on publish: size limits, zip bombs, path traversal, links, duplicates."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from .errors import ScanError

MiB = 1024 * 1024


@dataclass(frozen=True)
class ScanLimits:
    """What a package may be: its size, its unpacked size, its compression ratio, entries."""

    max_package_bytes: int = 5 * MiB
    max_unpacked_bytes: int = 20 * MiB
    max_ratio: float = 100.0  # unpacked / packed, for the whole archive and each entry
    max_entries: int = 2000


@dataclass
class Archive:
    """A scanned archive: its format and every regular file's bytes by path."""

    kind: str  # zip | tar
    files: dict[str, bytes] = field(default_factory=dict)


def check_entry_name(name: str) -> str:
    """Return a safe relative POSIX path for an archive entry; ScanError otherwise."""
    if not name or "\x00" in name:
        raise ScanError("the archive has an entry with an empty or NUL-containing name")
    if "\\" in name:
        raise ScanError(f"the archive entry {name!r} uses backslashes (path trickery)")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ScanError(f"the archive entry {name!r} has an absolute path")
    parts = PurePosixPath(name).parts
    if ".." in parts:
        raise ScanError(f"the archive entry {name!r} points outside the package (path traversal)")
    return "/".join(p for p in parts if p not in ("", "."))


def scan(data: bytes, limits: ScanLimits) -> Archive:
    """Check and unpack a zip (or a gzip'd tar, an npm package) within ``limits``."""
    if len(data) > limits.max_package_bytes:
        raise ScanError(
            f"the package is {len(data)} bytes, over the limit of {limits.max_package_bytes}",
            413,
        )
    if data[:4] == b"PK\x03\x04":
        return _scan_zip(data, limits)
    if data[:2] == b"\x1f\x8b":
        return _scan_tar(data, limits)
    raise ScanError("the package is neither a zip archive (.zip, .vsix) nor a .tgz")


def _check_total(total: int, packed: int, limits: ScanLimits) -> None:
    """Refuse archives that unpack too large, or with a bomb's compression ratio."""
    if total > limits.max_unpacked_bytes:
        raise ScanError(
            f"the package unpacks to {total} bytes, over the limit of "
            f"{limits.max_unpacked_bytes} (a zip bomb?)",
            413,
        )
    if packed and total / packed > limits.max_ratio:
        raise ScanError(
            f"the package unpacks to {total / packed:.0f} times its size, over the limit of "
            f"{limits.max_ratio:.0f} (a zip bomb?)",
            reviewable=True,
        )


def _scan_zip(data: bytes, limits: ScanLimits) -> Archive:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise ScanError(f"the package is not a valid zip archive: {e}") from e
    if len(infos) > limits.max_entries:
        raise ScanError(f"the package has {len(infos)} entries, over {limits.max_entries}")
    archive = Archive("zip")
    total = 0
    for info in infos:
        name = check_entry_name(info.filename)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise ScanError(f"the archive entry {info.filename!r} is a symbolic link")
        if info.flag_bits & 0x1:
            raise ScanError(f"the archive entry {info.filename!r} is encrypted")
        if info.is_dir():
            continue
        if name in archive.files:
            raise ScanError(f"the archive has {name!r} twice")
        total += info.file_size
        _check_total(total, len(data), limits)
        if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
            raise ScanError(
                f"the archive entry {name!r} unpacks to "
                f"{info.file_size / info.compress_size:.0f} times its size (a zip bomb?)",
                reviewable=True,
            )
        archive.files[name] = b""  # reserve the name; read below
    for info in infos:
        if info.is_dir():
            continue
        name = check_entry_name(info.filename)
        try:
            # zipfile reads at most the declared size and checks the CRC at the end.
            with zf.open(info) as entry:
                content = entry.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, OSError, NotImplementedError, EOFError) as e:
            raise ScanError(f"the archive entry {name!r} is damaged: {e}") from e
        if len(content) != info.file_size:
            raise ScanError(f"the archive entry {name!r} is not the size it declares")
        archive.files[name] = content
    return archive


def _gunzip(data: bytes, limits: ScanLimits) -> bytes:
    """Decompress within the unpacked limit, never past it (a gzip bomb stops early)."""
    inflater = zlib.decompressobj(wbits=31)
    out = bytearray()
    try:
        chunk = inflater.decompress(data, limits.max_unpacked_bytes + 1)
        out += chunk
        while inflater.unconsumed_tail and len(out) <= limits.max_unpacked_bytes:
            out += inflater.decompress(
                inflater.unconsumed_tail, limits.max_unpacked_bytes + 1 - len(out)
            )
    except zlib.error as e:
        raise ScanError(f"the package is not a valid gzip file: {e}") from e
    # Only the size here: a tar's zero padding would inflate the ratio of small packages;
    # the ratio is checked on the files' sizes once the members are read.
    _check_total(len(out), 0, limits)
    return bytes(out)


def _scan_tar(data: bytes, limits: ScanLimits) -> Archive:
    raw = _gunzip(data, limits)
    archive = Archive("tar")
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            members = tar.getmembers()
            if len(members) > limits.max_entries:
                raise ScanError(
                    f"the package has {len(members)} entries, over {limits.max_entries}"
                )
            for member in members:
                name = check_entry_name(member.name)
                if member.isdir():
                    continue
                if not member.isfile():
                    raise ScanError(
                        f"the archive entry {member.name!r} is a link or a device, not a file"
                    )
                if name in archive.files:
                    raise ScanError(f"the archive has {name!r} twice")
                extracted = tar.extractfile(member)
                archive.files[name] = extracted.read() if extracted is not None else b""
    except (tarfile.TarError, EOFError) as e:
        raise ScanError(f"the package is not a valid tar archive: {e}") from e
    _check_total(sum(len(d) for d in archive.files.values()), len(data), limits)
    return archive
