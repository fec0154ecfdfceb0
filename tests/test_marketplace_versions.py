"""Versions in the extension store: semver ordering, yank, key revocation, namespaces."""

from __future__ import annotations

from typing import Any

import pytest

from .test_marketplace_common import (
    Client,
    add_key,
    audit_events,
    make_publisher,
    manifest,
    marketplace_config,
    package,
    register_key,
)


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Hub-like users; packages in the local blob store, the database SQLite."""
    return marketplace_config(jp_server_config)


def version(namespace: str, name: str, number: str, **extra: Any) -> bytes:
    """A package of one version."""
    return package(manifest(namespace, name, number, **extra))


async def test_semver_ordering_and_yank(jp_fetch: Any, jp_serverapp: Any) -> None:
    """The newest stable version by semver precedence is served; yanked ones are skipped."""
    client = Client(jp_fetch)
    alan = await make_publisher(client, "cs-dept", "alan")
    for number in ("1.0.0", "1.10.0", "1.2.0", "2.0.0-rc.1", "2.0.0-alpha", "2.0.0-alpha.beta"):
        await alan.published(client, version("cs-dept", "lint", number))
    detail = await client.ok("sam", "GET", "packages", "cs-dept.lint")
    # 1.10.0 above 1.2.0 (not string order); pre-releases are not "latest" while a stable exists.
    assert detail["version"] == "1.10.0"
    assert [v["version"] for v in detail["versions"]] == [
        "2.0.0-rc.1",
        "2.0.0-alpha.beta",
        "2.0.0-alpha",
        "1.10.0",
        "1.2.0",
        "1.0.0",
    ]
    # Build metadata does not make a new version.
    code, body, _ = await alan.publish(client, version("cs-dept", "lint", "1.2.0+build.7"))
    assert code == 409 and "already published" in body["message"], body

    # ada installs 1.10.0 before the yank and keeps it; new installs get 1.2.0.
    await client.ok("ada", "POST", "installs", body={"name": "cs-dept.lint"})
    await client.refused(
        403, "sam", "POST", "packages", "cs-dept.lint", "versions", "1.10.0", "yank", body={}
    )
    await client.refused(
        403, "eve", "POST", "packages", "cs-dept.lint", "versions", "1.10.0", "yank", body={}
    )
    await client.refused(
        404, "alan", "POST", "packages", "cs-dept.lint", "versions", "9.9.9", "yank", body={}
    )
    yanked = await client.ok(
        "alan",
        "POST",
        "packages",
        "cs-dept.lint",
        "versions",
        "1.10.0",
        "yank",
        body={"reason": "crashes on empty files"},
    )
    assert yanked["latest_version"] == "1.2.0"
    installed = await client.ok("sam", "POST", "installs", body={"name": "cs-dept.lint"})
    assert installed["version"] == "1.2.0"
    msg = await client.refused(
        410, "sam", "PATCH", "installs", "cs-dept.lint", body={"version": "1.10.0"}
    )
    assert "crashes on empty files" in msg
    ada = await client.ok("ada", "GET", "installs")
    assert [(i["name"], i["version"], i["enabled"]) for i in ada["installs"]] == [
        ("cs-dept.lint", "1.10.0", True)
    ]
    detail = await client.ok("sam", "GET", "packages", "cs-dept.lint")
    assert next(v for v in detail["versions"] if v["version"] == "1.10.0")["yanked"] is True
    # Undo the yank: 1.10.0 is the latest again.
    undone = await client.ok(
        "root", "DELETE", "packages", "cs-dept.lint", "versions", "1.10.0", "yank"
    )
    assert undone["latest_version"] == "1.10.0"
    events = [e for e, _, _ in await audit_events(jp_serverapp)]
    assert "marketplace_yanked" in events and "marketplace_unyanked" in events


async def test_key_revocation_stops_serving_and_disables_installs(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """Versions signed only by a revoked key are not served; their installs get a notice."""
    client = Client(jp_fetch)
    first = await make_publisher(client, "cs-dept", "alan")
    second = await add_key(client, first)
    await first.published(client, version("cs-dept", "fmt", "1.0.0"))
    await second.published(client, version("cs-dept", "fmt", "1.1.0"))
    await first.published(client, version("cs-dept", "solo", "0.1.0"))
    await client.ok("sam", "POST", "installs", body={"name": "cs-dept.fmt", "version": "1.0.0"})
    await client.ok("sam", "POST", "installs", body={"name": "cs-dept.solo"})
    await client.ok("ada", "POST", "installs", body={"name": "cs-dept.fmt"})

    # Only the namespace's owner (or an admin) revokes its keys.
    await client.refused(403, "eve", "DELETE", "publishers", "cs-dept", "keys", first.key_id)
    await client.refused(403, "sam", "DELETE", "publishers", "cs-dept", "keys", first.key_id)
    revoked = await client.ok("alan", "DELETE", "publishers", "cs-dept", "keys", first.key_id)
    assert sorted(revoked["unserved"]) == ["cs-dept.fmt@1.0.0", "cs-dept.solo@0.1.0"]
    assert revoked["installs_disabled"] == 2
    await client.refused(409, "alan", "DELETE", "publishers", "cs-dept", "keys", first.key_id)

    download = ("packages", "cs-dept.fmt", "versions", "1.0.0", "download")
    await client.refused(410, "sam", "GET", *download)
    detail = await client.ok("sam", "GET", "packages", "cs-dept.fmt")
    assert [v["version"] for v in detail["versions"]] == ["1.1.0"]
    await client.refused(404, "sam", "GET", "packages", "cs-dept.solo")
    found = await client.ok("sam", "GET", "packages", q="cs-dept")
    assert [r["name"] for r in found["results"]] == ["cs-dept.fmt"]

    sam = {i["name"]: i for i in (await client.ok("sam", "GET", "installs"))["installs"]}
    assert sam["cs-dept.fmt"]["enabled"] is False
    assert first.key_id in sam["cs-dept.fmt"]["notice"]
    assert sam["cs-dept.solo"]["enabled"] is False
    # Re-enabling a version that is not served is refused; updating to a served one works.
    await client.refused(409, "sam", "PATCH", "installs", "cs-dept.fmt", body={"enabled": True})
    updated = await client.ok(
        "sam", "PATCH", "installs", "cs-dept.fmt", body={"version": "1.1.0", "enabled": True}
    )
    assert updated["enabled"] is True and updated["notice"] is None
    # ada's copy (1.1.0, signed by the other key) is untouched.
    ada = (await client.ok("ada", "GET", "installs"))["installs"]
    assert [(i["version"], i["enabled"]) for i in ada] == [("1.1.0", True)]
    events = [d for e, _, d in await audit_events(jp_serverapp) if e == "marketplace_key_revoked"]
    assert events and events[0]["installs_disabled"] == 2


async def test_namespaces_need_an_admin(jp_fetch: Any) -> None:
    """Instructors ask for namespaces, admins approve; keys and publishing need approval."""
    client = Client(jp_fetch)
    await client.refused(403, "sam", "POST", "publishers", body={"namespace": "mine"})
    for bad in ({"namespace": "Bad Name"}, {"namespace": ""}, {}, [], {"namespace": "x" * 65}):
        await client.refused(400, "alan", "POST", "publishers", body=bad)
    pending = await client.ok("alan", "POST", "publishers", body={"namespace": "cs-dept"})
    assert pending["status"] == "pending"
    await client.refused(409, "eve", "POST", "publishers", body={"namespace": "cs-dept"})
    # Someone else's namespace: no keys for eve; only admins decide.
    await client.refused(
        403, "eve", "POST", "publishers", "cs-dept", "keys", body={"public_key": "A" * 44}
    )
    await client.refused(403, "alan", "PATCH", "publishers", "cs-dept", body={"status": "approved"})
    await client.refused(400, "root", "PATCH", "publishers", "cs-dept", body={"status": "maybe"})
    await client.refused(
        400, "root", "PATCH", "publishers", "cs-dept", body={"forbidden_permissions": ["x"]}
    )
    await client.refused(404, "root", "PATCH", "publishers", "nope", body={"status": "approved"})
    # Bad keys.
    for key in ("not base64!", "AAAA", 7):
        await client.refused(
            400, "alan", "POST", "publishers", "cs-dept", "keys", body={"public_key": key}
        )
    # A pending namespace cannot publish, even with its key.
    publisher = await register_key(client, "cs-dept", "alan")
    code, body, _ = await publisher.publish(client, version("cs-dept", "early", "1.0.0"))
    assert code == 403 and "pending" in body["message"], body
    await client.ok("root", "PATCH", "publishers", "cs-dept", body={"status": "approved"})
    await publisher.published(client, version("cs-dept", "early", "1.0.0"))
    # Each sees their own namespaces; admins see all.
    assert [
        p["namespace"] for p in (await client.ok("eve", "GET", "publishers"))["publishers"]
    ] == []
    mine = (await client.ok("alan", "GET", "publishers"))["publishers"]
    assert [p["namespace"] for p in mine] == ["cs-dept"] and mine[0]["keys"]
    await client.ok("root", "POST", "publishers", body={"namespace": "it-dept"})
    every = (await client.ok("root", "GET", "publishers"))["publishers"]
    assert {p["namespace"]: p["status"] for p in every} == {
        "cs-dept": "approved",
        "it-dept": "approved",
    }
