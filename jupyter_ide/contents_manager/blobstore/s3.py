"""Blobs as S3 objects, through aiobotocore (any S3 API: AWS, MinIO, Ceph, moto)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from .base import (
    BlobMissingError,
    BlobStore,
    BlobStoreError,
    StoreReport,
    check_blob_key,
    is_blob_key,
)

PART_SIZE = 8 * 1024 * 1024


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _why(error: Exception) -> str:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return f"{info.get('Code', 'error')}: {info.get('Message', '')}".rstrip(": ")
    return str(error) or type(error).__name__


class S3BlobStore(BlobStore):
    """``s3://bucket/prefix/blobs/<sha256>``, with optional server-side encryption."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str = "",
        region: str = "",
        sse: str = "",
        kms_key_id: str = "",
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        attempts: int = 3,
        part_size: int = PART_SIZE,
    ) -> None:
        """Remember where to go; nothing connects until first use."""
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url or None
        self.region = region or None
        self.sse = sse
        self.kms_key_id = kms_key_id
        self.part_size = part_size
        self._config = AioConfig(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": attempts, "mode": "standard"},
            max_pool_connections=20,
        )
        self._stack: AsyncExitStack | None = None
        self._client: Any = None
        self._lock = asyncio.Lock()

    def describe(self) -> str:
        """Return the bucket and prefix (and endpoint when not AWS)."""
        where = f"s3://{self.bucket}/{self.prefix}"
        return f"{where} at {self.endpoint_url}" if self.endpoint_url else where

    def _folder(self) -> str:
        return f"{self.prefix}blobs/"

    def key_of(self, key: str) -> str:
        """Return the object key of blob ``key``; every method gets its object key here."""
        return self._folder() + check_blob_key(key)

    def _write_args(self) -> dict[str, str]:
        if not self.sse:
            return {}
        args = {"ServerSideEncryption": self.sse}
        if self.kms_key_id:
            args["SSEKMSKeyId"] = self.kms_key_id
        return args

    async def client(self) -> Any:
        """Return the shared client, created on first use."""
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    stack = AsyncExitStack()
                    session = get_session()
                    self._client = await stack.enter_async_context(
                        session.create_client(
                            "s3",
                            endpoint_url=self.endpoint_url,
                            region_name=self.region,
                            config=self._config,
                        )
                    )
                    self._stack = stack
        return self._client

    async def close(self) -> None:
        """Close the client's connections."""
        if self._stack is not None:
            await self._stack.aclose()
        self._stack, self._client = None, None

    def _failed(self, action: str, error: Exception) -> BlobStoreError:
        return BlobStoreError(f"S3 ({self.describe()}) could not {action}: {_why(error)}")

    async def put(self, key: str, data: bytes) -> None:
        """PUT the object."""
        object_key = self.key_of(key)
        client = await self.client()
        try:
            await client.put_object(
                Bucket=self.bucket, Key=object_key, Body=data, **self._write_args()
            )
        except (BotoCoreError, ClientError) as e:
            raise self._failed("store a file", e) from e

    async def put_file(self, key: str, path: Path, size: int) -> None:
        """PUT small files; stream larger ones as a multipart upload, one part in memory."""
        object_key = self.key_of(key)
        if size <= self.part_size:
            await self.put(key, await asyncio.to_thread(path.read_bytes))
            return
        client = await self.client()
        try:
            started = await client.create_multipart_upload(
                Bucket=self.bucket, Key=object_key, **self._write_args()
            )
        except (BotoCoreError, ClientError) as e:
            raise self._failed("start an upload", e) from e
        upload_id = started["UploadId"]
        try:
            parts = []
            with path.open("rb") as source:
                number = 1
                while chunk := await asyncio.to_thread(source.read, self.part_size):
                    sent = await client.upload_part(
                        Bucket=self.bucket,
                        Key=object_key,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=chunk,
                    )
                    parts.append({"ETag": sent["ETag"], "PartNumber": number})
                    number += 1
            await client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=object_key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except (BotoCoreError, ClientError, OSError) as e:
            try:
                await client.abort_multipart_upload(
                    Bucket=self.bucket, Key=object_key, UploadId=upload_id
                )
            except (BotoCoreError, ClientError):
                pass
            raise self._failed("upload a large file", e) from e

    async def get(self, key: str) -> bytes:
        """GET the object's bytes."""
        object_key = self.key_of(key)
        client = await self.client()
        try:
            response = await client.get_object(Bucket=self.bucket, Key=object_key)
            async with response["Body"] as stream:
                return bytes(await stream.read())
        except ClientError as e:
            if _code(e) in ("NoSuchKey", "404"):
                raise BlobMissingError(f"blob {key} is missing from {self.describe()}") from e
            raise self._failed("read a file", e) from e
        except BotoCoreError as e:
            raise self._failed("read a file", e) from e

    async def exists(self, key: str) -> bool:
        """HEAD the object."""
        object_key = self.key_of(key)
        client = await self.client()
        try:
            await client.head_object(Bucket=self.bucket, Key=object_key)
        except ClientError as e:
            if _code(e) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._failed("look up a file", e) from e
        except BotoCoreError as e:
            raise self._failed("look up a file", e) from e
        return True

    async def delete(self, key: str) -> None:
        """DELETE the object."""
        object_key = self.key_of(key)
        client = await self.client()
        try:
            await client.delete_object(Bucket=self.bucket, Key=object_key)
        except (BotoCoreError, ClientError) as e:
            raise self._failed("delete a file", e) from e

    async def keys(self) -> AsyncIterator[tuple[str, datetime]]:
        """List ``prefix/blobs/`` page by page (objects not named by a blob key are skipped)."""
        client = await self.client()
        start = self._folder()
        paginator = client.get_paginator("list_objects_v2")
        try:
            async for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
                for item in page.get("Contents", []):
                    key = item["Key"][len(start) :]
                    if is_blob_key(key):
                        yield key, item["LastModified"]
        except (BotoCoreError, ClientError) as e:
            raise self._failed("list files", e) from e

    async def check(self) -> StoreReport:
        """HEAD the bucket, write/read/delete a probe, report versioning and encryption."""
        try:
            client = await self.client()
            await client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as e:
            return StoreReport(False, False, problem=f"{self.describe()}: {_why(e)}")
        details: dict[str, str] = {}
        try:
            versioning = await client.get_bucket_versioning(Bucket=self.bucket)
            details["versioning"] = str(versioning.get("Status", "off")).lower()
        except (BotoCoreError, ClientError) as e:
            details["versioning"] = f"unknown ({_why(e)})"
        try:
            enc = await client.get_bucket_encryption(Bucket=self.bucket)
            rules = enc["ServerSideEncryptionConfiguration"]["Rules"]
            algorithm = rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
            details["bucket encryption"] = str(algorithm)
        except ClientError as e:
            details["bucket encryption"] = (
                "none" if "NotFound" in _code(e) else f"unknown ({_why(e)})"
            )
        except (BotoCoreError, KeyError, IndexError):
            details["bucket encryption"] = "unknown"
        details["encryption on write"] = self.sse or "none"
        probe = f"{self.prefix}.probe-{uuid.uuid4().hex}"
        try:
            await client.put_object(
                Bucket=self.bucket, Key=probe, Body=b"probe", **self._write_args()
            )
            await client.delete_object(Bucket=self.bucket, Key=probe)
        except (BotoCoreError, ClientError) as e:
            return StoreReport(True, False, details, problem=f"not writable: {_why(e)}")
        return StoreReport(True, True, details)
