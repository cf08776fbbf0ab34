"""Artifacts kept in a folder of the local file system."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from kiln.artifacts.paths import join_safely, local_path_from_uri
from kiln.entities import FileInfo
from kiln.errors import InvalidParameterValue, ResourceDoesNotExist

__all__ = ["LocalRepository"]

# Files being written carry this prefix until they are renamed into place;
# listings hide them.
_TEMP_PREFIX = ".kiln-tmp-"
_COPY_CHUNK = 1024 * 1024


def _join(*parts: str | None) -> str:
    # Only trailing slashes go: a leading one must still reach join_safely.
    return "/".join(part.rstrip("/") for part in parts if part)


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; Windows cannot open folders this way.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_folder(folder: Path, root: Path) -> None:
    """Create ``folder`` and its parents; a file in the way is the caller's
    mistake, reported by its path below ``root`` (never the full local path)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        shown = folder.relative_to(os.path.realpath(root)).as_posix()
        raise InvalidParameterValue(
            f"Cannot create the artifact folder {shown!r}; a file is in the way."
        ) from exc


def _write_atomically(source: Path, destination: Path) -> None:
    """Copy ``source`` to ``destination`` so readers see all of it or none."""
    fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=destination.parent)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out, _COPY_CHUNK)
            out.flush()
            os.fsync(out.fileno())
        shutil.copymode(source, temp_name)
        # os.replace renames the link itself if ``destination`` is one, so a
        # link planted there cannot redirect the write.
        os.replace(temp_name, destination)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    _fsync_folder(destination.parent)


class LocalRepository:
    """A :class:`~kiln.artifacts.base.Repository` over a local folder.

    ``root_uri`` is a ``file:`` URI or a plain path. The folder is created on
    the first write. Every path goes through
    :func:`~kiln.artifacts.paths.join_safely`, so nothing outside the root's
    real path is read, written or deleted, even through symbolic links.
    """

    def __init__(self, root_uri: str) -> None:
        self.root_uri = root_uri
        self.root = local_path_from_uri(root_uri)

    def _locate(self, path: str | None) -> Path:
        return join_safely(self.root, path)

    def log_artifact(
        self, local_file: str | Path, artifact_path: str | None = None
    ) -> None:
        """Copy one local file into the folder ``artifact_path``."""
        source = Path(local_file)
        if not source.is_file():
            raise InvalidParameterValue(
                f"Cannot log {str(local_file)!r}; expected an existing file."
            )
        destination = self._locate(_join(artifact_path, source.name))
        if destination.is_dir() and not destination.is_symlink():
            raise InvalidParameterValue(
                f"Cannot log {source.name!r} into {artifact_path!r}; a folder of "
                "that name exists there."
            )
        _make_folder(destination.parent, self.root)
        _write_atomically(source, destination)

    def log_artifacts(
        self, local_dir: str | Path, artifact_path: str | None = None
    ) -> None:
        """Copy a local folder's contents (recursively) into ``artifact_path``.

        Every destination is checked before anything is written, so a refused
        name leaves the repository unchanged.
        """
        source_root = Path(local_dir)
        if not source_root.is_dir():
            raise InvalidParameterValue(
                f"Cannot log {str(local_dir)!r}; expected an existing folder."
            )

        folders: list[Path] = [self._locate(artifact_path)]
        files: list[tuple[Path, Path]] = []
        # Links in the source are the user's own files: follow them and copy what
        # they point to, as a plain copy would.
        for folder, dir_names, file_names in os.walk(source_root, followlinks=True):
            relative = Path(folder).relative_to(source_root).as_posix()
            prefix = _join(artifact_path, "" if relative == "." else relative)
            folders.extend(self._locate(_join(prefix, name)) for name in dir_names)
            files.extend(
                (Path(folder, name), self._locate(_join(prefix, name)))
                for name in file_names
            )

        for destination_folder in folders:
            _make_folder(destination_folder, self.root)
        for source, destination in files:
            _make_folder(destination.parent, self.root)
            _write_atomically(source, destination)

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """List the direct children of ``path``, sorted, relative to the root.

        A missing path or a file gives an empty list. Links leading out of the
        root are left out.
        """
        folder = self._locate(path)
        if not folder.is_dir():
            return []
        prefix = _join(*_relative_parts(self.root, folder))
        infos = []
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.name.startswith(_TEMP_PREFIX) or not self._is_inside(entry.path):
                continue
            relative = _join(prefix, entry.name)
            if entry.is_dir():
                infos.append(FileInfo(path=relative, is_dir=True))
            else:
                size = entry.stat().st_size
                infos.append(FileInfo(path=relative, is_dir=False, file_size=size))
        return infos

    def _is_inside(self, path: str | Path) -> bool:
        real_root = Path(os.path.realpath(self.root))
        real = Path(os.path.realpath(path))
        return real == real_root or real.is_relative_to(real_root)

    def download_artifacts(
        self, artifact_path: str, dst_path: str | Path | None = None
    ) -> str:
        """Copy a file or folder to ``dst_path`` (default: a new temporary
        folder) keeping its path below the root, and return where it landed.

        Raises :class:`~kiln.errors.ResourceDoesNotExist` if nothing is there.
        """
        source = self._locate(artifact_path)
        if not source.exists():
            raise ResourceDoesNotExist(
                f"No artifact at {artifact_path!r}; list the folder to see what exists."
            )
        destination_root = Path(dst_path or tempfile.mkdtemp(prefix="kiln-"))
        relative = _relative_parts(self.root, source)
        destination = destination_root.joinpath(*relative)
        if source.is_dir():
            self._download_folder(source, destination)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
        return str(destination)

    def _download_folder(self, source: Path, destination: Path) -> None:
        # Check the whole tree first so a refused link leaves no partial copy.
        folders: list[Path] = [destination]
        files: list[tuple[str, Path]] = []
        for folder, dir_names, file_names in os.walk(source, followlinks=True):
            target = destination / Path(folder).relative_to(source)
            for name in dir_names + file_names:
                if not self._is_inside(os.path.join(folder, name)):
                    raise InvalidParameterValue(
                        f"Cannot download {name!r}; it links outside the artifact root."
                    )
            folders.extend(target / name for name in dir_names)
            files.extend(
                (os.path.join(folder, name), target / name)
                for name in file_names
                if not name.startswith(_TEMP_PREFIX)
            )

        for folder_path in folders:
            folder_path.mkdir(parents=True, exist_ok=True)
        for file_source, file_destination in files:
            shutil.copyfile(file_source, file_destination)

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or folder; with no path, everything under the root.

        A link is removed, never what it points to. A missing path is not an
        error: deleting is idempotent.
        """
        target = self._locate(artifact_path)
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)


def _relative_parts(root: Path, located: Path) -> list[str]:
    """The segments of ``located`` (from :func:`join_safely`) below ``root``."""
    return list(located.relative_to(os.path.realpath(root)).parts)
