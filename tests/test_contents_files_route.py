"""/files/ (downloads, images in notebooks) serves what the contents manager holds."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError


async def test_files_route_downloads_a_saved_file(jp_fetch: Any) -> None:
    body = json.dumps({"type": "file", "format": "text", "content": "tiny"})
    await jp_fetch("api", "contents", "small.txt", method="PUT", body=body)
    response = await jp_fetch("files", "small.txt", params={"download": "1"})
    assert response.body == b"tiny"
    assert "attachment" in response.headers["Content-Disposition"]


async def test_files_route_answers_404_for_a_missing_file(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("files", "nothing-here.txt")
    assert e.value.code == 404
