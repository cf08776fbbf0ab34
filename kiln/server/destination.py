"""The artifact proxy's storage: a local (or shared) folder, or an S3 prefix.

An ``s3://`` destination is :class:`~kiln.server.destination_s3.S3Destination`;
the rest of this module is the folder.

Every client path goes through :func:`kiln.artifacts.paths.join_safely`, so
nothing outside the folder is read, written or deleted, whatever the path's
encoding or the links inside the folder. Uploads stream to a temporary file
next to their target and are renamed into place, so readers never see half a
file and memory stays flat however large the body.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

# Uploads are written under the repository's own temporary prefix, so its
# listings hide them until they are renamed into place.
from kiln.artifacts.local import _TEMP_PREFIX as TEMP_PREFIX
from kiln.artifacts.local import LocalRepository
from kiln.artifacts.paths import (
    join_safely,
    local_path_from_uri,
    normalize_artifact_path,
)
from kiln.entities import FileInfo
from kiln.errors import (
    InvalidParameterValue,
    NotImplementedFeature,
    ResourceDoesNotExist,
)
from kiln.server.destination_s3 import S3Destination
from kiln.server.locations import scheme_of
from kiln.server.responses import file_response

__all__ = ["Destination", "LocalDestination", "open_destination"]

logger = logging.getLogger(__name__)

_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
# Body chunks are gathered up to this size before a worker thread writes them.
_WRITE_BUFFER = 1024 * 1024


def open_destination(uri: str) -> Destination:
    """The proxy storage for ``--artifacts-destination``.

    A local path or ``file:`` URI gives a folder, ``s3://bucket/prefix`` an
    S3 prefix. Raises :class:`~kiln.errors.NotImplementedFeature` naming the
    scheme for anything else.
    """
    scheme = scheme_of(uri)
    if scheme == "s3":
        return S3Destination(uri)
    if scheme not in ("", "file"):
        raise NotImplementedFeature(
            f"Artifact destinations with scheme {scheme!r} are not supported; "
            "use a local or shared folder, or 's3://bucket/prefix'."
        )
    return LocalDestination(local_path_from_uri(uri))


class LocalDestination:
    """A folder the proxy stores artifacts in; created on first use."""

    # Clients upload straight to the store only where it can presign URLs.
    multipart_uploads_enabled = False

    def __init__(self, root: Path) -> None:
        self.root = root
        self.repository = LocalRepository(str(root))

    def locate(self, path: str | None) -> Path:
        """The local path of ``path`` below the root, checked to stay inside."""
        return join_safely(self.root, path)

    def file_for_download(self, path: str) -> tuple[Path, os.stat_result]:
        """The real path and stat of the file at ``path``; 404 if not a file."""
        target = self.locate(path)
        try:
            stat = target.stat()
        except (FileNotFoundError, NotADirectoryError):
            stat = None
        if stat is None or not os.path.isfile(target):
            raise ResourceDoesNotExist(
                f"No artifact file at {path!r}; list its folder to see what exists."
            )
        return Path(os.path.realpath(target)), stat

    def download_response(self, path: str, range_header: str | None) -> Response:
        """The file at ``path`` as an attachment; the response honours ``Range``."""
        return file_response(*self.file_for_download(path))

    def list(self, path: str | None) -> list[FileInfo]:
        """The children of the folder ``path``, by basename; [] if not a folder."""
        return [
            FileInfo(
                path=info.path.rsplit("/", 1)[-1],
                is_dir=info.is_dir,
                file_size=info.file_size,
            )
            for info in self.repository.list_artifacts(path)
        ]

    def delete(self, path: str) -> None:
        """Delete the file or folder at ``path``; nothing there is not an error."""
        if not normalize_artifact_path(path):
            raise InvalidParameterValue(
                "Refusing to delete the whole artifact destination; name a path."
            )
        self.repository.delete_artifacts(path)

    async def upload(self, path: str, chunks: AsyncIterator[bytes]) -> int:
        """Write the streamed body to ``path`` atomically; return its size."""
        if not normalize_artifact_path(path):
            raise InvalidParameterValue(
                f"Invalid artifact path {path!r}; an upload must name a file."
            )
        target = await run_in_threadpool(self._prepare_target, path)
        fd, temp_name = await run_in_threadpool(_create_temp_file, target.parent)
        try:
            size = await _write_stream(fd, chunks)
            # Checked again: a link planted while the body streamed must not
            # redirect the rename.
            await run_in_threadpool(self._check_parent, path, target)
            await run_in_threadpool(os.replace, temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        logger.debug("Stored artifact %s (%d bytes)", path, size)
        return size

    def _prepare_target(self, path: str) -> Path:
        target = self.locate(path)
        if target.is_dir() and not target.is_symlink():
            raise InvalidParameterValue(
                f"Cannot upload to {path!r}; a folder of that name exists there."
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        self._check_parent(path, target)
        return target

    def _check_parent(self, path: str, target: Path) -> None:
        # locate() raises if a link now leads the path outside the root.
        self.locate(path)
        if not os.path.isdir(target.parent):
            raise InvalidParameterValue(
                f"Invalid artifact path {path!r}; its folder changed during the upload."
            )


Destination = LocalDestination | S3Destination


def _create_temp_file(folder: Path) -> tuple[int, str]:
    """Open a new, uniquely named file in ``folder`` for writing.

    Unlike ``tempfile.mkstemp`` (mode 0600) the file gets the usual mode for
    new files under the process umask, so stored artifacts stay readable by
    whoever may read the destination folder.
    """
    while True:
        name = str(folder / f"{TEMP_PREFIX}{secrets.token_hex(8)}")
        try:
            return os.open(name, _TEMP_FLAGS, 0o666), name
        except FileExistsError:
            continue


async def _write_stream(fd: int, chunks: AsyncIterator[bytes]) -> int:
    """Write ``chunks`` to the open descriptor ``fd`` (closing it); return the size."""
    size = 0
    with os.fdopen(fd, "wb") as out:
        buffer = bytearray()
        async for chunk in chunks:
            buffer += chunk
            size += len(chunk)
            if len(buffer) >= _WRITE_BUFFER:
                await run_in_threadpool(out.write, buffer)
                buffer.clear()
        if buffer:
            await run_in_threadpool(out.write, buffer)
        await run_in_threadpool(out.flush)
        await run_in_threadpool(os.fsync, out.fileno())
    return size
