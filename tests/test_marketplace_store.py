"""The store API (issue #17): search and sort, installs and grants, course locks, admin lists.

Search (its rating upsert is per dialect) and course locks run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .test_ai_common import make_course
from .test_marketplace_common import (
    Client,
    audit_events,
    example,
    make_publisher,
    manifest,
    marketplace_config,
    package,
)


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Hub-like users; packages in the local blob store."""
    return marketplace_config(jp_server_config)


@pytest.fixture
def ide_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite, or PostgreSQL for the tests parametrized with it."""
    if getattr(request, "param", "sqlite") == "postgresql":
        return str(request.getfixturevalue("pg_database_url"))
    return f"sqlite:///{tmp_path / 'state' / 'ide.db'}"


BOTH = pytest.mark.parametrize("ide_db_url", ["sqlite", "postgresql"], indirect=True)


@BOTH
async def test_search_filters_and_sorts(jp_fetch: Any) -> None:
    """Text and category filter; downloads, rating and date sort; hostile queries are 400s."""
    client = Client(jp_fetch)
    alan = await make_publisher(client, "cs-dept", "alan")
    for name in ("word-count", "midnight-theme", "format-python", "course-helper"):
        await alan.published(client, example(name, "cs-dept"))
    names = ["cs-dept.word-count", "cs-dept.midnight-theme", "cs-dept.format-python"]
    for times, name in zip((3, 1, 2), names, strict=True):
        for _ in range(times):
            await client.ok("sam", "GET", "packages", name, "versions", "1.0.0", "download")
    for who, stars in (("sam", 5), ("ada", 4)):
        await client.ok(
            who, "PUT", "packages", "cs-dept.midnight-theme", "rating", body={"stars": stars}
        )
    await client.ok("sam", "PUT", "packages", "cs-dept.course-helper", "rating", body={"stars": 3})
    # A second rating by the same user replaces the first.
    await client.ok("sam", "PUT", "packages", "cs-dept.course-helper", "rating", body={"stars": 2})

    async def search(**params: str) -> list[str]:
        found = await client.ok("ada", "GET", "packages", **params)
        return [r["name"] for r in found["results"]]

    assert await search(sort="downloads") == [
        "cs-dept.word-count",
        "cs-dept.format-python",
        "cs-dept.midnight-theme",
        "cs-dept.course-helper",
    ]
    assert (await search(sort="rating"))[:2] == ["cs-dept.midnight-theme", "cs-dept.course-helper"]
    assert (await search(sort="date"))[0] == "cs-dept.course-helper"
    assert await search(q="STATUS BAR") == ["cs-dept.word-count"]
    assert await search(q="python", sort="name") == ["cs-dept.format-python"]
    assert await search(category="themes") == ["cs-dept.midnight-theme"]
    assert await search(q="100%") == []
    assert await search(q="_") == []
    detail = await client.ok("ada", "GET", "packages", "cs-dept.midnight-theme")
    assert detail["rating"] == 4.5 and detail["rating_count"] == 2
    page = await client.ok("ada", "GET", "packages", limit="2", offset="1", sort="downloads")
    assert page["total"] == 4
    assert [r["name"] for r in page["results"]] == [
        "cs-dept.format-python",
        "cs-dept.midnight-theme",
    ]
    for bad in (
        {"sort": "random"},
        {"limit": "0"},
        {"limit": "1000"},
        {"offset": "-1"},
        {"limit": "x"},
    ):
        await client.refused(400, "ada", "GET", "packages", **bad)
    for stars in (0, 6, "5", True, None):
        await client.refused(
            400, "ada", "PUT", "packages", "cs-dept.word-count", "rating", body={"stars": stars}
        )
    await client.refused(
        404, "ada", "PUT", "packages", "nobody.nothing", "rating", body={"stars": 3}
    )
    await client.refused(404, "ada", "GET", "packages", "nobody.nothing")


async def test_installs_grants_settings_and_other_users(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Per-user installs: sensitive permissions wait; grants, settings, enable; users apart."""
    client = Client(jp_fetch)
    alan = await make_publisher(client, "cs-dept", "alan")
    meta = manifest(
        "cs-dept",
        "runner",
        permissions=["editor.read", "run.code", "ai.use", "workspace.write"],
        settings={"limit": {"type": "number", "default": 3}, "name": {"type": "string"}},
    )
    await alan.published(client, package(meta))
    await alan.published(client, example("course-helper", "cs-dept"))

    installed = await client.ok("sam", "POST", "installs", body={"name": "cs-dept.runner"})
    # Sensitive permissions are not granted up front: the runtime asks at first use.
    assert installed["granted"] == ["editor.read"]
    assert installed["enabled"] is True and installed["locked_by_course"] is None
    await client.refused(409, "sam", "POST", "installs", body={"name": "cs-dept.runner"})
    for bad in (None, {}, {"name": 3}, {"name": "cs-dept.runner", "version": 1}):
        await client.refused(400, "ada", "POST", "installs", body=bad)
    await client.refused(404, "ada", "POST", "installs", body={"name": "cs-dept.none"})
    await client.refused(
        400, "ada", "POST", "installs", body={"name": "cs-dept.runner", "granted": ["ui.panel"]}
    )
    # The runtime's check of a call: sensitive and not granted yet -> ask the user.
    path = ("installs", "cs-dept.runner")
    call = {"method": "run.code", "params": {"source": "print(1)"}}
    check = await client.ok("sam", "POST", *path, "calls", body=call)
    assert check == {"decision": "prompt", "permission": "run.code", "reason": check["reason"]}
    read = await client.ok("sam", "POST", *path, "calls", body={"method": "editor.getText"})
    assert read["decision"] == "allow"
    await client.refused(404, "ada", "POST", *path, "calls", body=call)
    await client.refused(400, "sam", "POST", *path, "calls", body=[])
    # The prompt accepted: run.code granted; then refused again (revoked).
    granted = await client.ok("sam", "PATCH", *path, body={"granted": ["editor.read", "run.code"]})
    assert granted["granted"] == ["editor.read", "run.code"]
    assert (await client.ok("sam", "POST", *path, "calls", body=call))["decision"] == "allow"
    revoked = await client.ok("sam", "PATCH", *path, body={"granted": ["editor.read"]})
    assert revoked["granted"] == ["editor.read"]
    assert (await client.ok("sam", "POST", *path, "calls", body=call))["decision"] == "prompt"
    await client.refused(400, "sam", "PATCH", *path, body={"granted": ["settings"]})
    await client.refused(400, "sam", "PATCH", *path, body={"granted": "run.code"})
    # Settings: declared ones, with their types.
    changed = await client.ok("sam", "PATCH", *path, body={"settings": {"limit": 5, "name": "x"}})
    assert changed["settings"] == {"limit": 5, "name": "x"}
    for bad in ({"limit": "5"}, {"unknown": 1}, {"limit": True}, []):
        await client.refused(400, "sam", "PATCH", *path, body={"settings": bad})
    await client.refused(400, "sam", "PATCH", *path, body={"colour": "red"})
    await client.refused(400, "sam", "PATCH", *path, body={"enabled": "no"})
    await client.refused(400, "sam", "PATCH", *path, body={})
    # A failed change leaves the previous state.
    after = (await client.ok("sam", "GET", "installs"))["installs"][0]
    assert after["settings"] == {"limit": 5, "name": "x"} and after["granted"] == ["editor.read"]
    disabled = await client.ok("sam", "PATCH", *path, body={"enabled": False})
    assert disabled["enabled"] is False

    # Another user sees none of it and cannot change or remove it.
    assert (await client.ok("ada", "GET", "installs"))["installs"] == []
    await client.refused(404, "ada", "PATCH", *path, body={"enabled": True})
    await client.refused(404, "ada", "DELETE", *path)
    assert (await client.ok("sam", "GET", "installs"))["installs"][0]["enabled"] is False
    code, _, _ = await client.call("sam", "DELETE", *path)
    assert code == 204
    await client.refused(404, "sam", "DELETE", *path)
    events = [e for e, who, _ in await audit_events(jp_serverapp) if who == "sam"]
    assert events == [
        "marketplace_installed",
        "marketplace_install_changed",
        "marketplace_install_changed",
        "marketplace_install_changed",
        "marketplace_install_changed",
        "marketplace_uninstalled",
    ]


@BOTH
async def test_course_locked_extension(jp_fetch: Any, jp_serverapp: Any) -> None:
    """A course installs for its students, who cannot remove it; leaving the course removes it."""
    client = Client(jp_fetch)
    alan = await make_publisher(client, "cs-dept", "alan")
    await alan.published(client, example("course-helper", "cs-dept"))
    await make_course(jp_serverapp, "cs101", ["sam", "ada"], ["alan"])
    await make_course(jp_serverapp, "art", ["ada"], ["eve"])
    lock = ("courses", "cs101", "extensions", "cs-dept.course-helper")

    await client.refused(403, "sam", "PUT", *lock, body={})  # a student's role
    await client.refused(404, "eve", "PUT", *lock, body={})  # not her course
    await client.refused(400, "alan", "PUT", *lock, body={"granted": ["run.code"]})  # not declared
    locked = await client.ok("alan", "PUT", *lock, body={})
    assert locked["granted"] == ["settings", "ui.panel", "workspace.read"]

    sam = (await client.ok("sam", "GET", "installs"))["installs"]
    assert [(i["name"], i["locked_by_course"], i["enabled"]) for i in sam] == [
        ("cs-dept.course-helper", "cs101", True)
    ]
    msg = await client.refused(403, "sam", "DELETE", "installs", "cs-dept.course-helper")
    assert "cs101" in msg and "cannot remove" in msg
    await client.refused(
        403, "sam", "PATCH", "installs", "cs-dept.course-helper", body={"enabled": False}
    )
    mine = await client.ok(
        "sam",
        "PATCH",
        "installs",
        "cs-dept.course-helper",
        body={"settings": {"instructionsFile": "TODO.md"}},
    )
    assert (
        mine["settings"] == {"instructionsFile": "TODO.md"} and mine["locked_by_course"] == "cs101"
    )
    assert (await client.ok("sam", "GET", "courses", "cs101", "extensions"))["locked"][0][
        "name"
    ] == ("cs-dept.course-helper")
    await client.refused(404, "eve", "GET", "courses", "cs101", "extensions")
    # Not a member: nothing.
    assert (await client.ok("eve", "GET", "installs"))["installs"] == []

    # sam leaves the course: the extension is gone from his IDE at once; ada keeps it.
    courses = jp_serverapp.web_app.settings["jupyter_ide_courses"]
    from jupyter_ide.auth.permissions import Role

    await courses.remove_member("cs101", "sam", by="root", by_role=Role.ADMIN)
    assert (await client.ok("sam", "GET", "installs"))["installs"] == []
    assert [i["name"] for i in (await client.ok("ada", "GET", "installs"))["installs"]] == [
        "cs-dept.course-helper"
    ]
    # Installing it himself now works (his old course settings are not carried over).
    own = await client.ok("sam", "POST", "installs", body={"name": "cs-dept.course-helper"})
    assert own["locked_by_course"] is None and own["settings"] == {}
    # The instructor lifts the lock: ada's copy goes too.
    code, _, _ = await client.call("alan", "DELETE", *lock)
    assert code == 204
    assert (await client.ok("ada", "GET", "installs"))["installs"] == []
    await client.refused(404, "alan", "DELETE", *lock)
    events = [e for e, _, _ in await audit_events(jp_serverapp)]
    assert "marketplace_course_locked" in events and "marketplace_course_unlocked" in events


async def test_admin_allow_and_block_lists(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Blocked extensions vanish from search, cannot be installed, installed ones switch off."""
    client = Client(jp_fetch)
    alan = await make_publisher(client, "cs-dept", "alan")
    eve = await make_publisher(client, "eve-tools", "eve")
    await alan.published(client, example("word-count", "cs-dept"))
    await eve.published(client, example("midnight-theme", "eve-tools"))
    await client.ok("sam", "POST", "installs", body={"name": "eve-tools.midnight-theme"})

    await client.refused(403, "alan", "PUT", "lists", "block", "eve-tools", body={})
    await client.refused(403, "sam", "GET", "lists")
    await client.refused(404, "root", "PUT", "lists", "grey", "eve-tools", body={})
    await client.refused(400, "root", "PUT", "lists", "block", "eve-tools", body={"reason": 5})
    await client.ok("root", "PUT", "lists", "block", "eve-tools", body={"reason": "phishing"})
    found = await client.ok("sam", "GET", "packages")
    assert [r["name"] for r in found["results"]] == ["cs-dept.word-count"]
    await client.refused(404, "sam", "GET", "packages", "eve-tools.midnight-theme")
    await client.refused(403, "ada", "POST", "installs", body={"name": "eve-tools.midnight-theme"})
    download = ("packages", "eve-tools.midnight-theme", "versions", "1.0.0", "download")
    await client.refused(403, "ada", "GET", *download)
    sam = (await client.ok("sam", "GET", "installs"))["installs"]
    assert sam[0]["enabled"] is False and "blocked" in sam[0]["notice"]
    assert (await client.ok("root", "GET", "lists"))["block"][0]["reason"] == "phishing"
    await client.ok("root", "DELETE", "lists", "block", "eve-tools")
    assert (await client.ok("sam", "GET", "installs"))["installs"][0]["enabled"] is True

    # An allow list: only what is on it.
    await client.ok("root", "PUT", "lists", "allow", "cs-dept.word-count", body={})
    found = await client.ok("sam", "GET", "packages")
    assert [r["name"] for r in found["results"]] == ["cs-dept.word-count"]
    msg = await client.refused(
        403, "ada", "POST", "installs", body={"name": "eve-tools.midnight-theme"}
    )
    assert "allow list" in msg
    await client.ok("ada", "POST", "installs", body={"name": "cs-dept.word-count"})
    await client.refused(404, "root", "DELETE", "lists", "block", "eve-tools")
    events = [e for e, _, _ in await audit_events(jp_serverapp)]
    assert events.count("marketplace_list_added") == 2 and "marketplace_list_removed" in events
