"""Where media bytes live: content-addressed objects on local disk or in S3-compatible storage.

A key is ``{prefix}/{aa}/{bb}/{sha256}.{ext}``: the same bytes are stored once, whoever uploads
them and however often. Writes are atomic (a temporary name, then a rename; S3 puts are atomic
by nature), so a reader never sees half a file. Each region has its own root or bucket.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from stoa.config import Settings

CHUNK = 1024 * 1024
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "mp4": "video/mp4", "webp": "image/webp", "gif": "image/gif"}


def content_key(digest: str, extension: str, prefix: str) -> str:
    return f"{prefix}/{digest[:2]}/{digest[2:4]}/{digest}.{extension}"


def file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


class Storage(Protocol):
    def put(self, data: bytes, extension: str, prefix: str) -> str: ...
    def put_file(self, path: Path, extension: str, prefix: str, digest: str | None = None) -> str: ...
    def fetch(self, key: str, target: Path) -> None: ...
    def read(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def local_path(self, key: str) -> Path | None: ...
    def signed_url(self, key: str, expires_seconds: int) -> str | None: ...


class LocalStorage:
    """Files under the region's media root (``STOA_DATA_DIR/media/<region>``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _target(self, key: str) -> Path:
        target = (self.root / key).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise ValueError(f"Media key outside the media root: {key!r}")
        return target

    def put(self, data: bytes, extension: str, prefix: str) -> str:
        """Store bytes once per content; returns the key."""
        key = content_key(hashlib.sha256(data).hexdigest(), extension, prefix)
        target = self._target(key)
        if not target.exists():
            self._write_atomically(target, lambda handle: handle.write(data))
        return key

    def put_file(self, path: Path, extension: str, prefix: str, digest: str | None = None) -> str:
        key = content_key(digest or file_digest(path), extension, prefix)
        target = self._target(key)
        if not target.exists():
            def copy(handle: Any) -> None:
                with path.open("rb") as source:
                    shutil.copyfileobj(source, handle, CHUNK)
            self._write_atomically(target, copy)
        return key

    @staticmethod
    def _write_atomically(target: Path, write: Any) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def fetch(self, key: str, target: Path) -> None:
        shutil.copyfile(self._target(key), target)

    def read(self, key: str) -> bytes:
        return self._target(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._target(key).is_file()

    def delete(self, key: str) -> None:
        self._target(key).unlink(missing_ok=True)

    def local_path(self, key: str) -> Path | None:
        target = self._target(key)
        return target if target.is_file() else None

    def signed_url(self, key: str, expires_seconds: int) -> str | None:
        return None  # served by Stoa itself


class S3Storage:
    """Objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, Garage...), through boto3.

    The bucket stays private: Stoa checks who may see a file, then redirects to a short-lived
    presigned URL, so Range requests and bandwidth go to the object store.
    """

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _name(self, key: str) -> str:
        return self.prefix + key

    def put(self, data: bytes, extension: str, prefix: str) -> str:
        key = content_key(hashlib.sha256(data).hexdigest(), extension, prefix)
        if not self.exists(key):
            self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data,
                                   ContentType=CONTENT_TYPES.get(extension, "application/octet-stream"))
        return key

    def put_file(self, path: Path, extension: str, prefix: str, digest: str | None = None) -> str:
        key = content_key(digest or file_digest(path), extension, prefix)
        if not self.exists(key):
            self.client.upload_file(str(path), self.bucket, self._name(key), ExtraArgs={
                "ContentType": CONTENT_TYPES.get(extension, "application/octet-stream")})
        return key

    def fetch(self, key: str, target: Path) -> None:
        self.client.download_file(self.bucket, self._name(key), str(target))

    def read(self, key: str) -> bytes:
        body: bytes = self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"].read()
        return body

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def local_path(self, key: str) -> Path | None:
        return None

    def signed_url(self, key: str, expires_seconds: int) -> str | None:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._name(key)}, ExpiresIn=expires_seconds)
        return url


@lru_cache(maxsize=16)
def _s3_client(endpoint_url: str, region_name: str, access_key: str, secret_key: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region_name or None,
                        aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
                        config=Config(signature_version="s3v4", retries={"max_attempts": 5, "mode": "standard"},
                                      s3={"addressing_style": "path"}))


def storage_for(settings: Settings, region: str) -> Storage:
    """The region's media storage: ``STOA_MEDIA_STORAGE=local`` (default) or ``s3``."""
    if settings.media_storage == "s3":
        client = _s3_client(settings.s3_endpoint_url, settings.s3_region, settings.s3_access_key_id,
                            settings.s3_secret_access_key)
        return S3Storage(client, settings.s3_bucket.format(region=region), prefix=region)
    return LocalStorage(settings.data_dir / "media" / region)
