"""Appending to a run's logged-model history tag in SQL, atomically.

Two models logged to one run at the same instant must both stay in the
``mlflow.log-model.history`` list, so the read and the rewrite of the tag
happen in one write transaction that holds the run's row: PostgreSQL locks
it (``FOR NO KEY UPDATE``, which still lets metric points referencing the
run go in), and SQLite's write transactions already exclude one another
(``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from kiln.entities import RunTag
from kiln.store.model_history import MODEL_HISTORY_TAG, appended_history
from kiln.store.sql.runs import raise_unless_active, set_tags
from kiln.store.sql.schema import runs, tags
from kiln.validation import validate_run_id, validate_tag

__all__ = ["append_logged_model"]


def append_logged_model(
    connection: Connection, run_id: str, model: dict[str, object]
) -> None:
    """Append ``model`` to the active run's history tag.

    The caller's transaction must be a write transaction; it holds the run's
    row from the first read to the commit.
    """
    validate_run_id(run_id)
    stage = connection.execute(
        select(runs.c.lifecycle_stage)
        .where(runs.c.run_id == run_id)
        .with_for_update(key_share=True)
    ).scalar()
    raise_unless_active(run_id, stage)
    current = connection.execute(
        select(tags.c.value).where(
            tags.c.run_id == run_id, tags.c.key == MODEL_HISTORY_TAG
        )
    ).scalar()
    tag = RunTag(MODEL_HISTORY_TAG, appended_history(current, model))
    validate_tag(tag)
    set_tags(connection, run_id, [tag])
