"""Where a dataset came from, in the form MLflow records it.

A source is a type (``local``, ``http``, ``s3``, ``code`` …) and a small
JSON document: ``{"uri": …}`` for files and object stores, ``{"url": …}``
for web addresses, and for data built in code the tags that say which
program built it.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from kiln.tracking.context import (
    TAG_SOURCE_NAME,
    TAG_SOURCE_TYPE,
    TAG_USER,
    default_run_tags,
)

__all__ = ["describe_source"]

_CODE_TAGS = (TAG_USER, TAG_SOURCE_NAME, TAG_SOURCE_TYPE)


def describe_source(source: str | Path | None) -> tuple[str, str]:
    """Return ``(source_type, source_json)`` for a path, URI or None.

    None means the data was built in code; relative paths are made absolute.
    """
    if source is None:
        tags = default_run_tags()
        return "code", json.dumps({"tags": {key: tags[key] for key in _CODE_TAGS}})
    text = str(source)
    scheme = urlsplit(text).scheme.lower()
    # One-letter schemes are Windows drive letters.
    if isinstance(source, Path) or len(scheme) <= 1:
        return "local", json.dumps({"uri": str(Path(text).resolve())})
    if scheme == "file":
        return "local", json.dumps({"uri": text})
    if scheme in ("http", "https"):
        return "http", json.dumps({"url": text})
    return scheme, json.dumps({"uri": text})
