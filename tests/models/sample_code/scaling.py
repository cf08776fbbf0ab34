"""Helper code saved next to a model through ``code_paths``."""

from __future__ import annotations


def scale(value: float, factor: float) -> float:
    return value * factor
