"""XSRF: every state-changing /ide verb refuses a cookie-signed request without the XSRF token."""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from typing import Any

from jupyter_ide.auth import PUBLIC
from jupyter_ide.auth.decorators import PERMISSION_ATTR

from .test_permissions import GROUP, _routes

STATE_CHANGING = ("post", "put", "patch", "delete")


async def _browser_cookies(http_server_client: Any, base: str, token: str) -> dict[str, str]:
    """Sign in like a browser (token in the URL) and keep the cookies the server sets."""
    response = await http_server_client.fetch(
        f"{base}ide?token={token}", follow_redirects=False, raise_error=False
    )
    assert response.code == 200
    jar: dict[str, str] = {}
    for header in response.headers.get_list("Set-Cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        jar.update({name: morsel.value for name, morsel in cookie.items()})
    assert "_xsrf" in jar and any(name.startswith("username-") for name in jar)
    return jar


async def test_api_clients_signing_with_a_header_get_no_login_cookie(
    http_server_client: Any, jp_base_url: str, jp_serverapp: Any
) -> None:
    """A token in the Authorization header signs that request only; the same token in the
    URL (a browser signing in) still sets the login cookie."""
    token = jp_serverapp.identity_provider.token
    by_header = await http_server_client.fetch(
        f"{jp_base_url}ide/api/auth/me", headers={"Authorization": f"token {token}"}
    )
    assert by_header.code == 200
    names = [c.split("=", 1)[0] for c in by_header.headers.get_list("Set-Cookie")]
    assert not any(name.startswith("username-") for name in names), names
    jar = await _browser_cookies(http_server_client, jp_base_url, token)
    assert any(name.startswith("username-") for name in jar)


async def test_state_changing_verbs_need_the_xsrf_token(
    jp_serverapp: Any, http_server_client: Any, jp_base_url: str
) -> None:
    """With the login cookie alone a POST is refused; with the XSRF header it goes through."""
    jar = await _browser_cookies(
        http_server_client, jp_base_url, jp_serverapp.identity_provider.token
    )
    cookie_header = "; ".join(f"{k}={v}" for k, v in jar.items())
    checked = 0
    for pattern, handler in _routes(jp_serverapp.web_app.default_router):
        if not pattern.startswith(f"{jp_base_url}ide"):
            continue
        for verb in STATE_CHANGING:
            method = getattr(handler, verb, None)
            permission = getattr(method, PERMISSION_ATTR, None)
            if permission is None or permission == PUBLIC:
                continue
            url = GROUP.sub("x", pattern).rstrip("$")
            body = "{}" if verb != "delete" else None
            forged = await http_server_client.fetch(
                url,
                method=verb.upper(),
                body=body,
                headers={"Cookie": cookie_header},
                raise_error=False,
                allow_nonstandard_methods=True,
            )
            assert forged.code == 403, (verb, url, forged.code)
            assert "xsrf" in json.loads(forged.body)["message"].lower()
            honest = await http_server_client.fetch(
                url,
                method=verb.upper(),
                body=body,
                raise_error=False,
                headers={"Cookie": cookie_header, "X-XSRFToken": jar["_xsrf"]},
                allow_nonstandard_methods=True,
            )
            # Past the XSRF check: what follows (400 for an empty body, 404…) is the handler's.
            assert honest.code != 403 and honest.code < 500, (verb, url, honest.code)
            checked += 1
    assert checked >= 1
