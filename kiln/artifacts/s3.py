"""Artifacts in an S3 bucket (or any S3-compatible store), read and written
directly with the user's own credentials.

The root is ``s3://<bucket>/<prefix>``. boto3 is imported on first use
(``pip install 'kiln-ml[s3]'``) and finds credentials the usual AWS way
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile, an instance
role). ``KILN_S3_ENDPOINT_URL``, else ``MLFLOW_S3_ENDPOINT_URL``, points it at
another S3-compatible server such as MinIO. Large files go up and down in
parts through boto3's managed transfers.
"""

from __future__ import annotations

import mimetypes
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiln.artifacts.paths import (
    join_relative,
    join_safely,
    normalize_artifact_path,
    plan_file_upload,
    plan_folder_upload,
)
from kiln.artifacts.progress import progress_bar
from kiln.entities import FileInfo
from kiln.errors import (
    InvalidParameterValue,
    KilnError,
    NotImplementedFeature,
    PermissionDenied,
    ResourceDoesNotExist,
    StorageUnavailable,
)

__all__ = ["S3Repository", "endpoint_url"]

_ENDPOINT_VARIABLES = ("KILN_S3_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL")
# One DeleteObjects request takes at most this many keys.
_DELETE_BATCH = 1000


def endpoint_url() -> str | None:
    """The S3 endpoint from the environment, or None for AWS itself."""
    for name in _ENDPOINT_VARIABLES:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _parse_root(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    if parts.scheme.lower() != "s3" or not parts.netloc:
        raise InvalidParameterValue(
            f"Invalid S3 artifact root {uri!r}; expected 's3://bucket/prefix'."
        )
    if parts.query or parts.fragment:
        raise InvalidParameterValue(
            f"Invalid S3 artifact root {uri!r}; expected no query or fragment."
        )
    return parts.netloc, normalize_artifact_path(parts.path.lstrip("/") or None)


def _make_client() -> Any:
    try:
        import boto3
    except ModuleNotFoundError as exc:
        raise NotImplementedFeature(
            "S3 artifact roots need boto3; install it with pip install 'kiln-ml[s3]'."
        ) from exc
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url())


def _translate(exc: Exception, what: str) -> KilnError:
    """Kiln's error for a boto3 failure while working on ``what``."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchKey", "NoSuchBucket", "NotFound"):
            return ResourceDoesNotExist(f"No S3 object or bucket for {what}: {code}.")
        if code in ("403", "AccessDenied", "InvalidAccessKeyId"):
            return PermissionDenied(f"S3 refused access to {what}: {code}.")
    return StorageUnavailable(f"S3 failed on {what}: {exc}.")


class S3Repository:
    """A :class:`~kiln.artifacts.base.Repository` under an S3 prefix.

    Every path is relative to the prefix and checked with
    :func:`~kiln.artifacts.paths.normalize_artifact_path`; downloads are
    placed with :func:`~kiln.artifacts.paths.join_safely`. ``client`` is a
    boto3 S3 client, made from the environment when omitted.
    """

    def __init__(self, root_uri: str, client: Any = None) -> None:
        self.root_uri = root_uri
        self.bucket, self.prefix = _parse_root(root_uri)
        self._client = client

    def __repr__(self) -> str:
        return f"S3Repository({self.root_uri!r})"

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _make_client()
        return self._client

    def _key(self, relative: str) -> str:
        return join_relative(self.prefix, relative)

    def _call(self, what: str, method: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(**kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise _translate(exc, what) from exc

    # -- upload -------------------------------------------------------------
    def log_artifact(
        self, local_file: str | Path, artifact_path: str | None = None
    ) -> None:
        """Upload one local file into the folder ``artifact_path``."""
        self._upload(*plan_file_upload(local_file, artifact_path))

    def log_artifacts(
        self, local_dir: str | Path, artifact_path: str | None = None
    ) -> None:
        """Upload a local folder's files (recursively) into ``artifact_path``;
        every destination is checked before the first upload."""
        for source, target in plan_folder_upload(local_dir, artifact_path):
            self._upload(source, target)

    def _upload(self, source: Path, relative: str) -> None:
        content_type = mimetypes.guess_type(source.name)[0]
        extra = {"ContentType": content_type} if content_type else {}
        bar = progress_bar(f"Uploading {source.name}", source.stat().st_size)
        try:
            # upload_file switches to a multipart upload for large files.
            self._call(
                repr(relative),
                "upload_file",
                Filename=str(source),
                Bucket=self.bucket,
                Key=self._key(relative),
                ExtraArgs=extra,
                Callback=bar.update,
            )
        finally:
            bar.close()

    # -- listing ------------------------------------------------------------
    def _pages(self, prefix: str, delimiter: str) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_objects_v2")
        options = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            options["Delimiter"] = delimiter
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield from paginator.paginate(**options)
        except (BotoCoreError, ClientError) as exc:
            raise _translate(exc, f"the listing of {prefix!r}") from exc

    def _folder_prefix(self, relative: str) -> str:
        key = self._key(relative)
        return f"{key}/" if key else ""

    def _relative(self, key: str) -> str:
        return key[len(self.prefix) + 1 :] if self.prefix else key

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """List the direct children of ``path``, with paths relative to the
        root; a missing folder or a file gives an empty list."""
        prefix = self._folder_prefix(normalize_artifact_path(path))
        infos: list[FileInfo] = []
        for page in self._pages(prefix, "/"):
            for common in page.get("CommonPrefixes", []):
                folder = self._relative(str(common["Prefix"]).rstrip("/"))
                infos.append(FileInfo(path=folder, is_dir=True))
            for item in page.get("Contents", []):
                key = str(item["Key"])
                # Some tools store an empty "folder/" object; it is not a file.
                if key != prefix and not key.endswith("/"):
                    size = int(item["Size"])
                    infos.append(FileInfo(self._relative(key), False, size))
        return sorted(infos, key=lambda info: info.path)

    def _files_under(self, relative: str) -> list[str]:
        """Every file below the folder ``relative``, relative to the root."""
        prefix = self._folder_prefix(relative)
        return [
            self._relative(str(item["Key"]))
            for page in self._pages(prefix, "")
            for item in page.get("Contents", [])
            if not str(item["Key"]).endswith("/")
        ]

    # -- download -----------------------------------------------------------
    def download_artifacts(
        self, artifact_path: str, dst_path: str | Path | None = None
    ) -> str:
        """Download a file or folder to ``dst_path`` (default: a new temporary
        folder), keeping its path below the root; return where it landed.

        Raises :class:`~kiln.errors.ResourceDoesNotExist` if nothing is there.
        """
        relative = normalize_artifact_path(artifact_path)
        destination_root = Path(dst_path or tempfile.mkdtemp(prefix="kiln-"))
        destination = join_safely(destination_root, relative)
        files = self._files_under(relative)
        if files or not relative:
            # Every target is placed (and checked) before the first download.
            targets = [(key, join_safely(destination_root, key)) for key in files]
            for key, target in targets:
                self._download_file(key, target)
            destination.mkdir(parents=True, exist_ok=True)
        else:
            self._download_file(relative, destination)
        return str(destination)

    def _download_file(self, relative: str, destination: Path) -> None:
        head = self._call(
            repr(relative), "head_object", Bucket=self.bucket, Key=self._key(relative)
        )
        destination.parent.mkdir(parents=True, exist_ok=True)
        bar = progress_bar(
            f"Downloading {destination.name}", int(head.get("ContentLength", 0))
        )
        try:
            # boto3 writes to a temporary name beside the target and renames it,
            # so an interrupted download leaves no partial file behind.
            self._call(
                repr(relative),
                "download_file",
                Bucket=self.bucket,
                Key=self._key(relative),
                Filename=str(destination),
                Callback=bar.update,
            )
        finally:
            bar.close()

    # -- delete -------------------------------------------------------------
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or folder; with no path, everything under the root.

        A missing path is not an error.
        """
        relative = normalize_artifact_path(artifact_path)
        keys = [self._key(key) for key in self._files_under(relative)]
        if relative:
            # The path may name one file; deleting a missing key succeeds.
            keys.append(self._key(relative))
        for start in range(0, len(keys), _DELETE_BATCH):
            chunk = keys[start : start + _DELETE_BATCH]
            self._call(
                repr(relative or "/"),
                "delete_objects",
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": key} for key in chunk], "Quiet": True},
            )
