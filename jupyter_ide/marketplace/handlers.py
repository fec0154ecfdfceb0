"""HTTP for the extension store: /ide/api/marketplace/..., thin over the managers."""

from __future__ import annotations

import base64
import json
from typing import Any

from tornado import web

from ..auth import requires
from ..server_extension.json_handler import JSONAPIHandler
from .common import Caller
from .errors import MarketplaceError
from .runtime_api import decide
from .setup import MARKETPLACE, Marketplace

BASE = r"/ide/api/marketplace"
NAME = r"(?P<name>[^/]+)"
VERSION = r"(?P<version>[^/]+)"
NAMESPACE = r"(?P<namespace>[^/]+)"


class _MarketplaceHandler(JSONAPIHandler):
    """Shared parts: the caller, the JSON body, the marketplace, its refusals."""

    auth_resource = "ide"

    @property
    def marketplace(self) -> Marketplace:
        """The server's marketplace."""
        found: Marketplace | None = self.settings.get(MARKETPLACE)
        if found is None:
            raise web.HTTPError(503, "The extension store is not available on this server")
        return found

    def caller(self) -> Caller:
        """Return who calls."""
        return Caller(*self.who())

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Answer a marketplace refusal as Jupyter's JSON error, with its status."""
        exc_info = kwargs.get("exc_info")
        error = exc_info[1] if exc_info else None
        if isinstance(error, MarketplaceError):
            self.set_status(error.status)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"message": error.message, "reason": None}))
            return
        super().write_error(status_code, **kwargs)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """Log a refusal as a warning without a traceback (it is not a server error)."""
        if isinstance(value, MarketplaceError):
            self.log.warning("%d %s: %s", value.status, self.request.path, value.message)
            return
        super().log_exception(typ, value, tb)


class PackagesHandler(_MarketplaceHandler):
    """Search (GET); publish a signed package (POST, the archive's bytes as the body)."""

    @web.authenticated
    @requires("marketplace:use")
    async def get(self) -> None:
        """Search: ?q=, ?category=, ?sort=downloads|rating|date|name|relevance, ?limit=, ?offset."""
        arg = self.get_query_argument
        self.reply(
            await self.marketplace.catalog.search(
                self.caller(),
                q=arg("q", ""),
                category=arg("category", ""),
                sort=arg("sort", "downloads"),
                limit=arg("limit", "20"),
                offset=arg("offset", "0"),
            )
        )

    @web.authenticated
    @requires("marketplace:publish")
    async def post(self) -> None:
        """Publish: ?signature= (base64 Ed25519 over the sha256) and ?key= (the key's id)."""
        signature = self.get_query_argument("signature", "") or None
        key_id = self.get_query_argument("key", "") or None
        result = await self.marketplace.publishing.publish(
            self.caller(), self.request.body or b"", signature, key_id
        )
        self.reply(result, 201)


class PackageHandler(_MarketplaceHandler):
    """One extension: its versions, permissions and integrity hashes."""

    @web.authenticated
    @requires("marketplace:use")
    async def get(self, name: str) -> None:
        """Return the extension's detail."""
        self.reply(await self.marketplace.catalog.detail(self.caller(), name))


class DownloadHandler(_MarketplaceHandler):
    """GET: a version's archive, with its sha256 in Digest and X-Content-SHA256."""

    @web.authenticated
    @requires("marketplace:use")
    async def get(self, name: str, version: str) -> None:
        """Send the archive."""
        data, content_hash, _ = await self.marketplace.catalog.download(
            self.caller(), name, version
        )
        digest = base64.b64encode(bytes.fromhex(content_hash)).decode("ascii")
        self.set_header("Digest", f"sha-256={digest}")
        self.set_header("X-Content-SHA256", content_hash)
        self.set_header("Content-Disposition", f'attachment; filename="{name}-{version}.zip"')
        self.finish(data, set_content_type="application/octet-stream")


class YankHandler(_MarketplaceHandler):
    """POST {reason}: yank a version; DELETE: undo the yank."""

    @web.authenticated
    @requires("marketplace:publish")
    async def post(self, name: str, version: str) -> None:
        """Yank the version."""
        publishing = self.marketplace.publishing
        self.reply(await publishing.yank(self.caller(), name, version, self.body()))

    @web.authenticated
    @requires("marketplace:publish")
    async def delete(self, name: str, version: str) -> None:
        """Undo a yank."""
        publishing = self.marketplace.publishing
        self.reply(await publishing.yank(self.caller(), name, version, None, undo=True))


class RatingHandler(_MarketplaceHandler):
    """PUT {stars}: the caller's rating of an extension."""

    @web.authenticated
    @requires("marketplace:use")
    async def put(self, name: str) -> None:
        """Set the caller's stars."""
        self.reply(await self.marketplace.catalog.rate(self.caller(), name, self.body()))


class PublishersHandler(_MarketplaceHandler):
    """GET: one's namespaces (admins: all); POST {namespace, display_name}: ask for one."""

    @web.authenticated
    @requires("marketplace:publish")
    async def get(self) -> None:
        """List namespaces with their keys."""
        self.reply({"publishers": await self.marketplace.publishing.publishers(self.caller())})

    @web.authenticated
    @requires("marketplace:publish")
    async def post(self) -> None:
        """Ask for a namespace (approved by an admin)."""
        publishing = self.marketplace.publishing
        self.reply(await publishing.request_namespace(self.caller(), self.body()), 201)


class PublisherHandler(_MarketplaceHandler):
    """PATCH {status, forbidden_permissions}: an admin's decision on a namespace."""

    @web.authenticated
    @requires("marketplace:admin")
    async def patch(self, namespace: str) -> None:
        """Approve or reject; set forbidden permissions."""
        publishing = self.marketplace.publishing
        self.reply(await publishing.decide(self.caller(), namespace, self.body()))


class KeysHandler(_MarketplaceHandler):
    """POST {public_key}: register an Ed25519 public key for a namespace."""

    @web.authenticated
    @requires("marketplace:publish")
    async def post(self, namespace: str) -> None:
        """Register the key."""
        publishing = self.marketplace.publishing
        self.reply(await publishing.add_key(self.caller(), namespace, self.body()), 201)


class KeyHandler(_MarketplaceHandler):
    """DELETE: revoke a key."""

    @web.authenticated
    @requires("marketplace:publish")
    async def delete(self, namespace: str, key_id: str) -> None:
        """Revoke the key; what only it signed stops being served."""
        publishing = self.marketplace.publishing
        self.reply(await publishing.revoke_key(self.caller(), namespace, key_id))


class QuarantineHandler(_MarketplaceHandler):
    """GET ?status=pending|released|rejected: uploads that failed the publish scan, reasons."""

    @web.authenticated
    @requires("marketplace:admin")
    async def get(self) -> None:
        """List the quarantine, newest first."""
        status = self.get_query_argument("status", "")
        self.reply({"quarantine": await self.marketplace.quarantine.listing(status)})


class QuarantineEntryHandler(_MarketplaceHandler):
    """PATCH {reviewed: true}: mark a quarantine entry reviewed."""

    @web.authenticated
    @requires("marketplace:admin")
    async def patch(self, entry: str) -> None:
        """Mark it reviewed."""
        self.reply(await self.marketplace.quarantine.review(self.caller(), entry, self.body()))


class QuarantineDecisionHandler(_MarketplaceHandler):
    """POST .../release: publish after review; POST .../reject {note?}: delete the bytes."""

    @web.authenticated
    @requires("marketplace:admin")
    async def post(self, entry: str, action: str) -> None:
        """Release or reject the entry."""
        if action == "release":
            self.reply(await self.marketplace.publishing.release(self.caller(), entry), 201)
        elif action == "reject":
            self.reply(await self.marketplace.quarantine.reject(self.caller(), entry, self.body()))
        else:
            raise web.HTTPError(404, f"No action {action!r}: release or reject")


class InstallsHandler(_MarketplaceHandler):
    """GET: the caller's extensions; POST {name, version?, granted?, settings?}: install."""

    @web.authenticated
    @requires("marketplace:use")
    async def get(self) -> None:
        """List the caller's extensions (course-locked ones included)."""
        self.reply({"installs": await self.marketplace.installs.listing(self.caller())})

    @web.authenticated
    @requires("marketplace:use")
    async def post(self) -> None:
        """Install an extension."""
        self.reply(await self.marketplace.installs.install(self.caller(), self.body()), 201)


class InstallHandler(_MarketplaceHandler):
    """PATCH {enabled, granted, settings, version}: change an install; DELETE: uninstall."""

    @web.authenticated
    @requires("marketplace:use")
    async def patch(self, name: str) -> None:
        """Change the install."""
        self.reply(await self.marketplace.installs.change(self.caller(), name, self.body()))

    @web.authenticated
    @requires("marketplace:use")
    async def delete(self, name: str) -> None:
        """Uninstall (not a course's locked extension)."""
        await self.marketplace.installs.uninstall(self.caller(), name)
        self.set_status(204)
        self.finish()


class CallCheckHandler(_MarketplaceHandler):
    """POST {method, params}: whether the caller's extension may make this runtime call."""

    @web.authenticated
    @requires("marketplace:use")
    async def post(self, name: str) -> None:
        """Return allow, prompt or deny, with the permission and the reason."""
        body = self.body()
        if not isinstance(body, dict):
            raise web.HTTPError(400, "Send {method, params}")
        install = await self.marketplace.installs.for_call(self.caller(), name)
        self.reply(decide(install, body.get("method"), body.get("params")).as_json())


class ListsHandler(_MarketplaceHandler):
    """GET: the admin's allow and block lists."""

    @web.authenticated
    @requires("marketplace:admin")
    async def get(self) -> None:
        """Return both lists."""
        self.reply(await self.marketplace.catalog.lists())


class ListEntryHandler(_MarketplaceHandler):
    """PUT {reason}: add a namespace or package to a list; DELETE: take it off."""

    @web.authenticated
    @requires("marketplace:admin")
    async def put(self, which: str, subject: str) -> None:
        """Add to the list."""
        catalog = self.marketplace.catalog
        self.reply(await catalog.set_entry(self.caller(), which, subject, self.body()))

    @web.authenticated
    @requires("marketplace:admin")
    async def delete(self, which: str, subject: str) -> None:
        """Take off the list."""
        catalog = self.marketplace.catalog
        self.reply(await catalog.set_entry(self.caller(), which, subject, None, remove=True))


class CourseLocksHandler(_MarketplaceHandler):
    """GET: the extensions a course locks in for its students."""

    @web.authenticated
    @requires("marketplace:use")
    async def get(self, course: str) -> None:
        """List the course's locked extensions (members)."""
        installs = self.marketplace.installs
        self.reply({"locked": await installs.course_locks(self.caller(), course)})


class CourseLockHandler(_MarketplaceHandler):
    """PUT {granted?}: lock an extension in for a course; DELETE: lift the lock."""

    @web.authenticated
    @requires("marketplace:publish")
    async def put(self, course: str, name: str) -> None:
        """Lock it in (instructors of the course, admins)."""
        installs = self.marketplace.installs
        self.reply(await installs.lock(self.caller(), course, name, self.body()))

    @web.authenticated
    @requires("marketplace:publish")
    async def delete(self, course: str, name: str) -> None:
        """Lift the lock."""
        await self.marketplace.installs.unlock(self.caller(), course, name)
        self.set_status(204)
        self.finish()


PACKAGE = rf"{BASE}/packages/{NAME}"
default_handlers: list[tuple[str, type[web.RequestHandler], dict[str, Any]]] = [
    (rf"{BASE}/packages/?", PackagesHandler, {}),
    (rf"{PACKAGE}/?", PackageHandler, {}),
    (rf"{PACKAGE}/rating", RatingHandler, {}),
    (rf"{PACKAGE}/versions/{VERSION}/download", DownloadHandler, {}),
    (rf"{PACKAGE}/versions/{VERSION}/yank", YankHandler, {}),
    (rf"{BASE}/publishers/?", PublishersHandler, {}),
    (rf"{BASE}/publishers/{NAMESPACE}/?", PublisherHandler, {}),
    (rf"{BASE}/publishers/{NAMESPACE}/keys/?", KeysHandler, {}),
    (rf"{BASE}/publishers/{NAMESPACE}/keys/(?P<key_id>[^/]+)", KeyHandler, {}),
    (rf"{BASE}/quarantine/?", QuarantineHandler, {}),
    (rf"{BASE}/quarantine/(?P<entry>[^/]+)", QuarantineEntryHandler, {}),
    (
        rf"{BASE}/quarantine/(?P<entry>[^/]+)/(?P<action>[^/]+)",
        QuarantineDecisionHandler,
        {},
    ),
    (rf"{BASE}/installs/?", InstallsHandler, {}),
    (rf"{BASE}/installs/{NAME}", InstallHandler, {}),
    (rf"{BASE}/installs/{NAME}/calls", CallCheckHandler, {}),
    (rf"{BASE}/lists/?", ListsHandler, {}),
    (rf"{BASE}/lists/(?P<which>[^/]+)/(?P<subject>[^/]+)", ListEntryHandler, {}),
    (rf"{BASE}/courses/(?P<course>[^/]+)/extensions/?", CourseLocksHandler, {}),
    (rf"{BASE}/courses/(?P<course>[^/]+)/extensions/{NAME}", CourseLockHandler, {}),
]
