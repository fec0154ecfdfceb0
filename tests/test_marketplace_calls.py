"""The runtime's per-call permission check (issue #17): current grants, read cheaply.

The IDE asks POST installs/<name>/calls before each call an extension makes. A test server
shows that a change (the user's own, an admin's block, a key's revocation) fails the very next
call while unchanged installs are answered from the cache; two caches over a real Redis, as two
service replicas hold them, show that a change made on one is seen by the other.
"""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_ide.cache import RedisCache
from jupyter_ide.marketplace.grants import GrantCache

from .test_ai_common import make_course
from .test_marketplace_common import (
    Client,
    make_publisher,
    manifest,
    marketplace,
    marketplace_config,
    package,
)

STATUS = {"method": "statusbar.set", "params": {"id": "count", "text": "3 words"}}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Hub-like users."""
    return marketplace_config(jp_server_config)


async def test_each_call_sees_the_current_grants(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Repeated calls are served from the cache; every kind of change fails the next call."""
    client = Client(jp_fetch)
    alan = await make_publisher(client, "cs-dept", "alan")
    meta = manifest("cs-dept", "counter", permissions=["editor.read", "ui.statusbar"])
    await alan.published(client, package(meta))
    for who in ("sam", "ada"):
        await client.ok(who, "POST", "installs", body={"name": "cs-dept.counter"})
    grants = marketplace(jp_serverapp).grants
    path = ("installs", "cs-dept.counter", "calls")

    async def decision(who: str = "sam") -> dict[str, Any]:
        return dict(await client.ok(who, "POST", *path, body=STATUS))

    assert (await decision())["decision"] == "allow"
    loads = grants.loads
    for _ in range(20):
        assert (await decision())["decision"] == "allow"
    assert grants.loads == loads, "unchanged installs are answered from the cache"
    # Another user's change leaves sam's entry alone.
    await client.ok("ada", "PATCH", "installs", "cs-dept.counter", body={"granted": []})
    assert (await decision())["decision"] == "allow"
    assert grants.loads == loads
    assert (await decision("ada"))["reason"] == "ui.statusbar is not granted"

    # The user revokes the grant (in the panel, maybe in another tab): the next call fails.
    await client.ok(
        "sam", "PATCH", "installs", "cs-dept.counter", body={"granted": ["editor.read"]}
    )
    denied = await decision()
    assert denied == {
        "decision": "deny",
        "permission": "ui.statusbar",
        "reason": "ui.statusbar is not granted",
    }
    await client.ok(
        "sam", "PATCH", "installs", "cs-dept.counter", body={"granted": ["ui.statusbar"]}
    )
    assert (await decision())["decision"] == "allow"
    await client.ok("sam", "PATCH", "installs", "cs-dept.counter", body={"enabled": False})
    assert (await decision())["reason"] == "the extension is disabled"
    await client.ok("sam", "PATCH", "installs", "cs-dept.counter", body={"enabled": True})
    assert (await decision())["decision"] == "allow"

    # An admin blocks the namespace: stopped at the next call; unblocked, allowed again.
    await client.ok("root", "PUT", "lists", "block", "cs-dept", body={"reason": "review"})
    blocked = await decision()
    assert blocked["decision"] == "deny" and "blocked by an administrator" in blocked["reason"]
    await client.ok("root", "DELETE", "lists", "block", "cs-dept")
    assert (await decision())["decision"] == "allow"

    # The key that signed the only version is revoked: stopped at the next call.
    await client.ok("alan", "DELETE", "publishers", "cs-dept", "keys", alan.key_id)
    revoked = await decision()
    assert revoked["decision"] == "deny" and "revoked" in revoked["reason"], revoked
    # Uninstalled: nothing to call.
    code, _, _ = await client.call("sam", "DELETE", "installs", "cs-dept.counter")
    assert code == 204
    await client.refused(404, "sam", "POST", *path, body=STATUS)


async def test_leaving_the_course_stops_its_locked_extension_at_the_next_call(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """Membership changes outside the store; the next call of a course's extension sees them."""
    from jupyter_ide.auth.permissions import Role

    client = Client(jp_fetch)
    alan = await make_publisher(client, "cs-dept", "alan")
    meta = manifest("cs-dept", "helper", permissions=["ui.statusbar"])
    await alan.published(client, package(meta))
    await make_course(jp_serverapp, "cs101", ["sam"], ["alan"])
    await client.ok("alan", "PUT", "courses", "cs101", "extensions", "cs-dept.helper", body={})
    path = ("installs", "cs-dept.helper", "calls")
    assert (await client.ok("sam", "POST", *path, body=STATUS))["decision"] == "allow"
    courses = jp_serverapp.web_app.settings["jupyter_ide_courses"]
    await courses.remove_member("cs101", "sam", by="root", by_role=Role.ADMIN)
    await client.refused(404, "sam", "POST", *path, body=STATUS)


async def test_replicas_see_each_others_changes_through_redis(redis_cache: RedisCache) -> None:
    """Two caches over one Redis (two service replicas): a change on one reloads the other."""
    one, two = GrantCache(redis_cache), GrantCache(redis_cache)
    state = {"sam": {"x": {"granted": ["ui.statusbar"]}}, "ada": {"x": {"granted": []}}}

    def loader(user: str) -> Any:
        async def load() -> dict[str, dict[str, Any]]:
            return {name: dict(item) for name, item in state[user].items()}

        return load

    assert (await two.installs("sam", loader("sam")))["x"]["granted"] == ["ui.statusbar"]
    await two.installs("ada", loader("ada"))
    assert two.loads == 2
    await two.installs("sam", loader("sam"))
    assert two.loads == 2
    # Replica one changes sam's grants: replica two reloads sam, not ada.
    state["sam"]["x"] = {"granted": []}
    await one.changed("sam")
    assert (await two.installs("sam", loader("sam")))["x"]["granted"] == []
    await two.installs("ada", loader("ada"))
    assert two.loads == 3
    # A change that reaches everyone (a block, a revoked key, a course lock).
    await one.changed()
    await two.installs("sam", loader("sam"))
    await two.installs("ada", loader("ada"))
    assert two.loads == 5
    # The age backstop (for changes made outside the store, like leaving a course).
    eager = GrantCache(redis_cache, max_age=0)
    await eager.installs("sam", loader("sam"))
    await eager.installs("sam", loader("sam"))
    assert eager.loads == 2
