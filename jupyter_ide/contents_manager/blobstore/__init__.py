"""Blob stores behind one interface: a local folder or S3."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from .base import (
    BlobKeyError,
    BlobMissingError,
    BlobStore,
    BlobStoreError,
    StoreReport,
    check_blob_key,
    is_blob_key,
)
from .local import LocalBlobStore
from .s3 import S3BlobStore

__all__ = [
    "BlobKeyError",
    "BlobMissingError",
    "BlobStore",
    "BlobStoreError",
    "LocalBlobStore",
    "S3BlobStore",
    "StoreReport",
    "check_blob_key",
    "is_blob_key",
    "make_blob_store",
    "parse_s3_url",
]


def parse_s3_url(url: str) -> tuple[str, str]:
    """Split ``s3://bucket/prefix`` into bucket and prefix; ValueError when malformed."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
    return parsed.netloc, parsed.path.strip("/")


def make_blob_store(
    url: str, *, endpoint_url: str = "", region: str = "", sse: str = "", kms_key_id: str = ""
) -> BlobStore:
    """Return the store a storage URL names: ``file:///dir`` or ``s3://bucket/prefix``."""
    if url.startswith("file://"):
        return LocalBlobStore(Path(unquote(urlparse(url).path)))
    bucket, prefix = parse_s3_url(url)
    return S3BlobStore(
        bucket, prefix, endpoint_url=endpoint_url, region=region, sse=sse, kms_key_id=kms_key_id
    )
