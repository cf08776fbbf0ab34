"""Compile searches to SQLAlchemy Core queries over the tracking schema.

Each entry point parses the filter and ``order_by`` and returns a select of
ids, filtered, ordered and paged in SQL; nothing is filtered in Python.
"""

# TODO: registered-model and model-version searches compile to SQL once the
# registry tables exist in the schema; until then their specs
# (kiln.search.specs.REGISTERED_MODELS, MODEL_VERSIONS) parse and validate
# filters and order_by, and nothing here can run them.
from kiln.search.sql.experiments import select_experiment_ids
from kiln.search.sql.runs import select_run_ids

__all__ = ["select_experiment_ids", "select_run_ids"]
