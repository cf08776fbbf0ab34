"""The interface every artifact repository offers.

A repository is rooted at one URI (a run's ``artifact_uri``, say). Every
``path`` argument is relative to that root and goes through
:func:`kiln.artifacts.paths.normalize_artifact_path` before it touches
storage; local repositories use :func:`kiln.artifacts.paths.join_safely`,
which does that and also refuses links leading out of the root.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from kiln.entities import FileInfo


@runtime_checkable
class Repository(Protocol):
    root_uri: str

    def log_artifact(
        self, local_file: str | Path, artifact_path: str | None = None
    ) -> None:
        """Copy one local file into ``artifact_path`` (a folder under the root)."""
        ...

    def log_artifacts(
        self, local_dir: str | Path, artifact_path: str | None = None
    ) -> None:
        """Copy a local folder's contents into ``artifact_path``."""
        ...

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """List the direct children of ``path``; paths are relative to the root."""
        ...

    def download_artifacts(
        self, artifact_path: str, dst_path: str | Path | None = None
    ) -> str:
        """Download a file or folder and return the local path it landed at."""
        ...

    def delete_artifacts(self, artifact_path: str | None = None) -> None: ...
