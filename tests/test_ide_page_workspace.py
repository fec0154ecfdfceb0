"""The /ide page names the workspace the server opens, so the app keeps choices per workspace."""

from __future__ import annotations

from typing import Any

import pytest

from .test_ide_csp import _page_config


async def test_the_page_names_the_default_workspace(jp_fetch: Any) -> None:
    """A server with no workspace configured opens "default", and the page says so."""
    response = await jp_fetch("ide")
    assert _page_config(response.body)["workspace"] == "default"


class TestANamedWorkspace:
    """A server configured to open the workspace "lab2"."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        """Open the workspace lab2."""
        config = {**jp_server_config}
        config["IDEContentsManager"] = {**config["IDEContentsManager"], "workspace": "lab2"}
        return config

    async def test_the_page_names_it(self, jp_fetch: Any, jp_serverapp: Any) -> None:
        """The page config carries the contents manager's workspace name."""
        assert jp_serverapp.contents_manager.workspace == "lab2"
        response = await jp_fetch("ide")
        assert _page_config(response.body)["workspace"] == "lab2"
