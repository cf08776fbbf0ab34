"""The artifact proxy's storage in an S3 bucket (or an S3-compatible store).

``--artifacts-destination s3://bucket/prefix`` keeps every proxied artifact
under that prefix. Each client path goes through
:func:`kiln.artifacts.paths.normalize_artifact_path` before it becomes a key,
so no key leaves the prefix. Uploads are passed on to S3 part by part as the
body arrives, so memory stays flat whatever the size, and the object only
appears once it is complete. Downloads stream from S3 and honour a single
``Range``. Clients may also upload large files straight to S3 through
presigned part URLs (MLflow's proxy multipart upload), which
:mod:`kiln.server.presigned` hands out.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlsplit

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from kiln.artifacts.paths import normalize_artifact_path
from kiln.artifacts.s3 import S3Repository
from kiln.entities import FileInfo
from kiln.errors import (
    InvalidParameterValue,
    KilnError,
    PermissionDenied,
    ResourceDoesNotExist,
)
from kiln.server.config import parse_bool
from kiln.server.responses import safe_media_type

__all__ = ["MAX_PARTS", "ArtifactStoreUnavailable", "S3Destination"]

logger = logging.getLogger(__name__)

_MULTIPART_VARIABLES = (
    "KILN_ENABLE_PROXY_MULTIPART_UPLOAD",
    "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD",
)
# S3 takes parts of at least 5 MiB (but the last) and at most 10,000 of them.
# Parts grow every 1,000 so a body of several hundred GiB still fits.
_PART_SIZE = 8 * 1024 * 1024
_PARTS_PER_STEP = 1000
MAX_PARTS = 10_000
_READ_CHUNK = 1024 * 1024
# Presigned part URLs must outlive the slowest upload of a large model.
_PRESIGNED_SECONDS = 3600
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
# What a client got wrong in a multipart upload (an unknown upload, a bad part).
_REFUSED_CODES = frozenset(
    {"NoSuchUpload", "InvalidPart", "InvalidPartOrder", "EntityTooSmall"}
)
_DENIED_CODES = frozenset({"403", "AccessDenied", "InvalidAccessKeyId"})


class ArtifactStoreUnavailable(KilnError):
    """The S3 store behind the proxy failed; the server log names the cause."""

    error_code = "TEMPORARILY_UNAVAILABLE"
    http_status = 503


def _multipart_enabled_from_env() -> bool:
    for name in _MULTIPART_VARIABLES:
        value = os.environ.get(name)
        if value:
            return parse_bool(name, value)
    return False


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _translate(exc: BaseException, path: str) -> KilnError:
    """Kiln's error for an S3 failure on the client path ``path``.

    The S3 message names the bucket and endpoint, so it goes to the log only.
    """
    code = _error_code(exc)
    if code in _MISSING_CODES:
        return ResourceDoesNotExist(
            f"No artifact file at {path!r}; list its folder to see what exists."
        )
    if code in _DENIED_CODES:
        return PermissionDenied(f"The artifact store refused access to {path!r}.")
    if code in _REFUSED_CODES:
        return InvalidParameterValue(
            f"The artifact store refused the upload of {path!r} ({code}); check "
            "its upload_id and that every part but the last is at least 5 MiB."
        )
    logger.warning("The artifact store failed on %r: %s", path, exc)
    return ArtifactStoreUnavailable(
        "The artifact store is unavailable at the moment; try again later."
    )


def _reworded(exc: KilnError, path: str) -> KilnError:
    """``exc`` from the S3 repository, re-worded if S3 itself failed."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc.__cause__, BotoCoreError | ClientError):
        return _translate(exc.__cause__, path)
    return exc


def _part_size(parts_done: int) -> int:
    return _PART_SIZE * (1 + parts_done // _PARTS_PER_STEP)


def _single_range(header: str | None) -> str | None:
    """``header`` when it asks for one byte range; otherwise None (whole file)."""
    match = _RANGE_RE.match((header or "").replace(" ", ""))
    if match is None or match.groups() == ("", ""):
        return None
    start, end = match.groups()
    if start and end and int(end) < int(start):
        return None
    return match.group(0)


def _attachment(name: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(name, safe='')}"


def _content_type(key: str) -> dict[str, str]:
    guessed = mimetypes.guess_type(key.rsplit("/", 1)[-1])[0]
    return {"ContentType": guessed} if guessed else {}


async def _stream_body(body: Any) -> AsyncIterator[bytes]:
    try:
        while chunk := await run_in_threadpool(body.read, _READ_CHUNK):
            yield chunk
    finally:
        body.close()


class S3Destination:
    """An S3 prefix the proxy stores artifacts under.

    ``client`` is a boto3 S3 client, made from the environment (as for
    :class:`~kiln.artifacts.s3.S3Repository`) when omitted.
    ``multipart_uploads_enabled`` defaults to
    ``KILN_ENABLE_PROXY_MULTIPART_UPLOAD`` or
    ``MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD``.
    """

    def __init__(
        self,
        uri: str,
        client: Any = None,
        multipart_uploads_enabled: bool | None = None,
    ) -> None:
        self.repository = S3Repository(uri, client)
        self.bucket = self.repository.bucket
        self.prefix = self.repository.prefix
        # Made now, so a missing boto3 is reported before the server starts.
        self.client = self.repository.client
        if multipart_uploads_enabled is None:
            multipart_uploads_enabled = _multipart_enabled_from_env()
        self.multipart_uploads_enabled = multipart_uploads_enabled

    def __repr__(self) -> str:
        return f"S3Destination({self.repository.root_uri!r})"

    def below(self, path: str) -> S3Destination:
        """The folder ``path`` of this destination as a destination of its own.

        It shares this one's client, and client paths given to it stay
        inside ``path``.
        """
        root = "/".join(filter(None, (self.bucket, self.key_for(path))))
        return S3Destination(
            f"s3://{root}", self.client, self.multipart_uploads_enabled
        )

    def path_of(self, uri: str) -> str | None:
        """The path inside this destination of the ``s3://`` URI ``uri``.

        None when ``uri`` names another bucket, lies outside the prefix or is
        not a plain ``s3://bucket/key`` URI: the server reads only its own
        destination, never a bucket that a stored URI names.
        """
        parts = urlsplit(uri)
        if parts.scheme.lower() != "s3" or parts.netloc != self.bucket:
            return None
        if parts.query or parts.fragment:
            return None
        try:
            key = normalize_artifact_path(parts.path.lstrip("/") or None)
        except InvalidParameterValue:
            return None
        if not self.prefix or key == self.prefix:
            return key.removeprefix(self.prefix)
        if key.startswith(f"{self.prefix}/"):
            return key[len(self.prefix) + 1 :]
        return None

    def key_for(self, *paths: str | None) -> str:
        """The object key of the client path ``paths`` joined, inside the prefix."""
        relative = "/".join(filter(None, map(normalize_artifact_path, paths)))
        return "/".join(filter(None, (self.prefix, relative)))

    def file_key(self, *paths: str) -> str:
        """The key of the file that the client paths ``paths`` name together."""
        key = self.key_for(*paths)
        if key == self.prefix:
            raise InvalidParameterValue(
                f"Invalid artifact path {'/'.join(paths)!r}; expected a path "
                "naming a file."
            )
        return key

    def call(self, path: str, method: str, **kwargs: Any) -> Any:
        """Run the S3 client's ``method`` on the bucket; failures name ``path``."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise _translate(exc, path) from exc

    def sign(self, path: str, method: str, params: dict[str, Any]) -> str:
        """A presigned URL for the S3 call ``method`` with ``params``."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return str(
                self.client.generate_presigned_url(
                    ClientMethod=method,
                    Params={"Bucket": self.bucket, **params},
                    ExpiresIn=_PRESIGNED_SECONDS,
                )
            )
        except (BotoCoreError, ClientError) as exc:
            raise _translate(exc, path) from exc

    def start_multipart_upload(self, path: str, key: str) -> str:
        """Begin a multipart upload to ``key``; return its upload id."""
        started = self.call(
            path, "create_multipart_upload", Key=key, **_content_type(key)
        )
        return str(started["UploadId"])

    # -- list and delete ----------------------------------------------------
    def list_paths(self, path: str | None) -> list[FileInfo]:
        """The children of the folder ``path``, sorted, with their paths from
        the destination's root; [] if not a folder."""
        try:
            return self.repository.list_artifacts(path)
        except KilnError as exc:
            raise _reworded(exc, path or "") from exc.__cause__

    def list(self, path: str | None) -> list[FileInfo]:
        """The children of the folder ``path``, by basename; [] if not a folder."""
        return [
            FileInfo(info.path.rsplit("/", 1)[-1], info.is_dir, info.file_size)
            for info in self.list_paths(path)
        ]

    def delete(self, path: str) -> None:
        """Delete the file or folder at ``path``; nothing there is not an error."""
        if not normalize_artifact_path(path):
            raise InvalidParameterValue(
                "Refusing to delete the whole artifact destination; name a path."
            )
        try:
            self.repository.delete_artifacts(path)
        except KilnError as exc:
            raise _reworded(exc, path) from exc.__cause__

    # -- upload -------------------------------------------------------------
    async def upload(self, path: str, chunks: AsyncIterator[bytes]) -> int:
        """Store the streamed body at ``path``; return its size.

        Bodies up to one part go up in one request, larger ones as a multipart
        upload that is aborted if the body does not arrive whole.
        """
        key = self.file_key(path)
        await run_in_threadpool(self._refuse_folder, path, key)
        upload = _StreamedUpload(self, path, key)
        try:
            size = await upload.send(chunks)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(upload.abort)
            raise
        logger.debug("Stored artifact %s (%d bytes) in S3", path, size)
        return size

    def _refuse_folder(self, path: str, key: str) -> None:
        found = self.call(path, "list_objects_v2", Prefix=f"{key}/", MaxKeys=1)
        if found.get("KeyCount", 0):
            raise InvalidParameterValue(
                f"Cannot upload to {path!r}; a folder of that name exists there."
            )

    # -- download -----------------------------------------------------------
    def download_response(self, path: str, range_header: str | None) -> Response:
        """The file at ``path`` streamed from S3; a single ``Range`` gives 206."""
        key = self.file_key(path)
        byte_range = _single_range(range_header)
        options = {"Key": key, **({"Range": byte_range} if byte_range else {})}
        found = self._get_object(path, options)
        if found is None:
            return self._unsatisfiable(path, key)

        name = key.rsplit("/", 1)[-1]
        headers = {
            "content-length": str(found["ContentLength"]),
            "accept-ranges": "bytes",
            "content-disposition": _attachment(name),
        }
        if found.get("ETag"):
            headers["etag"] = str(found["ETag"])
        partial = bool(byte_range and found.get("ContentRange"))
        if partial:
            headers["content-range"] = str(found["ContentRange"])
        return _ObjectResponse(
            found["Body"],
            status_code=206 if partial else 200,
            headers=headers,
            media_type=safe_media_type(name),
        )

    def _get_object(self, path: str, options: dict[str, str]) -> Any:
        """S3's answer for ``options``; None when the range lies past the end."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, **options)
        except (BotoCoreError, ClientError) as exc:
            if _error_code(exc) == "InvalidRange":
                return None
            raise _translate(exc, path) from exc

    def _unsatisfiable(self, path: str, key: str) -> Response:
        size = self.call(path, "head_object", Key=key)["ContentLength"]
        return Response(status_code=416, headers={"content-range": f"bytes */{size}"})


class _ObjectResponse(StreamingResponse):
    """An S3 object's body, streamed; a HEAD request gets the headers alone."""

    def __init__(self, body: Any, **options: Any) -> None:
        super().__init__(_stream_body(body), **options)
        self.object_body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method", "").upper() != "HEAD":
            await super().__call__(scope, receive, send)
            return
        # Closing the body now spares reading the whole object only to drop it.
        self.object_body.close()
        start = {"status": self.status_code, "headers": self.raw_headers}
        await send({"type": "http.response.start", **start})
        await send({"type": "http.response.body", "body": b""})


class _StreamedUpload:
    """One PUT body on its way to S3, sent a part at a time."""

    def __init__(self, destination: S3Destination, path: str, key: str) -> None:
        self.destination = destination
        self.path = path
        self.key = key
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []

    async def send(self, chunks: AsyncIterator[bytes]) -> int:
        """Read the whole body, sending full parts as they fill; return the size."""
        buffer = bytearray()
        size = 0
        async for chunk in chunks:
            buffer += chunk
            size += len(chunk)
            if len(buffer) >= _part_size(len(self.parts)):
                await run_in_threadpool(self._send_part, bytes(buffer))
                buffer.clear()
        if self.upload_id is None:
            await run_in_threadpool(self._put_whole, bytes(buffer))
        else:
            if buffer:
                await run_in_threadpool(self._send_part, bytes(buffer))
            await run_in_threadpool(self._complete)
        return size

    def _call(self, method: str, **kwargs: Any) -> Any:
        return self.destination.call(self.path, method, Key=self.key, **kwargs)

    def _put_whole(self, body: bytes) -> None:
        self._call("put_object", Body=body, **_content_type(self.key))

    def _send_part(self, body: bytes) -> None:
        if len(self.parts) >= MAX_PARTS:
            raise InvalidParameterValue(
                f"The upload to {self.path!r} is larger than S3 accepts in one object."
            )
        if self.upload_id is None:
            self.upload_id = self.destination.start_multipart_upload(
                self.path, self.key
            )
        number = len(self.parts) + 1
        sent = self._call(
            "upload_part", UploadId=self.upload_id, PartNumber=number, Body=body
        )
        self.parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    def _complete(self) -> None:
        self._call(
            "complete_multipart_upload",
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},
        )

    def abort(self) -> None:
        """Drop the parts sent so far, if any; a failure here is only logged."""
        if self.upload_id is None:
            return
        try:
            self._call("abort_multipart_upload", UploadId=self.upload_id)
        except KilnError as exc:
            logger.warning("Could not abort the upload to %r: %s", self.path, exc)
