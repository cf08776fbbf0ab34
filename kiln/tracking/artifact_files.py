"""Turn text, dictionaries and figures into files ready to log as artifacts.

Each writer puts one file in a folder the caller owns (a temporary one) and
returns its path; the caller then logs it like any local file, so every
artifact store gets the same bytes.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiln.errors import InvalidParameterValue

__all__ = ["split_artifact_file", "write_dict", "write_figure", "write_text"]

_YAML_SUFFIXES = (".yaml", ".yml")


def split_artifact_file(artifact_file: str) -> tuple[str | None, str]:
    """Split ``"plots/loss.png"`` into the folder ``"plots"`` and ``"loss.png"``."""
    if not isinstance(artifact_file, str) or not artifact_file.strip("/"):
        raise InvalidParameterValue(
            f"Invalid artifact file {artifact_file!r}; expected a relative file "
            "path such as 'plots/loss.png'."
        )
    if artifact_file.endswith("/"):
        raise InvalidParameterValue(
            f"Invalid artifact file {artifact_file!r}; it names a folder, expected "
            "a file name at the end."
        )
    folder, name = posixpath.split(artifact_file)
    return (folder or None), name


def write_text(folder: Path, name: str, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``folder/name``."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def write_dict(folder: Path, name: str, dictionary: Mapping[str, Any]) -> Path:
    """Write a dictionary as YAML for a ``.yaml``/``.yml`` name, else as JSON."""
    # Imported here: PyYAML is not needed until a dictionary is logged.
    import yaml

    path = folder / name
    try:
        if name.lower().endswith(_YAML_SUFFIXES):
            text = yaml.safe_dump(
                dict(dictionary), default_flow_style=False, sort_keys=False
            )
        else:
            text = json.dumps(dictionary, indent=2)
    except (TypeError, ValueError, yaml.YAMLError) as exc:
        raise InvalidParameterValue(
            f"Cannot write the dictionary to {name!r}: {exc}; expected plain "
            "strings, numbers, booleans, lists and dictionaries."
        ) from exc
    path.write_text(text, encoding="utf-8")
    return path


def write_figure(folder: Path, name: str, figure: object) -> Path:
    """Save a matplotlib or plotly figure in the format its file name implies."""
    path = folder / name
    savefig = getattr(figure, "savefig", None)
    if callable(savefig):
        savefig(path)
        return path
    if type(figure).__module__.startswith("plotly"):
        writer = "write_html" if name.lower().endswith(".html") else "write_image"
        getattr(figure, writer)(str(path))
        return path
    raise InvalidParameterValue(
        f"Cannot log a figure of type {type(figure).__name__!r}; expected a "
        "matplotlib Figure or a plotly Figure."
    )
