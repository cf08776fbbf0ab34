"""Artifact listing entries on the wire."""

from __future__ import annotations

from collections.abc import Mapping

from kiln.entities import FileInfo
from kiln.wire.encoding import JSONObject, compact
from kiln.wire.logged import as_message
from kiln.wire.message import Message

__all__ = ["file_info_from_dict", "file_info_to_dict"]


def file_info_to_dict(info: FileInfo) -> JSONObject:
    """A file or folder; ``file_size`` is left out for folders."""
    return compact(
        {"path": info.path, "is_dir": info.is_dir, "file_size": info.file_size}
    )


def file_info_from_dict(source: Mapping[str, object] | Message) -> FileInfo:
    msg = as_message(source)
    return FileInfo(
        path=msg.string("path", required=True),
        is_dir=bool(msg.boolean("is_dir")),
        file_size=msg.int64("file_size"),
    )
