"""Declarative VS Code packages from the npm registry: a real theme installs, code is refused.

The set-up runs `npm pack` for two real packages of the registry (cached in the module's
temporary folder): solarflare-theme (colour themes only) and @sreetamdas/karma (a theme
with a `main` JavaScript entry).
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from typing import Any

import pytest

from jupyter_ide.marketplace.examples import pack

from .test_marketplace_common import (
    NPM_THEME,
    Client,
    make_publisher,
    marketplace_config,
    npm_pack,
    tgz,
)

THEME = NPM_THEME
WITH_CODE = "@sreetamdas/karma@3.1.1"


@pytest.fixture(scope="module")
def npm_packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The two packages' tarballs, fetched once with `npm pack`."""
    folder = tmp_path_factory.mktemp("npm-packs")
    return {spec: npm_pack(spec, folder) for spec in (THEME, WITH_CODE)}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Hub-like users."""
    return marketplace_config(jp_server_config)


def files_of(tarball: bytes) -> dict[str, bytes]:
    """The regular files of an npm tarball."""
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


async def test_a_real_npm_theme_installs_and_code_is_refused(
    jp_fetch: Any, npm_packages: dict[str, bytes]
) -> None:
    """The npm theme installs as-is with its colours; packages with code get a clear refusal."""
    client = Client(jp_fetch)
    alan = await make_publisher(client, "themes", "alan")
    theme = npm_packages[THEME]
    published = await alan.published(client, theme)
    assert published["name"] == "themes.solarflare-theme"
    assert published["permissions"] == []
    detail = await client.ok("sam", "GET", "packages", "themes.solarflare-theme")
    assert detail["kind"] == "vscode" and detail["category"] == "themes"
    themes = detail["manifest"]["contributes"]["themes"]
    assert {t["label"] for t in themes} == {"Solarflare Dark", "Solarflare Light"}
    installed = await client.ok("sam", "POST", "installs", body={"name": "themes.solarflare-theme"})
    assert installed["enabled"] and installed["granted"] == []
    # What the IDE loads: the package as published, each theme's colours inside it.
    path = ("packages", "themes.solarflare-theme", "versions", detail["version"], "download")
    code, data, _ = await client.call("sam", "GET", *path)
    assert code == 200 and data == theme
    files = files_of(data)
    for item in installed["manifest"]["contributes"]["themes"]:
        colours = json.loads(files[item["path"]])
        assert colours["colors"]["editor.background"].startswith("#")

    # The same files as a .vsix (a zip, its files under extension/) install too.
    package_json = json.loads(files["package/package.json"])
    vsix_files = {n.replace("package/", "extension/", 1): d for n, d in files.items()}
    vsix_files["extension/package.json"] = json.dumps({**package_json, "version": "9.0.0"}).encode()
    vsix = pack(vsix_files)
    assert zipfile.is_zipfile(io.BytesIO(vsix))
    assert (await alan.published(client, vsix))["version"] == "9.0.0"
    assert (await client.ok("sam", "GET", "packages", "themes.solarflare-theme"))[
        "version"
    ] == "9.0.0"

    # A real package with code: refused with a message saying why.
    code, body, _ = await alan.publish(client, npm_packages[WITH_CODE])
    assert code == 422, body
    assert "has code (main: 'dist/index.js')" in body["message"]
    # Made-up declarative-looking ones with code are refused too.
    cases = {
        "activationEvents": {**package_json, "activationEvents": ["onStartupFinished"]},
        "browser": {**package_json, "browser": "./web.js"},
        "commands": {**package_json, "contributes": {"commands": [{"command": "x"}]}},
    }
    for field, meta in cases.items():
        data = tgz({**files, "package/package.json": json.dumps(meta).encode()})
        code, body, _ = await alan.publish(client, data)
        assert code == 422 and field in body["message"], (field, body)
    stray = tgz({**files, "package/lib/run.js": b"require('child_process')"})
    code, body, _ = await alan.publish(client, stray)
    assert code == 422 and "code files" in body["message"], body
    not_vscode = {**package_json}
    not_vscode.pop("engines")
    code, body, _ = await alan.publish(
        client, tgz({**files, "package/package.json": json.dumps(not_vscode).encode()})
    )
    assert code == 422 and "engines.vscode" in body["message"], body
