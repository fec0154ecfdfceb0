"""The /ide page's Content Security Policy: exact, strict, and Jupyter's framing rules kept."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from traitlets import TraitError

from jupyter_ide.server_extension.csp import check_image_host, ide_policy, parse_image_hosts
from jupyter_ide.server_extension.settings import IDESettings


def _page_config(body: bytes) -> dict[str, Any]:
    """The JSON the page hands the app."""
    found = re.search(
        rb'<script id="jupyter-config-data" type="application/json">(.*?)</script>', body
    )
    assert found, "no page config in /ide"
    return dict(json.loads(found.group(1)))


async def test_ide_page_sends_the_exact_strict_policy(jp_fetch: Any, jp_base_url: str) -> None:
    """Only our own scripts; images from self, data: and blob:; no forms; frames as Jupyter."""
    response = await jp_fetch("ide")
    host = response.effective_url.split("/")[2]
    assert response.headers["Content-Security-Policy"] == (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; "
        f"connect-src 'self' ws://{host} wss://{host}; worker-src 'self'; frame-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; "
        f"report-uri {jp_base_url}api/security/csp-report"
    )
    assert _page_config(response.body)["allowedImageHosts"] == []
    assert "serverRoot" not in _page_config(response.body)


class TestAnAdminsSettings:
    """A server whose admin allows two image hosts and lets an LMS frame Jupyter's pages."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        """Add the image hosts and Jupyter's own CSP header to the test server's config."""
        config = {**jp_server_config}
        config["IDESettings"] = {
            **config["IDESettings"],
            "allowed_image_hosts": [
                "https://Images.Example.edu/",
                "https://*.cdn.example.org:8443",
            ],
        }
        config["ServerApp"] = {
            **config["ServerApp"],
            "tornado_settings": {
                "headers": {
                    "Content-Security-Policy": "frame-ancestors 'self' https://lms.example.edu; "
                    "report-uri /custom-report"
                }
            },
        }
        return config

    async def test_admin_image_hosts_and_framing_reach_the_policy(self, jp_fetch: Any) -> None:
        """Allowed hosts join img-src (and the page config); Jupyter's frame-ancestors are kept."""
        response = await jp_fetch("ide")
        policy = response.headers["Content-Security-Policy"]
        directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
        assert directives["img-src"] == [
            "'self'",
            "data:",
            "blob:",
            "https://images.example.edu",
            "https://*.cdn.example.org:8443",
        ]
        assert directives["frame-ancestors"] == ["'self'", "https://lms.example.edu"]
        assert directives["report-uri"] == ["/custom-report"]
        assert directives["script-src"] == ["'self'"]
        assert directives["form-action"] == ["'none'"]
        assert _page_config(response.body)["allowedImageHosts"] == [
            "https://images.example.edu",
            "https://*.cdn.example.org:8443",
        ]


def test_jupyterhub_default_forbids_framing() -> None:
    """JupyterHub's single-user default (frame-ancestors 'none') stays 'none'."""
    policy = ide_policy("frame-ancestors 'none';report-uri /hub/security/csp-report", "h:1", [])
    assert "frame-ancestors 'none'" in policy
    assert policy.endswith("report-uri /hub/security/csp-report")


def test_a_policy_without_frame_ancestors_allows_only_self() -> None:
    """An admin policy that does not name frame-ancestors does not open framing to all."""
    policy = ide_policy("default-src *", "h", [])
    assert "frame-ancestors 'self'" in policy
    assert "report-uri" not in policy


def test_a_strange_host_header_adds_no_socket_source() -> None:
    """A Host header that is not a host (a quote, a semicolon) never reaches the policy."""
    policy = ide_policy("", "evil.example; script-src *", [])
    assert "evil" not in policy
    assert "connect-src 'self';" in policy


@pytest.mark.parametrize(
    "bad",
    [
        "images.example.edu",  # no scheme
        "https://example.edu/path",
        "https://example.edu; script-src *",
        "javascript:alert(1)",
        "https://*",
        "data:",
        "*",
    ],
)
def test_image_hosts_must_be_origins(bad: str) -> None:
    """Anything but scheme://host[:port] is refused with a message that says what to write."""
    with pytest.raises(ValueError, match="give an origin such as"):
        check_image_host(bad)
    with pytest.raises(TraitError, match="allowed_image_hosts"):
        IDESettings(allowed_image_hosts=[bad])


def test_image_hosts_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """JUPYTER_IDE_IMAGE_HOSTS takes a comma- or space-separated list, checked the same way."""
    monkeypatch.setenv(
        "JUPYTER_IDE_IMAGE_HOSTS", "https://a.example.edu, http://b.example.edu:8080"
    )
    assert IDESettings().allowed_image_hosts == [
        "https://a.example.edu",
        "http://b.example.edu:8080",
    ]
    assert parse_image_hosts("") == []
    monkeypatch.setenv("JUPYTER_IDE_IMAGE_HOSTS", "https://a.example.edu;script-src")
    with pytest.raises(TraitError, match="JUPYTER_IDE_IMAGE_HOSTS"):
        IDESettings().allowed_image_hosts  # noqa: B018
