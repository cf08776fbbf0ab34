"""Reading the files of a run or a logged model: listings and downloads.

A run's ``artifact_uri`` (a logged model's ``artifact_location``) decides
where its files are:

* ``mlflow-artifacts:/<path>`` lies in the artifact proxy's destination, a
  local folder or an S3 prefix;
* an ``s3://`` URI is read only when it lies inside the server's own S3
  destination: the server never contacts a bucket or host that a stored URI
  names;
* a local path or ``file:`` URI must lie inside a configured root (see
  :meth:`~kiln.server.locations.ArtifactLocations.local_root_for`).

Both kinds answer alike: listings give the direct children of a folder,
sorted by path, with paths relative to the run's (or model's) root, and
downloads stream the file with ``Content-Length`` and honour a single
``Range``.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.responses import Response

from kiln.artifacts.local import LocalRepository
from kiln.artifacts.paths import join_safely
from kiln.entities import FileInfo
from kiln.errors import ResourceDoesNotExist
from kiln.server.context import ServerContext
from kiln.server.destination_s3 import S3Destination
from kiln.server.locations import PROXY_SCHEME, proxy_relative_path, scheme_of
from kiln.server.responses import file_response

__all__ = ["ArtifactFiles", "FolderFiles", "S3Files", "open_artifact_files"]


class FolderFiles:
    """Artifacts in a local folder the server is allowed to read.

    ``owner`` names whose files they are ("run 'abc'") for error messages.
    """

    def __init__(self, root: Path, owner: str) -> None:
        self.root = root
        self.owner = owner

    def list(self, path: str | None) -> list[FileInfo]:
        """The children of the folder ``path``; [] if it is not a folder."""
        return LocalRepository(str(self.root)).list_artifacts(path)

    def download_response(self, path: str, range_header: str | None) -> Response:
        """The file at ``path`` as an attachment (Starlette honours ``Range``)."""
        target = join_safely(self.root, path)
        if not target.is_file():
            raise ResourceDoesNotExist(
                f"The {self.owner} has no artifact file at {path!r}."
            )
        real = Path(os.path.realpath(target))
        return file_response(real, real.stat())


class S3Files:
    """Artifacts under a folder of the server's S3 destination."""

    def __init__(self, destination: S3Destination, owner: str) -> None:
        self.destination = destination
        self.owner = owner

    def list(self, path: str | None) -> list[FileInfo]:
        """The children of the folder ``path``; [] if it is not a folder."""
        return self.destination.list_paths(path)

    def download_response(self, path: str, range_header: str | None) -> Response:
        """The object at ``path`` streamed from S3; a single ``Range`` gives 206."""
        try:
            return self.destination.download_response(path, range_header)
        except ResourceDoesNotExist as exc:
            raise ResourceDoesNotExist(
                f"The {self.owner} has no artifact file at {path!r}."
            ) from exc


ArtifactFiles = FolderFiles | S3Files


def open_artifact_files(
    context: ServerContext, artifact_uri: str, owner: str
) -> ArtifactFiles:
    """The files stored at ``artifact_uri``, read from where the server may.

    Raises :class:`~kiln.errors.PermissionDenied` for a local URI outside the
    configured roots and :class:`~kiln.errors.NotImplementedFeature` for a
    remote URI outside the server's own destination.
    """
    destination = context.destination
    if isinstance(destination, S3Destination):
        relative = _path_in_destination(destination, artifact_uri)
        if relative is not None:
            return S3Files(destination.below(relative), owner)
    return FolderFiles(context.locations.local_root_for(artifact_uri), owner)


def _path_in_destination(destination: S3Destination, artifact_uri: str) -> str | None:
    scheme = scheme_of(artifact_uri)
    if scheme == PROXY_SCHEME:
        return proxy_relative_path(artifact_uri)
    if scheme == "s3":
        return destination.path_of(artifact_uri)
    return None
