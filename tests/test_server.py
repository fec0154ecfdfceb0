"""The extension loads, serves /ide, and every /ide route refuses anonymous callers."""

from __future__ import annotations

import gc
import json
import logging
import re
import uuid
import weakref
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError, HTTPResponse

from jupyter_ide import __version__
from jupyter_ide.auth import PERMISSION_ATTR, PUBLIC
from jupyter_ide.server_extension.app import IDEApp
from jupyter_ide.server_extension.checks import STATIC_DIR
from jupyter_ide.server_extension.handlers import render_index
from jupyter_ide.server_extension.heap import freeze_startup_heap
from jupyter_ide.server_extension.logs import skip_unprinted_levels

from .test_permissions import _routes

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
GROUP = re.compile(r"\((?:[^()]|\([^()]*\))*\)")


def _route_patterns(router: Any) -> list[str]:
    """Every path regex in a tornado router, descending into nested (per-host) routers."""
    patterns = []
    for rule in router.rules:
        if hasattr(rule.target, "rules"):
            patterns += _route_patterns(rule.target)
        elif getattr(rule.matcher, "regex", None) is not None:
            patterns.append(rule.matcher.regex.pattern)
    return patterns


def _ide_patterns(serverapp: Any) -> list[str]:
    """Every route pattern the server registered under <base>/ide."""
    prefix = f"{serverapp.base_url}ide"
    routes = _route_patterns(serverapp.web_app.default_router)
    return sorted({p for p in routes if p.startswith(prefix)})


def _sample_path(pattern: str) -> str:
    """Turn a route regex into a concrete URL path."""
    path = GROUP.sub("x", pattern).rstrip("$")
    return path.replace("/?", "/").replace("\\", "")


async def _anonymous(client: Any, path: str, method: str) -> HTTPResponse:
    """Send a request with no token and no cookie."""
    body = b"{}" if method in ("POST", "PUT", "PATCH") else None
    return await client.fetch(
        path,
        method=method,
        body=body,
        follow_redirects=False,
        raise_error=False,
        allow_nonstandard_methods=True,
    )


async def test_extension_is_loaded(jp_serverapp: Any) -> None:
    """The server links IDEApp and puts its state in the web app settings."""
    app = jp_serverapp.extension_manager.extension_apps["jupyter_ide"]
    assert any(isinstance(a, IDEApp) for a in app)
    assert jp_serverapp.web_app.settings["jupyter_ide_db"].backend == "sqlite"


async def test_every_ide_route_rejects_anonymous_callers(
    jp_serverapp: Any, http_server_client: Any
) -> None:
    """Each registered /ide route answers 401/403 (API) or a login redirect (pages)."""
    patterns = _ide_patterns(jp_serverapp)
    api = [p for p in patterns if "/ide/api/" in p]
    assert api, "no /ide/api routes registered"
    handlers = dict(_routes(jp_serverapp.web_app.default_router))
    for pattern in patterns:
        path = _sample_path(pattern)
        for method in METHODS:
            response = await _anonymous(http_server_client, path, method)
            declared = getattr(
                getattr(handlers[pattern], method.lower(), None), PERMISSION_ATTR, None
            )
            if declared == PUBLIC:
                # Public verbs carry their own guard (a refresh token) or serve public files.
                assert response.code < 500, (method, path, response.code)
            elif "/ide/api/" in pattern:
                assert response.code in (401, 403), (method, path, response.code)
            else:
                assert response.code in (302, 401, 403), (method, path, response.code)
                if response.code == 302:
                    assert "/login" in response.headers["Location"]


async def test_health_reports_each_subsystem(jp_fetch: Any) -> None:
    """The health API names every part and its state."""
    response = await jp_fetch("ide", "api", "health")
    health = json.loads(response.body)
    assert health["version"] == __version__
    subsystems = health["subsystems"]
    assert set(subsystems) == {"database", "cache", "storage", "sandbox", "ai", "workspace"}
    assert subsystems["database"]["state"] == "ok"
    assert subsystems["cache"]["state"] == "ok"
    # The suite runs with a Docker engine, so kernels are sandboxed ("auto" finds it).
    assert subsystems["sandbox"]["state"] == "ok"
    assert "Docker sandboxes" in subsystems["sandbox"]["detail"]
    assert subsystems["ai"]["state"] == "off"


async def test_ide_page_serves_the_built_app(jp_fetch: Any, jp_base_url: str) -> None:
    """/ide returns the app's HTML with assets under /ide/static and the page config."""
    response = await jp_fetch("ide")
    page = response.body.decode()
    assert response.headers["Content-Type"].startswith("text/html")
    config = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S
    )
    assert config is not None
    data = json.loads(config.group(1))
    assert data["baseUrl"] == jp_base_url
    assert data["appVersion"] == __version__
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page)
    assert assets, "the page loads no script"
    assert all(a.startswith(f"{jp_base_url}ide/static/") for a in assets)
    asset = assets[0][len(jp_base_url) :].split("/")
    served = await jp_fetch(*asset)
    assert served.code == 200 and served.body


async def test_first_paint_does_not_load_monaco(jp_fetch: Any) -> None:
    """Monaco is code-split: the page's own scripts and preloads do not include it."""
    page = (await jp_fetch("ide")).body.decode()
    entry = re.findall(r'(?:src|href)="[^"]*/ide/static/(assets/[^"]+)"', page)
    assert entry
    # Monaco's chunk, found by a command id only Monaco's editor code names (its file name
    # follows whichever import path the bundler met first).
    monaco = [
        path.name
        for path in (STATIC_DIR / "assets").glob("*.js")
        if "editor.action.formatDocument" in path.read_text(errors="replace")
    ]
    assert monaco, "the Monaco chunk is missing from the build"
    assert not [name for name in entry if name.removeprefix("assets/") in monaco]
    assert not [name for name in entry if "editor" in name or "monaco" in name.lower()]


async def test_assets_are_public_but_the_page_is_not(
    jp_fetch: Any, http_server_client: Any, jp_base_url: str
) -> None:
    """Built assets load without a session (as JupyterHub needs); /ide itself does not."""
    page = (await jp_fetch("ide")).body.decode()
    asset = re.findall(r'(?:src|href)="([^"]+/ide/static/assets/[^"]+)"', page)[0]
    anonymous = await http_server_client.fetch(asset, raise_error=False, follow_redirects=False)
    assert anonymous.code == 200
    assert "immutable" in anonymous.headers["Cache-Control"]
    page_anonymous = await http_server_client.fetch(
        f"{jp_base_url}ide", raise_error=False, follow_redirects=False
    )
    assert page_anonymous.code == 302


async def test_static_files_are_not_served_outside_the_build(jp_fetch: Any) -> None:
    """A traversal out of the static folder is refused."""
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("ide", "static", "..%2F..%2F__init__.py")
    assert e.value.code in (403, 404)


def test_render_index_escapes_the_page_config() -> None:
    """A user name cannot close the config script and inject markup."""
    page = render_index(
        '<html><head><script src="./assets/a.js"></script></head></html>',
        "/user/x/",
        {"userName": "</script><script>alert(1)</script>"},
    )
    assert 'src="/user/x/ide/static/assets/a.js"' in page
    assert "</script><script>alert" not in page


def test_the_app_is_built_into_the_package() -> None:
    """`make build` (and `pip install .`) put the app inside the package."""
    assert (STATIC_DIR / "index.html").is_file()


def test_debug_lines_build_no_records_unless_a_handler_prints_them() -> None:
    """A logger whose handlers print WARN and up skips debug lines before building them; one
    with a DEBUG handler (``--log-level=DEBUG``) keeps them."""
    quiet = logging.getLogger(f"test-quiet-{uuid.uuid4().hex}")
    quiet.setLevel(logging.DEBUG)
    quiet.addHandler(logging.StreamHandler())
    quiet.handlers[0].setLevel(logging.WARNING)
    skip_unprinted_levels(quiet)
    assert not quiet.isEnabledFor(logging.DEBUG) and quiet.isEnabledFor(logging.WARNING)
    assert not logging.getLogger("tornado").isEnabledFor(logging.DEBUG)
    loud = logging.getLogger(f"test-loud-{uuid.uuid4().hex}")
    loud.setLevel(logging.DEBUG)
    loud.addHandler(logging.StreamHandler())
    skip_unprinted_levels(loud)
    assert loud.isEnabledFor(logging.DEBUG)


def test_freezing_the_startup_heap_hides_it_from_full_collections() -> None:
    """Objects alive at start-up are frozen (never scanned again); later garbage is still
    collected."""
    try:
        frozen = freeze_startup_heap()
        assert frozen > 10_000 and gc.get_freeze_count() > 10_000  # frozen ones may die since

        class Node:
            """A cycle made after start-up."""

            other: Any = None

        a, b = Node(), Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()
