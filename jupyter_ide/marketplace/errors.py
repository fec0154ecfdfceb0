"""The marketplace's refusals: an HTTP status and a message a person understands."""

from __future__ import annotations

from typing import Any


class MarketplaceError(Exception):
    """A request the store refuses (or cannot find), with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        """Keep the status and the message."""
        super().__init__(message)
        self.status = status
        self.message = message


class ScanError(MarketplaceError):
    """A package that failed the publish scan: it goes to quarantine with this reason.

    ``reviewable`` failures are judgements (a compression ratio, an admin's forbidden
    permission) that an admin may overrule by releasing the package after review; the others
    (sizes, paths, links, the manifest) hold even then.
    """

    def __init__(self, message: str, status: int = 422, *, reviewable: bool = False) -> None:
        """Refuse the package's content (413 for size limits)."""
        super().__init__(status, message)
        self.reviewable = reviewable
        self.manifest: dict[str, Any] | None = None  # what the scan read before it failed
