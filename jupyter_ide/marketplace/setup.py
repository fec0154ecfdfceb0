"""Assemble the marketplace for a server: its blob store, publishing, catalogue, installs."""

from __future__ import annotations

from typing import Any

from ..cache import Cache
from ..contents_manager.blobstore import BlobStore, make_blob_store
from ..db import Database
from .archive import ScanLimits
from .catalog import Catalog
from .grants import GrantCache
from .installs import Installs
from .publishing import Publishing
from .quarantine import Quarantine
from .settings import MarketplaceSettings

MARKETPLACE = "jupyter_ide_marketplace"


class Marketplace:
    """The store's parts, as handlers reach them from the web app's settings."""

    def __init__(
        self,
        db: Database,
        store: BlobStore,
        limits: ScanLimits,
        held: BlobStore,
        cache: Cache | None = None,
    ) -> None:
        """Make the parts over one database, the packages' and quarantine's stores, a cache."""
        self.db = db
        self.store = store
        self.held = held
        self.grants = GrantCache(cache)
        self.quarantine = Quarantine(db, held)
        self.publishing = Publishing(db, store, limits, self.quarantine, self.grants)
        self.catalog = Catalog(db, store, self.grants)
        self.installs = Installs(db, self.grants)

    async def close(self) -> None:
        """Release the blob stores' connections."""
        await self.store.close()
        await self.held.close()


def packages_url(storage_url: str) -> str:
    """Return where packages go by default: the IDE's storage, under marketplace/."""
    return storage_url.rstrip("/") + "/marketplace"


def quarantine_url(packages: str) -> str:
    """Return where quarantined uploads wait for review: beside the packages, not among them."""
    return packages.rstrip("/") + "/quarantine"


def attach_marketplace(app: Any) -> None:
    """Put the marketplace in the extension's settings (the IDE's database and storage)."""
    if app.db is None or app.ide_settings is None:
        return
    settings = MarketplaceSettings(parent=app)
    ide = app.ide_settings
    url = settings.storage_url or packages_url(ide.storage_url)
    store, held = (
        make_blob_store(
            where,
            endpoint_url=ide.s3_endpoint_url,
            region=ide.s3_region,
            sse=ide.s3_sse,
            kms_key_id=ide.s3_kms_key_id,
        )
        for where in (url, quarantine_url(url))
    )
    cache = getattr(app, "cache", None)
    app.settings[MARKETPLACE] = Marketplace(app.db, store, settings.limits(), held, cache)


async def detach_marketplace(settings: dict[str, Any]) -> None:
    """Close the marketplace's store at shutdown."""
    marketplace: Marketplace | None = settings.get(MARKETPLACE)
    if marketplace is not None:
        await marketplace.close()
