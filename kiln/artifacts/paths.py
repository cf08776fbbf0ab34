"""Turn client-supplied artifact paths and root URIs into safe local paths.

Every artifact path a client sends goes through :func:`normalize_artifact_path`
exactly once; local repositories then place it with :func:`join_safely`. Past
vulnerabilities in tracking servers came from checking a raw path while a later
step decoded it again, so the value checked here is the value used: fully
percent-decoded, split on ``/``, with every refused form rejected.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from kiln.errors import InvalidParameterValue

__all__ = ["join_safely", "local_path_from_uri", "normalize_artifact_path"]

# Decoding more rounds than this means someone is stacking encodings on purpose.
_MAX_DECODE_ROUNDS = 4
# Characters that split or end a URL, or separate paths on Windows.
_FORBIDDEN_CHARS = frozenset("\\#?;")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_LOCAL_HOSTS = frozenset({"", "localhost"})


def _refuse(path: object, why: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Invalid artifact path {path!r}; {why}.")


def _decode_fully(path: str) -> str:
    """Percent-decode until nothing changes, so ``%252e`` ends up as ``.``."""
    decoded = path
    for _ in range(_MAX_DECODE_ROUNDS):
        try:
            once = unquote(decoded, errors="strict")
        except UnicodeDecodeError as exc:
            raise _refuse(path, "it percent-encodes bytes that are not UTF-8") from exc
        if once == decoded:
            return decoded
        decoded = once
    raise _refuse(path, "it is percent-encoded too many times over")


def _has_control_char(text: str) -> bool:
    return any(ord(char) < 32 or ord(char) == 127 for char in text)


def normalize_artifact_path(path: str | None) -> str:
    """Return ``path`` decoded and cleaned, as ``a/b/c`` relative to a root.

    ``None``, ``""`` and ``"."`` name the root and give ``""``; other ``.``
    segments and one trailing ``/`` are dropped. Percent-escapes are
    decoded (repeatedly), and the decoded name is the one stored. Raises
    :class:`~kiln.errors.InvalidParameterValue` for ``..`` segments, absolute
    paths, drive letters, empty segments, backslashes, ``#``, ``?``, ``;``,
    NUL and other control characters, however they were encoded.
    """
    if path is None:
        return ""
    if not isinstance(path, str):
        raise _refuse(path, "expected a string")

    decoded = _decode_fully(path)
    if _has_control_char(decoded):
        raise _refuse(path, "it contains NUL or another control character")
    if bad := sorted(_FORBIDDEN_CHARS.intersection(decoded)):
        raise _refuse(path, f"it contains {', '.join(map(repr, bad))}")
    if decoded.startswith("/"):
        raise _refuse(path, "expected a path relative to the artifact root")

    segments = decoded.split("/")
    if segments[-1] == "":
        segments.pop()
    kept: list[str] = []
    for segment in segments:
        if segment == "":
            raise _refuse(path, "it contains an empty segment ('//')")
        if segment == "..":
            raise _refuse(path, "'..' segments are not allowed")
        if _DRIVE_RE.match(segment):
            raise _refuse(path, "it names a drive letter")
        if segment != ".":
            kept.append(segment)
    return "/".join(kept)


def _is_within(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def join_safely(root: str | Path, path: str | None) -> Path:
    """Place a client-supplied ``path`` under the local folder ``root``.

    Returns ``realpath(root)/<normalised path>`` once that location, with every
    symbolic link along it followed, is known to stay inside the root's real
    path. The returned path is not itself resolved, so a link inside the root is
    still seen (and deleted) as a link. Raises
    :class:`~kiln.errors.InvalidParameterValue` naming ``path`` otherwise.
    """
    relative = normalize_artifact_path(path)
    root_real = Path(os.path.realpath(root))
    target = root_real.joinpath(*relative.split("/")) if relative else root_real
    if not _is_within(Path(os.path.realpath(target)), root_real):
        raise _refuse(path, "it leads outside the artifact root")
    return target


def _refuse_uri(uri: object, why: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Invalid artifact root {uri!r}; {why}.")


def local_path_from_uri(uri: str) -> Path:
    """Turn a local root URI into an absolute :class:`~pathlib.Path`.

    Accepts ``file:///abs/path``, ``file://localhost/abs/path``, ``file:/abs``
    and plain absolute or relative paths (made absolute against the current
    folder). Raises :class:`~kiln.errors.InvalidParameterValue` for a
    ``file:`` URI naming another host, a relative ``file:`` URI (such as
    ``file://./x``), ``..`` segments in a ``file:`` URI, a query or fragment,
    or NUL and other control characters.
    """
    if not isinstance(uri, str) or not uri:
        raise _refuse_uri(uri, "expected a non-empty string")
    if _has_control_char(uri):
        raise _refuse_uri(uri, "it contains NUL or another control character")
    if not uri.lower().startswith("file:"):
        return Path(os.path.abspath(uri))

    parts = urlsplit(uri)
    if parts.query or parts.fragment or "?" in uri or "#" in uri:
        raise _refuse_uri(uri, "a file URI takes no query or fragment")
    if parts.netloc.lower() not in _LOCAL_HOSTS:
        raise _refuse_uri(uri, "a file URI must name no host or 'localhost'")
    path = _decode_fully_uri(uri, parts.path)
    if not path.startswith("/") or path.startswith("//"):
        raise _refuse_uri(uri, "expected an absolute path such as 'file:///srv/x'")
    if ".." in path.split("/"):
        raise _refuse_uri(uri, "'..' segments are not allowed")
    if _has_control_char(path):
        raise _refuse_uri(uri, "it encodes NUL or another control character")
    return Path(path)


def _decode_fully_uri(uri: str, path: str) -> str:
    try:
        return _decode_fully(path)
    except InvalidParameterValue as exc:
        raise _refuse_uri(uri, "its path is not valid percent-encoded UTF-8") from exc


def join_relative(*parts: str | None) -> str:
    """Join already normalised relative artifact paths with ``/``, skipping
    empty parts."""
    return "/".join(part.strip("/") for part in parts if part and part.strip("/"))


def plan_file_upload(
    local_file: str | Path, artifact_path: str | None
) -> tuple[Path, str]:
    """The (local file, artifact path) pair that logging ``local_file`` into
    the folder ``artifact_path`` uploads.

    Raises InvalidParameterValue when ``local_file`` is not a file or a name
    would leave the artifact root.
    """
    source = Path(local_file)
    if not source.is_file():
        raise InvalidParameterValue(
            f"Cannot log {str(local_file)!r}; expected an existing file."
        )
    folder = normalize_artifact_path(artifact_path)
    return source, join_relative(folder, normalize_artifact_path(source.name))


def plan_folder_upload(
    local_dir: str | Path, artifact_path: str | None
) -> list[tuple[Path, str]]:
    """The (local file, artifact path) pairs that logging ``local_dir`` into
    ``artifact_path`` uploads, every destination checked before any upload.

    Raises InvalidParameterValue when ``local_dir`` is not a folder or a
    name would leave the artifact root.
    """
    source_root = Path(local_dir)
    if not source_root.is_dir():
        raise InvalidParameterValue(
            f"Cannot log {str(local_dir)!r}; expected an existing folder."
        )
    folder = normalize_artifact_path(artifact_path)
    uploads: list[tuple[Path, str]] = []
    for current, _, file_names in os.walk(source_root, followlinks=True):
        relative = Path(current).relative_to(source_root).as_posix()
        prefix = join_relative(folder, "" if relative == "." else relative)
        for name in sorted(file_names):
            target = normalize_artifact_path(join_relative(prefix, name))
            uploads.append((Path(current, name), target))
    return uploads
