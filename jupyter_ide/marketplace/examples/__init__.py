"""The four example extensions of the store, and how they are packed and signed."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..signing import key_id_of, raw_public_key, sign

HERE = Path(__file__).resolve().parent
EXAMPLES = ("word-count", "midnight-theme", "format-python", "course-helper")
API_JS = "api.js"
# A fixed time for every entry: the same sources always pack to the same bytes (and hash).
EPOCH = (2026, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Built:
    """A packed, signed example."""

    name: str
    version: str
    data: bytes
    sha256: str
    signature: str
    key_id: str


def pack(files: dict[str, bytes]) -> bytes:
    """Return a zip of ``files`` (path -> bytes), deterministic: sorted, fixed times."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[path])
    return buffer.getvalue()


def sources(name: str, namespace: str = "examples") -> dict[str, bytes]:
    """Return an example's files, its manifest's publisher set to ``namespace``."""
    folder = HERE / name
    files = {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    manifest = json.loads(files["manifest.json"])
    manifest["publisher"] = namespace
    files["manifest.json"] = json.dumps(manifest, indent=2).encode()
    if "main" in manifest:
        files[API_JS] = (HERE / API_JS).read_bytes()
    return files


def build(name: str, key: Ed25519PrivateKey, namespace: str = "examples") -> Built:
    """Pack and sign one example."""
    files = sources(name, namespace)
    data = pack(files)
    sha = hashlib.sha256(data).hexdigest()
    manifest = json.loads(files["manifest.json"])
    return Built(
        name=f"{namespace}.{manifest['name']}",
        version=manifest["version"],
        data=data,
        sha256=sha,
        signature=sign(key, sha),
        key_id=key_id_of(raw_public_key(key.public_key())),
    )


def build_all(key: Ed25519PrivateKey, namespace: str = "examples") -> list[Built]:
    """Pack and sign the four examples."""
    return [build(name, key, namespace) for name in EXAMPLES]
