"""The marketplace's settings: where packages are kept and the publish scan's limits."""

from __future__ import annotations

from typing import Any

from traitlets import Float, Int, TraitError, Unicode, validate
from traitlets.config import LoggingConfigurable

from .archive import MiB, ScanLimits


class MarketplaceSettings(LoggingConfigurable):
    """Extension store settings."""

    storage_url = Unicode(
        "",
        help="Where package archives are kept: s3://bucket/prefix or file:///dir. Empty: the "
        "IDE's storage_url with /marketplace added (the S3 settings are the IDE's).",
    ).tag(config=True)

    max_package_bytes = Int(5 * MiB, help="Largest package archive accepted.").tag(config=True)

    max_unpacked_bytes = Int(
        20 * MiB, help="Largest total size of a package's files once unpacked."
    ).tag(config=True)

    max_ratio = Float(
        100.0, help="Highest unpacked/packed size ratio (whole archive and each entry)."
    ).tag(config=True)

    max_entries = Int(2000, help="Most files and folders in one package.").tag(config=True)

    @validate("max_package_bytes", "max_unpacked_bytes", "max_ratio", "max_entries")
    def _positive(self, proposal: Any) -> Any:
        if proposal["value"] <= 0:
            raise TraitError(f"{proposal['trait'].name} must be above 0")
        return proposal["value"]

    @validate("storage_url")
    def _url(self, proposal: Any) -> str:
        value = str(proposal["value"])
        if value and not value.startswith(("s3://", "file://")):
            raise TraitError(f"storage_url must start with s3:// or file://, not {value!r}")
        return value

    def limits(self) -> ScanLimits:
        """Return the scan's limits."""
        return ScanLimits(
            max_package_bytes=self.max_package_bytes,
            max_unpacked_bytes=self.max_unpacked_bytes,
            max_ratio=self.max_ratio,
            max_entries=self.max_entries,
        )
