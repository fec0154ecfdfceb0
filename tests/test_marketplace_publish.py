"""Publishing to the extension store (issue #17): signatures, the scan, quarantine, yank, semver.

Packages are real zips signed with real Ed25519 keys; the server is a real Jupyter Server
with the extension, its packages in moto's S3 server; the accepted package's whole flow
runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from jupyter_ide.db.models import (
    Extension,
    MarketplacePackage,
    MarketplaceQuarantine,
)
from jupyter_ide.marketplace.signing import sign

from .test_marketplace_common import (
    Client,
    add_key,
    audit_events,
    count_rows,
    example,
    make_publisher,
    manifest,
    marketplace,
    marketplace_config,
    package,
    raw_zip,
    stored_blobs,
    tgz,
)

LIMIT = 64 * 1024


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], s3_bucket: str, moto_server: Any
) -> dict[str, Any]:
    """Packages in S3 (moto), a 64 KiB package limit and a 1 MiB unpacked limit."""
    config = marketplace_config(
        jp_server_config, max_package_bytes=LIMIT, max_unpacked_bytes=1024 * 1024
    )
    config["IDESettings"] = {
        **config["IDESettings"],
        "storage_url": f"s3://{s3_bucket}/ide",
        "s3_endpoint_url": moto_server.url,
    }
    return config


@pytest.fixture
def ide_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite, or PostgreSQL for the test parametrized with it."""
    if getattr(request, "param", "sqlite") == "postgresql":
        return str(request.getfixturevalue("pg_database_url"))
    return f"sqlite:///{tmp_path / 'state' / 'ide.db'}"


@pytest.mark.parametrize("ide_db_url", ["sqlite", "postgresql"], indirect=True)
async def test_a_signed_package_is_published_served_and_audited(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """A signed example is stored in S3, listed, detailed and downloaded with its hash."""
    client = Client(jp_fetch)
    alan = await make_publisher(client, "cs-dept", "alan")
    data = example("word-count", "cs-dept")
    result = await alan.published(client, data)
    sha = hashlib.sha256(data).hexdigest()
    assert result["name"] == "cs-dept.word-count"
    assert result["sha256"] == sha
    assert result["integrity"] == "sha256-" + base64.b64encode(bytes.fromhex(sha)).decode()
    assert await marketplace(jp_serverapp).store.exists(sha)
    assert "s3://" in marketplace(jp_serverapp).store.describe()

    detail = await client.ok("sam", "GET", "packages", "cs-dept.word-count")
    assert detail["version"] == "1.0.0"
    assert detail["permissions"] == ["editor.read", "ui.statusbar"]
    assert detail["versions"][0]["integrity"] == result["integrity"]
    assert detail["versions"][0]["signed_by"] == [alan.key_id]

    path = ("packages", "cs-dept.word-count", "versions", "1.0.0", "download")
    code, body, headers = await client.call("sam", "GET", *path)
    assert code == 200 and body == data
    assert headers["X-Content-SHA256"] == sha
    assert headers["Digest"] == "sha-256=" + base64.b64encode(bytes.fromhex(sha)).decode()
    found = await client.ok("ada", "GET", "packages", q="word")
    assert [r["name"] for r in found["results"]] == ["cs-dept.word-count"]
    assert found["results"][0]["downloads"] == 1

    events = [e for e, _, _ in await audit_events(jp_serverapp)]
    for event in ("namespace_requested", "namespace_decided", "key_added", "published"):
        assert f"marketplace_{event}" in events
    # A version is never replaced, even by the same bytes signed again.
    code, body, _ = await alan.publish(client, data)
    assert code == 409, body


def _symlink_zip(namespace: str) -> bytes:
    link = zipfile.ZipInfo("themes/link.json")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    meta = manifest(namespace, "linky")
    return raw_zip(
        [
            ("manifest.json", json.dumps(meta).encode()),
            ("main.js", b"export {};"),
            (link, b"/etc/passwd"),
        ]
    )


async def test_refused_packages_store_nothing(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Every refusal of the issue answers with a clear error and stores nothing."""
    client = Client(jp_fetch)
    alan = await make_publisher(client, "cs-dept", "alan")
    eve = await make_publisher(client, "eve-tools", "eve")
    good = package(manifest("cs-dept", "good"))
    sha = hashlib.sha256(good).hexdigest()

    # Unsigned.
    msg = await client.refused(400, "alan", "POST", "packages", raw=good, key=alan.key_id)
    assert "unsigned" in msg
    # Tampered: signed, then one byte changed.
    signature = base64.b64encode(alan.key.sign(b"x")).decode()
    tampered = bytearray(good)
    tampered[-30] ^= 1
    code, body, _ = await client.call(
        "alan",
        "POST",
        "packages",
        raw=bytes(tampered),
        signature=sign(alan.key, sha),
        key=alan.key_id,
    )
    assert code == 403 and "does not verify" in body["message"], body
    # Signed with a private key that is not the one named.
    code, body, _ = await alan.publish(client, good, sign_with=Ed25519PrivateKey.generate())
    assert code == 403 and "does not verify" in body["message"], body
    # Wrong key: eve's key (valid for her namespace) signs a package of alan's namespace.
    code, body, _ = await eve.publish(client, good)
    assert code == 403 and "namespace 'eve-tools'" in body["message"], body
    # Unknown key.
    code, body, _ = await client.call(
        "alan", "POST", "packages", raw=good, signature=signature, key="0" * 32
    )
    assert code == 403 and "Unknown key" in body["message"], body
    # Revoked key.
    old = await add_key(client, alan)
    await client.ok("alan", "DELETE", "publishers", "cs-dept", "keys", old.key_id)
    code, body, _ = await old.publish(client, good)
    assert code == 403 and "revoked" in body["message"], body
    # Not the namespace's owner, though signed by its key.
    code, body, _ = await alan.publish(client, good, who="eve")
    assert code == 403 and "not yours" in body["message"], body
    # A student may not publish at all.
    code, body, _ = await alan.publish(client, good, who="sam")
    assert code == 403, body

    nothing_quarantined = await count_rows(jp_serverapp, MarketplaceQuarantine)
    assert nothing_quarantined == 0
    assert [key async for key, _ in marketplace(jp_serverapp).held.keys()] == []

    # Scan failures: refused, and quarantined with the reason.
    scanned = {
        "oversize": (package(manifest("cs-dept", "big"), {"blob.bin": os.urandom(LIMIT)}), 413),
        "zip bomb (ratio)": (
            package(manifest("cs-dept", "bomb"), {"zeros.txt": b"\0" * 900_000}),
            422,
        ),
        "gzip bomb (total)": (tgz({"package/zeros": b"\0" * 30_000_000}), 413),
        "path traversal": (
            raw_zip([("manifest.json", b"{}"), ("../../evil.js", b"alert(1)")]),
            422,
        ),
        "absolute path": (raw_zip([("/etc/cron.d/x", b"* * * * * root id")]), 422),
        "symlink": (_symlink_zip("cs-dept"), 422),
        "invalid manifest": (
            package(manifest("cs-dept", "bad", permissions=["network.all"])),
            422,
        ),
        "manifest not JSON": (pack_raw({"manifest.json": b"{not json"}), 422),
        "missing main": (
            pack_raw({"manifest.json": json.dumps(manifest("cs-dept", "x")).encode()}),
            422,
        ),
        "not an archive": (b"hello, I am not a zip", 422),
    }
    reasons = {
        "oversize": "over the limit",
        "zip bomb (ratio)": "zip bomb",
        "gzip bomb (total)": "zip bomb",
        "path traversal": "path traversal",
        "absolute path": "absolute path",
        "symlink": "symbolic link",
        "invalid manifest": "permissions[0]",
        "manifest not JSON": "not valid JSON",
        "missing main": "does not hold",
        "not an archive": "neither a zip",
    }
    for case, (data, status) in scanned.items():
        code, body, _ = await alan.publish(client, data)
        assert code == status, (case, code, body)
        assert reasons[case] in body["message"], (case, body)
        assert body["message"].startswith("Quarantined"), (case, body)

    # Forbidden permission for the namespace (an admin's rule).
    await client.ok(
        "root", "PATCH", "publishers", "cs-dept", body={"forbidden_permissions": ["run.code"]}
    )
    runner = package(manifest("cs-dept", "runner", permissions=["run.code"]))
    code, body, _ = await alan.publish(client, runner)
    assert code == 422 and "may not ask for run.code" in body["message"], body

    assert await count_rows(jp_serverapp, Extension) == 0
    assert await count_rows(jp_serverapp, MarketplacePackage) == 0
    assert await stored_blobs(jp_serverapp) == []
    quarantine = (await client.ok("root", "GET", "quarantine"))["quarantine"]
    assert len(quarantine) == len(scanned) + 1
    assert {q["namespace"] for q in quarantine} == {"cs-dept"}
    assert any("run.code" in q["reason"] and q["name"] == "cs-dept.runner" for q in quarantine)
    # Only admins review the quarantine.
    await client.refused(403, "alan", "GET", "quarantine")
    entry = str(quarantine[0]["id"])
    await client.refused(400, "root", "PATCH", "quarantine", entry, body={"reviewed": "yes"})
    await client.refused(404, "root", "PATCH", "quarantine", "999999", body={"reviewed": True})
    reviewed = await client.ok("root", "PATCH", "quarantine", entry, body={"reviewed": True})
    assert reviewed["reviewed_by"] == "root"
    events = [e for e, _, _ in await audit_events(jp_serverapp)]
    assert events.count("marketplace_quarantined") == len(scanned) + 1
    assert "marketplace_publish_refused" in events
    # The same checks see what an accepted package stores.
    await alan.published(client, good)
    assert await stored_blobs(jp_serverapp) == [sha]
    assert await count_rows(jp_serverapp, Extension) == 1


def pack_raw(files: dict[str, bytes]) -> bytes:
    """A zip of exactly these files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()
