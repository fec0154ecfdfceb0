"""Roles and the permission table: every /ide handler verb is checked, by role."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any

import pytest
from tornado import web

from jupyter_ide.auth import PERMISSION_ATTR, PERMISSIONS, PUBLIC, Role, RoleResolver, requires
from jupyter_ide.auth.decorators import VERBS, undeclared_verbs

GROUP = re.compile(r"\((?:[^()]|\([^()]*\))*\)")


def _routes(router: Any) -> list[tuple[str, Any]]:
    """Every (path regex, handler class) in a tornado router, nested routers included."""
    found = []
    for rule in router.rules:
        if hasattr(rule.target, "rules"):
            found += _routes(rule.target)
        elif getattr(rule.matcher, "regex", None) is not None:
            found.append((rule.matcher.regex.pattern, rule.target))
    return found


def _declared(handler: type[web.RequestHandler]) -> dict[str, str]:
    """The permission each verb of a handler declares."""
    declared = {}
    for verb in VERBS:
        permission = getattr(getattr(handler, verb, None), PERMISSION_ATTR, None)
        if permission:
            declared[verb.upper()] = permission
    return declared


@pytest.fixture(params=[role.value for role in Role])
def role(request: pytest.FixtureRequest) -> str:
    """Each sweep runs as a student, an instructor and an admin."""
    return str(request.param)


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], role: str) -> dict[str, Any]:
    """The server's single user has the role under test."""
    return {**jp_server_config, "RoleResolver": {"standalone_role": role}}


async def test_route_sweep_by_role(jp_serverapp: Any, jp_fetch: Any, role: str) -> None:
    """Each verb answers 403 unless the role holds the permission it declares."""
    prefix = f"{jp_serverapp.base_url}ide"
    routes = [
        (p, h) for p, h in _routes(jp_serverapp.web_app.default_router) if p.startswith(prefix)
    ]
    assert routes
    # The classroom's handlers (issue #15) are in the sweep, every one of them.
    from jupyter_ide.classroom.handlers import default_handlers as classroom_routes
    from jupyter_ide.classroom.similarity_handlers import default_handlers as similarity_routes
    from jupyter_ide.classroom.teaching_handlers import default_handlers as teaching_routes

    swept = {h for _, h in routes}
    assert {h for _, h, _ in classroom_routes} <= swept
    # And the marketplace's (issue #17).
    from jupyter_ide.marketplace.handlers import default_handlers as marketplace_routes

    assert {h for _, h, _ in marketplace_routes} <= swept
    assert {h for _, h, _ in teaching_routes} <= swept  # the help queue and AI transcripts
    assert {h for _, h, _ in similarity_routes} <= swept  # similarity checks
    checked = 0
    for pattern, handler in routes:
        assert not undeclared_verbs([handler]), handler
        path = GROUP.sub("index.html", pattern).rstrip("$").replace("/?", "/")
        parts = path[len(jp_serverapp.base_url) :].strip("/").split("/")
        for verb, permission in _declared(handler).items():
            body = "{}" if verb in ("POST", "PUT", "PATCH") else None
            response = await jp_fetch(*parts, method=verb, body=body, raise_error=False)
            if permission == PUBLIC:
                # Open to any role; guarded by what the request carries, or public files.
                assert response.code != 403 and response.code < 500, (verb, path, response.code)
            elif permission in PERMISSIONS[Role(role)]:
                # Past the permission check; sample path values may well not exist (404).
                assert response.code != 403 and response.code < 500, (
                    verb,
                    path,
                    role,
                    response.code,
                )
            else:
                assert response.code == 403, (verb, path, role, response.code)
                assert role in json.loads(response.body)["message"]
            checked += 1
    assert checked >= 4


async def test_admin_checks_report_fixes(jp_fetch: Any, role: str) -> None:
    """Admins get the doctor's report over HTTP; others are refused."""
    response = await jp_fetch("ide", "api", "admin", "checks", raise_error=False)
    if role != "admin":
        assert response.code == 403
        return
    report = json.loads(response.body)
    names = {check["name"] for check in report["checks"]}
    assert {"frontend", "database", "cache", "storage", "docker", "sandbox", "ai"} <= names
    docker = next(c for c in report["checks"] if c["name"] == "docker")
    assert docker["state"] == "ok" or docker["fix"]


def test_hub_scopes_and_groups_give_roles() -> None:
    """JupyterHub scopes, groups and the admin flag map to roles; nothing means student."""
    resolver = RoleResolver(instructor_groups=["teachers"], admin_groups=["it"])

    def hub(**model: Any) -> SimpleNamespace:
        return SimpleNamespace(hub_user=model)

    assert resolver.role_of(hub(scopes=["custom:ide:admin"])) is Role.ADMIN
    assert resolver.role_of(hub(admin=True)) is Role.ADMIN
    assert resolver.role_of(hub(groups=["it"])) is Role.ADMIN
    assert resolver.role_of(hub(scopes=["custom:ide:instructor"])) is Role.INSTRUCTOR
    assert resolver.role_of(hub(groups=["teachers"])) is Role.INSTRUCTOR
    assert resolver.role_of(hub(scopes=["access:servers"], groups=["cs101"])) is Role.STUDENT
    assert resolver.role_of(SimpleNamespace(username="me")) is Role.ADMIN


def test_a_verb_without_permission_is_found() -> None:
    """The start-up check names a handler verb that declares no permission."""

    class Forgot(web.RequestHandler):
        async def post(self) -> None:
            """Do something unguarded."""

    Forgot.__module__ = "jupyter_ide.example"

    class Guarded(web.RequestHandler):
        @requires("health:read")
        async def get(self) -> None:
            """Do something guarded."""

    Guarded.__module__ = "jupyter_ide.example"
    assert undeclared_verbs([Forgot, Guarded]) == ["Forgot.post"]


def test_unknown_permissions_are_refused_when_declared() -> None:
    """A typo in a permission name fails at import time, not at request time."""
    with pytest.raises(ValueError, match="permission table"):
        requires("helth:read")
