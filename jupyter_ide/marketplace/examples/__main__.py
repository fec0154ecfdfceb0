"""`python -m jupyter_ide.marketplace.examples build`: pack and sign the example extensions."""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from ..signing import raw_public_key
from . import build_all


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """Read the PEM private key at ``path``, or create one there (mode 0600)."""
    if path.exists():
        key = load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise SystemExit(f"{path} is not an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return key


def main(argv: list[str] | None = None) -> int:
    """Build the examples into --out: <name>-<version>.zip and an index.json to publish them."""
    parser = argparse.ArgumentParser(prog="python -m jupyter_ide.marketplace.examples")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("build", help="pack and sign the four example extensions")
    cmd.add_argument("--out", type=Path, default=Path("dist/extensions"))
    cmd.add_argument("--key", type=Path, help="Ed25519 private key (PEM); made when missing")
    cmd.add_argument("--namespace", default="examples")
    args = parser.parse_args(argv)
    key = load_or_create_key(args.key or args.out / "signing-key.pem")
    args.out.mkdir(parents=True, exist_ok=True)
    index = []
    for built in build_all(key, args.namespace):
        path = args.out / f"{built.name}-{built.version}.zip"
        path.write_bytes(built.data)
        index.append(
            {
                "file": path.name,
                "name": built.name,
                "version": built.version,
                "sha256": built.sha256,
                "signature": built.signature,
                "key": built.key_id,
            }
        )
        print(f"{path}  sha256 {built.sha256}")
    public = base64.b64encode(raw_public_key(key.public_key())).decode("ascii")
    (args.out / "index.json").write_text(
        json.dumps({"public_key": public, "packages": index}, indent=2) + "\n"
    )
    print(f"public key (register it for the namespace {args.namespace!r}): {public}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
