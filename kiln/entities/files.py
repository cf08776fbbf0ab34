"""Artifact listing entries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FileInfo:
    """One file or folder under a run's artifact root.

    ``path`` is relative to the listed root; ``file_size`` is ``None`` for
    folders.
    """

    path: str
    is_dir: bool
    file_size: int | None = None
