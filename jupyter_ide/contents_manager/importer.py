"""Import an s3contents-style bucket (one object per file, `.s3keep` folder markers)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from tornado import web

from ..db import Database
from .blobstore import BlobStore, S3BlobStore, parse_s3_url
from .index import FileIndex, Limits, open_workspace
from .paths import parent_of
from .validation import check_api_path

FOLDER_MARKER = ".s3keep"
log = logging.getLogger(__name__)


@dataclass
class ImportReport:
    """What an import did."""

    files: int = 0
    folders: int = 0
    skipped: int = 0
    bytes: int = 0


async def import_bucket(
    db: Database,
    store: BlobStore,
    source_url: str,
    *,
    user: str,
    workspace: str,
    endpoint_url: str = "",
    region: str = "",
) -> ImportReport:
    """Copy every object under ``source_url`` into ``workspace`` of ``user``."""
    bucket, prefix = parse_s3_url(source_url)
    source = S3BlobStore(bucket, endpoint_url=endpoint_url, region=region)
    user_id, workspace_id = await open_workspace(db, user, workspace)
    index = FileIndex(db, user_id, workspace_id, Limits())
    report = ImportReport()
    start = f"{prefix}/" if prefix else ""
    try:
        client = await source.client()
        paginator = client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=bucket, Prefix=start):
            for item in page.get("Contents", []):
                await _import_one(client, bucket, item["Key"], start, store, index, report)
    finally:
        await source.close()
    return report


async def _import_one(
    client: object,
    bucket: str,
    key: str,
    start: str,
    store: BlobStore,
    index: FileIndex,
    report: ImportReport,
) -> None:
    relative = key[len(start) :]
    try:
        path = check_api_path(relative)
    except web.HTTPError as e:
        log.warning("Skipping %r: %s", key, e.log_message)
        report.skipped += 1
        return
    if not path:
        return
    if path == FOLDER_MARKER or path.endswith("/" + FOLDER_MARKER):
        folder = parent_of(path)
        if folder:
            await index.mkdir(folder, create_parents=True)
            report.folders += 1
        return
    if relative.endswith("/"):
        await index.mkdir(path, create_parents=True)
        report.folders += 1
        return
    response = await client.get_object(Bucket=bucket, Key=key)  # type: ignore[attr-defined]
    async with response["Body"] as stream:
        data = bytes(await stream.read())
    content_hash = hashlib.sha256(data).hexdigest()
    if await index.touch_blob(content_hash, len(data)) or not await store.exists(content_hash):
        await store.put(content_hash, data)
    await index.write_file(path, content_hash, len(data), "import", create_parents=True)
    report.files += 1
    report.bytes += len(data)
