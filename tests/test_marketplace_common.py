"""Shared parts of the marketplace tests: hub-like users, an API client, signed packages."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from jupyter_ide.marketplace.examples import pack, sources
from jupyter_ide.marketplace.setup import MARKETPLACE
from jupyter_ide.marketplace.signing import key_id_of, raw_public_key, sign

from .test_ai_common import HubLikeIdentity, call_as

# A real declarative VS Code theme of the npm registry (licence: MIT OR Apache-2.0).
NPM_THEME = "solarflare-theme@0.0.6"

USERS = {
    "alan": "instructor",
    "eve": "instructor",
    "sam": "student",
    "ada": "student",
    "root": "admin",
}


def marketplace_config(base: dict[str, Any], **limits: Any) -> dict[str, Any]:
    """A server whose callers are the hub-like test users, with the store's limits given."""
    HubLikeIdentity.USERS.update(USERS)
    return {
        **base,
        "ServerApp": {**base["ServerApp"], "identity_provider_class": HubLikeIdentity},
        "MarketplaceSettings": limits,
    }


class Client:
    """Calls /ide/api/marketplace as a test user."""

    def __init__(self, jp_fetch: Any) -> None:
        """Use pytest-jupyter's fetch."""
        self.fetch = jp_fetch

    async def call(
        self,
        who: str,
        method: str,
        *path: str,
        body: Any = None,
        raw: bytes | None = None,
        **params: str,
    ) -> tuple[int, Any, Any]:
        """Return (status, parsed JSON or bytes, headers)."""
        code, data, headers = await call_as(
            self.fetch,
            who,
            method,
            "ide",
            "api",
            "marketplace",
            *path,
            body=body,
            raw=raw,
            params=params,
        )
        try:
            return code, json.loads(data), headers
        except ValueError:
            return code, data, headers

    async def ok(self, who: str, method: str, *path: str, **kwargs: Any) -> Any:
        """Call and insist on a 2xx; return the body."""
        code, body, _ = await self.call(who, method, *path, **kwargs)
        assert 200 <= code < 300, (method, path, code, body)
        return body

    async def refused(self, status: int, who: str, method: str, *path: str, **kw: Any) -> str:
        """Call and insist on ``status``; return the message."""
        code, body, _ = await self.call(who, method, *path, **kw)
        assert code == status, (method, path, code, body)
        assert isinstance(body, dict) and body.get("message"), body
        return str(body["message"])


@dataclass
class Publisher:
    """An approved namespace with a registered key."""

    namespace: str
    owner: str
    key: Ed25519PrivateKey
    key_id: str

    async def publish(
        self, client: Client, data: bytes, *, who: str | None = None, sign_with: Any = None
    ) -> tuple[int, Any, Any]:
        """Sign ``data`` (with this key, or ``sign_with``) and publish it."""
        signer = sign_with or self.key
        signature = sign(signer, hashlib.sha256(data).hexdigest())
        return await client.call(
            who or self.owner,
            "POST",
            "packages",
            raw=data,
            signature=signature,
            key=self.key_id,
        )

    async def published(self, client: Client, data: bytes) -> Any:
        """Publish and insist it was accepted."""
        code, body, _ = await self.publish(client, data)
        assert code == 201, (code, body)
        return body


async def make_publisher(client: Client, namespace: str, owner: str) -> Publisher:
    """Ask for a namespace as ``owner``, have root approve it, register a new key."""
    await client.ok(owner, "POST", "publishers", body={"namespace": namespace})
    await client.ok("root", "PATCH", "publishers", namespace, body={"status": "approved"})
    key = Ed25519PrivateKey.generate()
    public = raw_public_key(key.public_key())
    import base64

    encoded = base64.b64encode(public).decode()
    added = await client.ok(
        owner, "POST", "publishers", namespace, "keys", body={"public_key": encoded}
    )
    assert added["key_id"] == key_id_of(public)
    return Publisher(namespace, owner, key, added["key_id"])


async def register_key(client: Client, namespace: str, owner: str) -> Publisher:
    """Register a new key for an existing namespace, as its owner."""
    key = Ed25519PrivateKey.generate()
    encoded = base64.b64encode(raw_public_key(key.public_key())).decode()
    path = ("publishers", namespace, "keys")
    added = await client.ok(owner, "POST", *path, body={"public_key": encoded})
    return Publisher(namespace, owner, key, added["key_id"])


async def add_key(client: Client, publisher: Publisher) -> Publisher:
    """Register a second key for the same namespace."""
    return await register_key(client, publisher.namespace, publisher.owner)


def manifest(namespace: str, name: str, version: str = "1.0.0", **extra: Any) -> dict[str, Any]:
    """A small valid manifest."""
    return {
        "name": name,
        "publisher": namespace,
        "version": version,
        "displayName": extra.pop("displayName", name.replace("-", " ").title()),
        "engines": {"jupyter-ide": ">=0.1"},
        "main": "main.js",
        "permissions": extra.pop("permissions", ["editor.read"]),
        **extra,
    }


def package(meta: dict[str, Any], files: dict[str, bytes] | None = None) -> bytes:
    """A zip with the manifest and a main.js (plus ``files``)."""
    content = {"manifest.json": json.dumps(meta).encode(), "main.js": b"export {};\n"}
    content.update(files or {})
    return pack(content)


def example(name: str, namespace: str) -> bytes:
    """One of the repo's examples, packed for ``namespace``."""
    return pack(sources(name, namespace))


def tgz(files: dict[str, bytes]) -> bytes:
    """A gzip'd tar (an npm package's format)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def raw_zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    """A zip written entry by entry, names unchecked (for hostile archives)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return buffer.getvalue()


def marketplace(app: Any) -> Any:
    """The server's marketplace."""
    return app.web_app.settings[MARKETPLACE]


async def stored_blobs(app: Any) -> list[str]:
    """Every package blob in the marketplace's store."""
    return [key async for key, _ in marketplace(app).store.keys()]


async def count_rows(app: Any, model: Any) -> int:
    """Rows in a table."""
    async with marketplace(app).db.session() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def audit_events(app: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """Every marketplace audit event: (event, user, detail), oldest first."""
    from jupyter_ide.db.models import AuditEvent

    async with marketplace(app).db.session() as session:
        rows = await session.execute(
            select(AuditEvent).where(AuditEvent.event.like("marketplace_%")).order_by(AuditEvent.id)
        )
        return [(e.event, e.user_name, e.detail) for e in rows.scalars()]


def npm_pack(spec: str, folder: Path) -> bytes:
    """The registry's tarball of ``spec``, fetched once into ``folder`` by `npm pack`."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is missing: `make setup` installs Node.js and npm")
    run = subprocess.run(
        [npm, "pack", spec, "--json", "--pack-destination", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    filename = json.loads(run.stdout)[0]["filename"]
    return (folder / Path(filename).name).read_bytes()
