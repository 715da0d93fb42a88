"""S3-compatible object storage (AWS S3, MinIO) through boto3.

The bucket stays private: reads go through short-lived presigned URLs, and HLS
playlists and WebVTT tracks through Kadr's signed-folder view, which presigns each
reference inside them (a presigned URL cannot cover relative references).
Browsers upload straight to the bucket with presigned multipart URLs; the server
only signs, tracks and completes (media_pipeline/uploads.py).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any, BinaryIO, cast

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from media_pipeline.storage import (
    Storage,
    StorageError,
    is_rewritten,
    signed_folder_url,
)

# Failures of the network or of the service; each may succeed when tried again.
TRANSIENT = (BotoCoreError, ClientError, Boto3Error)
MISSING_CODES = {"404", "NoSuchKey", "NotFound"}

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".vtt": "text/vtt",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".json": "application/json",
}


def content_type_for(key: str, given: str = "") -> str:
    if given:
        return given
    suffix = Path(key).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def cache_control_for(key: str, given: str = "") -> str:
    if given:
        return given
    # Outputs live under a fresh generation folder per run, so they never change in place.
    if key.endswith("/original"):
        return "private, max-age=86400"
    return "private, max-age=31536000, immutable"


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


class S3Storage(Storage):
    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        public_endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str = "",
        secret_access_key: str = "",
        multipart_threshold: int = 16 * 1024 * 1024,
        max_concurrency: int = 4,
        max_attempts: int = 5,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
    ) -> None:
        self.bucket = bucket

        def client_for(endpoint: str | None) -> Any:
            config = Config(
                region_name=region,
                signature_version="s3v4",
                retries={"mode": "standard", "max_attempts": max_attempts},
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                # MinIO and moto behind a plain endpoint want path-style addressing.
                s3={"addressing_style": "path" if endpoint else "auto"},
            )
            return boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint,
                aws_access_key_id=access_key_id or None,
                aws_secret_access_key=secret_access_key or None,
                config=config,
            )

        self.client: Any = client_for(endpoint_url)
        # URLs for browsers are signed for the name browsers use (the signature covers the
        # host): a TLS proxy's public name in front of MinIO, while the containers talk to
        # minio:9000 directly. Signing needs no request, so this client never connects.
        self.signer: Any = (
            client_for(public_endpoint_url)
            if public_endpoint_url and public_endpoint_url != endpoint_url
            else self.client
        )
        self.transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=max(multipart_threshold, 5 * 1024 * 1024),
            max_concurrency=max_concurrency,
            use_threads=max_concurrency > 1,
        )

    @classmethod
    def from_settings(cls) -> S3Storage:
        return cls(
            bucket=settings.KADR_S3_BUCKET,
            endpoint_url=settings.KADR_S3_ENDPOINT_URL,
            public_endpoint_url=settings.KADR_S3_PUBLIC_ENDPOINT_URL,
            region=settings.KADR_S3_REGION,
            access_key_id=settings.KADR_S3_ACCESS_KEY_ID,
            secret_access_key=settings.KADR_S3_SECRET_ACCESS_KEY,
            multipart_threshold=settings.KADR_S3_MULTIPART_THRESHOLD,
            max_concurrency=settings.KADR_S3_MAX_CONCURRENCY,
            max_attempts=settings.KADR_S3_MAX_ATTEMPTS,
        )

    # --- objects ---------------------------------------------------------------------

    def save_file(
        self, key: str, path: Path, *, content_type: str = "", cache_control: str = ""
    ) -> int:
        expected = path.stat().st_size
        extra = {
            "ContentType": content_type_for(key, content_type),
            "CacheControl": cache_control_for(key, cache_control),
        }
        try:
            self.client.upload_file(
                str(path), self.bucket, key, ExtraArgs=extra, Config=self.transfer
            )
        except TRANSIENT as exc:
            raise StorageError(f"storing {key} failed: {exc}") from exc
        stored = self.size(key)
        if stored != expected:
            raise StorageError(f"size mismatch after storing {key}: {stored} != {expected}")
        return stored

    def open(self, key: str) -> BinaryIO:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except TRANSIENT as exc:
            raise StorageError(f"reading {key} failed: {exc}") from exc
        return cast(BinaryIO, response["Body"])

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in MISSING_CODES:
                return False
            raise StorageError(f"checking {key} failed: {exc}") from exc
        except TRANSIENT as exc:
            raise StorageError(f"checking {key} failed: {exc}") from exc
        return True

    def size(self, key: str) -> int:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except TRANSIENT as exc:
            raise StorageError(f"checking {key} failed: {exc}") from exc
        return int(head["ContentLength"])

    def fingerprint(self, key: str) -> str:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except TRANSIENT as exc:
            raise StorageError(f"checking {key} failed: {exc}") from exc
        # Every PUT or completed multipart upload makes a new ETag and LastModified;
        # a versioned bucket names the version too.
        last_modified = head.get("LastModified")
        return ":".join(
            [
                "s3",
                str(head.get("ETag", "")),
                str(head.get("ContentLength", "")),
                last_modified.isoformat() if last_modified else "",
                str(head.get("VersionId", "")),
            ]
        )

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except TRANSIENT as exc:
            raise StorageError(f"deleting {key} failed: {exc}") from exc

    def delete_prefix(self, prefix: str) -> None:
        prefix = prefix.rstrip("/") + "/"
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if keys:
                    self.client.delete_objects(
                        Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True}
                    )
        except TRANSIENT as exc:
            raise StorageError(f"deleting {prefix} failed: {exc}") from exc

    def download_to(self, key: str, path: Path) -> None:
        try:
            self.client.download_file(self.bucket, key, str(path), Config=self.transfer)
        except TRANSIENT as exc:
            path.unlink(missing_ok=True)
            raise StorageError(f"downloading {key} failed: {exc}") from exc

    # --- URLs ------------------------------------------------------------------------

    def url(self, key: str, *, ttl: int | None = None, download_name: str | None = None) -> str:
        if is_rewritten(key):
            return signed_folder_url(key, ttl=ttl, download_name=download_name)
        return self.presign(
            key, ttl=int(ttl or settings.KADR_SIGNED_URL_TTL), download_name=download_name
        )

    def direct_url(self, key: str, *, ttl: int) -> str:
        return self.presign(key, ttl=ttl)

    def presign(self, key: str, *, ttl: int, download_name: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if download_name:
            safe = download_name.replace('"', "").replace("\\", "")
            params["ResponseContentDisposition"] = f'attachment; filename="{safe}"'
        try:
            return str(
                self.signer.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl)
            )
        except TRANSIENT as exc:
            raise StorageError(f"signing {key} failed: {exc}") from exc

    # --- direct-to-bucket multipart uploads (browsers PUT the parts) -----------------

    @property
    def supports_direct_upload(self) -> bool:
        return True

    def create_multipart(self, key: str, *, content_type: str = "") -> str:
        try:
            response = self.client.create_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                ContentType=content_type_for(key, content_type),
                CacheControl=cache_control_for(key),
            )
        except TRANSIENT as exc:
            raise StorageError(f"starting the upload of {key} failed: {exc}") from exc
        return str(response["UploadId"])

    def sign_part(
        self, key: str, upload_id: str, part_number: int, *, ttl: int, size: int | None = None
    ) -> str:
        """A presigned PUT for one part; with size, the bucket refuses any other length."""
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "UploadId": upload_id,
            "PartNumber": part_number,
        }
        if size is not None:
            params["ContentLength"] = size
        try:
            return str(
                self.signer.generate_presigned_url("upload_part", Params=params, ExpiresIn=ttl)
            )
        except TRANSIENT as exc:
            raise StorageError(f"signing part {part_number} of {key} failed: {exc}") from exc

    def list_parts(self, key: str, upload_id: str) -> list[dict[str, Any]]:
        """The parts the bucket holds: [{"number", "etag", "size"}], by number."""
        parts: list[dict[str, Any]] = []
        try:
            pages = self.client.get_paginator("list_parts").paginate(
                Bucket=self.bucket, Key=key, UploadId=upload_id
            )
            for page in pages:
                parts.extend(
                    {"number": p["PartNumber"], "etag": p["ETag"], "size": p["Size"]}
                    for p in page.get("Parts", [])
                )
        except TRANSIENT as exc:
            raise StorageError(f"listing the parts of {key} failed: {exc}") from exc
        return sorted(parts, key=lambda p: p["number"])

    def complete_multipart(self, key: str, upload_id: str, parts: list[dict[str, Any]]) -> int:
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": p["number"], "ETag": p["etag"]} for p in parts]
                },
            )
        except TRANSIENT as exc:
            raise StorageError(f"completing the upload of {key} failed: {exc}") from exc
        return self.size(key)

    def abort_multipart(self, key: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            if _code(exc) == "NoSuchUpload":
                return
            raise StorageError(f"aborting the upload of {key} failed: {exc}") from exc
        except TRANSIENT as exc:
            raise StorageError(f"aborting the upload of {key} failed: {exc}") from exc
