"""Compile searches to SQLAlchemy Core queries over the tracking schema.

Each entry point parses the filter and ``order_by`` and returns a select of
ids, filtered, ordered and paged in SQL; nothing is filtered in Python.
"""

from kiln.search.sql.experiments import select_experiment_ids
from kiln.search.sql.registry import (
    select_model_version_keys,
    select_registered_model_names,
)
from kiln.search.sql.runs import select_run_ids

__all__ = [
    "select_experiment_ids",
    "select_model_version_keys",
    "select_registered_model_names",
    "select_run_ids",
]
