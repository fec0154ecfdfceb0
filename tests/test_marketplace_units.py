"""The marketplace's pure parts: archive hygiene, manifest schema, semver, signatures, calls."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from jupyter_ide.marketplace import versions
from jupyter_ide.marketplace.archive import ScanLimits, check_entry_name, scan
from jupyter_ide.marketplace.errors import MarketplaceError, ScanError
from jupyter_ide.marketplace.examples import EXAMPLES, build, pack
from jupyter_ide.marketplace.manifest import check_manifest, validator
from jupyter_ide.marketplace.runtime_api import METHODS, decide
from jupyter_ide.marketplace.signing import (
    decode_b64,
    key_id_of,
    parse_public_key,
    raw_public_key,
    sign,
    verifies,
)

from .test_marketplace_common import manifest

LIMITS = ScanLimits(max_package_bytes=100_000, max_unpacked_bytes=500_000, max_ratio=50)


def test_entry_names_that_escape_are_refused() -> None:
    """Traversal, absolute, drive, backslash and NUL names are refused; others normalised."""
    assert check_entry_name("./a/b.json") == "a/b.json"
    for bad in ("../x", "a/../../x", "/etc/passwd", "C:/x", "a\\b", "a\x00b", ""):
        with pytest.raises(ScanError):
            check_entry_name(bad)


def test_zip_bombs_are_stopped_by_ratio_and_by_total() -> None:
    """One very compressible entry (ratio) and many moderate ones (total) are both refused."""
    ratio_bomb = pack({"manifest.json": b"{}", "z": b"\0" * 200_000})
    with pytest.raises(ScanError, match="times its size"):
        scan(ratio_bomb, LIMITS)
    parts = {f"f{i}": bytes(range(256)) * 40 for i in range(60)}  # ~600 KB, low ratio each
    with pytest.raises(ScanError, match="over the limit"):
        scan(pack(parts), ScanLimits(max_package_bytes=10**7, max_unpacked_bytes=500_000))


def test_a_zip_that_lies_about_its_sizes_is_refused() -> None:
    """An entry whose bytes are not what the directory declares fails the CRC/size check."""
    data = bytearray(pack({"a.txt": b"hello world" * 10}))
    data[data.index(b"a.txt") + 5 + 10] ^= 0xFF  # damage the compressed bytes
    with pytest.raises(ScanError):
        scan(bytes(data), LIMITS)


def test_tar_links_and_devices_are_refused() -> None:
    """An npm tarball with a symlink or a hard link is refused."""
    for kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            info = tarfile.TarInfo("package/theme.json")
            info.type = kind
            info.linkname = "/etc/shadow"
            tar.addfile(info)
        with pytest.raises(ScanError, match="link"):
            scan(buffer.getvalue(), LIMITS)


def test_duplicate_and_encrypted_entries() -> None:
    """The same name twice is refused."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf, pytest.warns(UserWarning):
        zf.writestr("a", b"1")
        zf.writestr("a", b"2")
    with pytest.raises(ScanError, match="twice"):
        scan(buffer.getvalue(), LIMITS)


def test_manifest_schema() -> None:
    """The shipped schema is valid; the examples pass; each kind of mistake is named."""
    validator()
    check_manifest(manifest("cs", "ok"))
    cases = {
        "version": manifest("cs", "x", "1.0"),
        "permissions[0]": manifest("cs", "x", permissions=["net"]),
        "name": manifest("cs", "Bad Name"),
        "main": manifest("cs", "x", main="../x.js"),
        "icon": manifest("cs", "x", icon="/abs.svg"),
        "the manifest": {**manifest("cs", "x"), "extra": 1},
        "engines": {k: v for k, v in manifest("cs", "x").items() if k != "engines"},
    }
    for where, bad in cases.items():
        with pytest.raises(ScanError, match="invalid at") as caught:
            check_manifest(bad)
        assert where in caught.value.message, (where, caught.value.message)
    panel = manifest("cs", "x", contributes={"panels": [{"id": "p", "title": "P"}]})
    with pytest.raises(ScanError, match=r"ui\.panel"):
        check_manifest(panel)


def test_semver_precedence() -> None:
    """Semver 2.0.0 precedence, pre-releases included, build metadata ignored."""
    order = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.2.0",
        "1.10.0",
    ]
    assert versions.ordered(reversed(order)) == list(reversed(order))
    assert versions.newest(["1.0.0", "2.0.0-rc.1"]) == "1.0.0"
    assert versions.newest(["2.0.0-rc.1"]) == "2.0.0-rc.1"
    assert versions.newest([]) is None
    assert versions.parse("1.0.0+a") == versions.parse("1.0.0+b")
    with pytest.raises(MarketplaceError):
        versions.parse("v1")


def test_signatures() -> None:
    """A signature verifies only for its key and its exact hash."""
    key = Ed25519PrivateKey.generate()
    raw = raw_public_key(key.public_key())
    sha = hashlib.sha256(b"package").hexdigest()
    signature = decode_b64(sign(key, sha), "signature", 64)
    assert verifies(raw, sha, signature)
    assert not verifies(raw, hashlib.sha256(b"packagf").hexdigest(), signature)
    other = raw_public_key(Ed25519PrivateKey.generate().public_key())
    assert not verifies(other, sha, signature)
    # A signature over the bare digest (no context) does not count.
    assert not verifies(raw, sha, key.sign(sha.encode()))
    assert len(key_id_of(raw)) == 32
    for bad in ("", "!!", "AAAA"):
        with pytest.raises(MarketplaceError):
            parse_public_key(bad)


def test_examples_build_reproducibly() -> None:
    """The same sources and key give the same bytes and hash; each example has its files."""
    key = Ed25519PrivateKey.generate()
    for name in EXAMPLES:
        first, second = build(name, key, "examples"), build(name, key, "examples")
        assert first.data == second.data and first.sha256 == second.sha256
        files = scan(first.data, ScanLimits()).files
        meta = json.loads(files["manifest.json"])
        if "main" in meta:
            assert len(files[meta["main"]]) < 2000 and "api.js" in files


def test_runtime_calls_are_checked_against_grants() -> None:
    """Deny without the grant, allow with it, prompt for sensitive ones; bad params denied."""
    install = {
        "enabled": True,
        "permissions": ["editor.read", "workspace.read", "run.code", "ui.statusbar"],
        "granted": ["editor.read", "workspace.read"],
    }
    assert decide(install, "editor.getText").decision == "allow"
    assert decide(install, "statusbar.set", {"text": "3 words"}).decision == "deny"
    assert decide(install, "run.code", {"source": "print(1)"}).decision == "prompt"
    assert decide(install, "editor.setText", {"text": "x"}).reason.endswith("declare editor.write")
    assert decide(install, "fetch").decision == "deny"
    assert decide(install, "workspace.readFile", {"path": "../secret"}).decision == "deny"
    assert decide(install, "workspace.readFile", {"path": "/etc/passwd"}).decision == "deny"
    assert decide(install, "workspace.readFile", {"path": "a/b.md"}).decision == "allow"
    assert (
        decide(
            {**install, "granted": ["editor.read", "workspace.read", "run.code"]},
            "run.code",
            {"source": "1"},
        ).decision
        == "allow"
    )
    assert decide({**install, "enabled": False, "notice": "revoked"}, "editor.getText").reason == (
        "revoked"
    )
    every = {p for p in METHODS.values()}
    from jupyter_ide.marketplace.manifest import PERMISSIONS

    assert every == set(PERMISSIONS)


def test_every_runtime_call_is_denied_without_its_grant_and_allowed_with_it() -> None:
    """Each method of the message API, one by one, against its own permission."""
    from jupyter_ide.marketplace.manifest import SENSITIVE

    params = {
        "workspace.readFile": {"path": "a.py"},
        "workspace.writeFile": {"path": "a.py", "content": "x"},
        "workspace.list": {"path": ""},
        "statusbar.set": {"id": "a", "text": "b"},
        "editor.setText": {"text": "x"},
        "run.code": {"source": "1"},
        "ai.chat": {"prompt": "hi"},
    }
    for method, permission in METHODS.items():
        others = [p for p in set(METHODS.values()) if p != permission]
        declared = {"enabled": True, "permissions": sorted(set(METHODS.values()))}
        without = decide({**declared, "granted": others}, method, params.get(method, {}))
        expected = "prompt" if permission in SENSITIVE else "deny"
        assert (without.decision, without.permission) == (expected, permission), method
        granted = decide({**declared, "granted": [permission]}, method, params.get(method, {}))
        assert granted.decision == "allow", (method, granted)
        undeclared = decide(
            {"enabled": True, "permissions": others, "granted": [permission]},
            method,
            params.get(method, {}),
        )
        assert undeclared.decision == "deny", method


def test_the_examples_build_command(tmp_path: Path) -> None:
    """`python -m jupyter_ide.marketplace.examples build` writes four signed packages."""
    from jupyter_ide.marketplace.examples.__main__ import main

    assert main(["build", "--out", str(tmp_path), "--namespace", "demo"]) == 0
    index = json.loads((tmp_path / "index.json").read_text())
    raw = parse_public_key(index["public_key"])
    assert [p["name"] for p in index["packages"]] == [f"demo.{n}" for n in EXAMPLES]
    for entry in index["packages"]:
        data = (tmp_path / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert verifies(raw, entry["sha256"], decode_b64(entry["signature"], "signature", 64))
        assert entry["key"] == key_id_of(raw)
    # The key is kept (owner-only) and reused: a second build signs with the same key.
    assert oct((tmp_path / "signing-key.pem").stat().st_mode & 0o777) == "0o600"
    assert main(["build", "--out", str(tmp_path), "--namespace", "demo"]) == 0
    assert json.loads((tmp_path / "index.json").read_text())["public_key"] == index["public_key"]
