"""Quarantine review (issue #17): admins list quarantined uploads, release or reject them.

The uploads are real signed zips; their bytes wait in the quarantine's own prefix of moto's
S3 server, apart from the published packages. Release publishes after review (the signature is
checked again; the hard checks still hold), reject deletes the bytes; both are audited.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest

from jupyter_ide.db.models import Extension

from .test_marketplace_common import (
    Client,
    add_key,
    audit_events,
    count_rows,
    make_publisher,
    manifest,
    marketplace,
    marketplace_config,
    package,
    raw_zip,
    stored_blobs,
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


async def held_blobs(app: Any) -> set[str]:
    """Every upload's bytes held in the quarantine's store."""
    return {key async for key, _ in marketplace(app).held.keys()}


def sha(data: bytes) -> str:
    """The sha256 hex of ``data``."""
    return hashlib.sha256(data).hexdigest()


async def test_admins_release_or_reject_quarantined_uploads(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """Held uploads are listed with reasons; release publishes, reject deletes; audited."""
    client = Client(jp_fetch)
    alan = await make_publisher(client, "cs-dept", "alan")
    spare = await add_key(client, alan)
    await client.ok(
        "root", "PATCH", "publishers", "cs-dept", body={"forbidden_permissions": ["run.code"]}
    )
    uploads = {
        # A judgement an admin may overrule: the namespace's forbidden permission.
        "runner": package(manifest("cs-dept", "runner", permissions=["run.code"])),
        # Another: a file that compresses far past the ratio (a long, repetitive word list).
        "words": package(manifest("cs-dept", "words"), {"words.txt": b"lorem ipsum " * 60_000}),
        # The same kind, but its key is revoked before the review.
        "late": package(manifest("cs-dept", "late"), {"zeros.txt": b"\0" * 600_000}),
        # Hard failures: release cannot overrule them.
        "traversal": raw_zip([("manifest.json", b"{}"), ("../../evil.js", b"alert(1)")]),
        "oversize": package(manifest("cs-dept", "big"), {"blob.bin": os.urandom(LIMIT)}),
    }
    for name, data in uploads.items():
        code, body, _ = await (spare if name == "late" else alan).publish(client, data)
        assert code in (413, 422) and body["message"].startswith("Quarantined"), (name, body)
        overrulable = name in ("runner", "words", "late")
        assert ("may release it after review" in body["message"]) is overrulable, (name, body)

    listing = (await client.ok("root", "GET", "quarantine"))["quarantine"]
    by_hash = {q["sha256"]: q for q in listing}
    entries = {name: by_hash[sha(data)] for name, data in uploads.items()}
    assert {q["status"] for q in listing} == {"pending"}
    assert "may not ask for run.code" in entries["runner"]["reason"]
    assert "zip bomb" in entries["words"]["reason"]
    assert "path traversal" in entries["traversal"]["reason"]
    assert "over the limit" in entries["oversize"]["reason"]
    assert entries["runner"]["name"] == "cs-dept.runner" and entries["runner"]["version"] == "1.0.0"
    assert {n for n, q in entries.items() if q["kept"]} == {"runner", "words", "late"}
    assert entries["late"]["key_id"] == spare.key_id
    # Held apart: nothing is published, nothing in the packages' store.
    assert await held_blobs(jp_serverapp) == {sha(uploads[n]) for n in ("runner", "words", "late")}
    assert await stored_blobs(jp_serverapp) == []
    assert await count_rows(jp_serverapp, Extension) == 0

    def at(name: str) -> str:
        return str(entries[name]["id"])

    # Only admins review.
    for who in ("alan", "sam"):
        await client.refused(403, who, "GET", "quarantine")
        await client.refused(403, who, "POST", "quarantine", at("runner"), "release", body={})
        await client.refused(403, who, "POST", "quarantine", at("runner"), "reject", body={})
    await client.refused(404, "root", "POST", "quarantine", "999999", "release", body={})
    await client.refused(404, "root", "POST", "quarantine", at("runner"), "publish", body={})
    await client.refused(404, "root", "POST", "quarantine", "1e3", "reject", body={})
    code, body, _ = await client.call("root", "GET", "quarantine", status="maybe")
    assert code == 400 and "status is one of" in body["message"], body
    await client.refused(400, "root", "POST", "quarantine", at("traversal"), "reject", body=["no"])

    # Release: published as submitted, by its author, signature and all.
    released = await client.ok("root", "POST", "quarantine", at("runner"), "release", body={})
    assert released["name"] == "cs-dept.runner" and released["sha256"] == sha(uploads["runner"])
    assert released["quarantine"]["status"] == "released"
    assert released["quarantine"]["reviewed_by"] == "root"
    detail = await client.ok("sam", "GET", "packages", "cs-dept.runner")
    assert detail["permissions"] == ["run.code"]
    assert detail["versions"][0]["signed_by"] == [alan.key_id]
    path = ("packages", "cs-dept.runner", "versions", "1.0.0", "download")
    code, data, headers = await client.call("sam", "GET", *path)
    assert code == 200 and data == uploads["runner"]
    assert headers["X-Content-SHA256"] == sha(uploads["runner"])
    msg = await client.refused(409, "root", "POST", "quarantine", at("runner"), "release", body={})
    assert "already released by root" in msg
    words = await client.ok("root", "POST", "quarantine", at("words"), "release", body={})
    assert words["name"] == "cs-dept.words"

    # What the review cannot overrule.
    msg = await client.refused(
        409, "root", "POST", "quarantine", at("traversal"), "release", body={}
    )
    assert "cannot be released" in msg and "path traversal" in msg
    msg = await client.refused(
        409, "root", "POST", "quarantine", at("oversize"), "release", body={}
    )
    assert "bytes were not kept" in msg
    await client.ok("alan", "DELETE", "publishers", "cs-dept", "keys", spare.key_id)
    msg = await client.refused(409, "root", "POST", "quarantine", at("late"), "release", body={})
    assert f"The key {spare.key_id} that signed the upload was revoked" in msg

    # Reject: the bytes go, the record stays.
    for name in ("traversal", "late", "oversize"):
        rejected = await client.ok(
            "root", "POST", "quarantine", at(name), "reject", body={"note": "not for us"}
        )
        assert rejected["status"] == "rejected" and not rejected["kept"], rejected
    await client.refused(409, "root", "POST", "quarantine", at("late"), "reject", body={})
    assert await held_blobs(jp_serverapp) == set()
    assert sorted(await stored_blobs(jp_serverapp)) == sorted(
        [sha(uploads["runner"]), sha(uploads["words"])]
    )
    pending = (await client.ok("root", "GET", "quarantine", status="pending"))["quarantine"]
    assert pending == []
    rejected = (await client.ok("root", "GET", "quarantine", status="rejected"))["quarantine"]
    assert {q["id"] for q in rejected} == {
        entries[n]["id"] for n in ("traversal", "late", "oversize")
    }

    events = await audit_events(jp_serverapp)
    names = [e for e, _, _ in events]
    assert names.count("marketplace_quarantined") == len(uploads)
    assert names.count("marketplace_quarantine_released") == 2
    assert names.count("marketplace_quarantine_rejected") == 3
    published = [d for e, _, d in events if e == "marketplace_published"]
    assert {(d["package"], d["author"], d["after_review"]) for d in published} == {
        ("cs-dept.runner", "alan", True),
        ("cs-dept.words", "alan", True),
    }
    assert all(u == "root" for e, u, _ in events if e.startswith("marketplace_quarantine_"))
    notes = [d.get("note") for e, _, d in events if e == "marketplace_quarantine_rejected"]
    assert notes == ["not for us"] * 3
