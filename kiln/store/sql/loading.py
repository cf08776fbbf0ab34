"""Load whole runs (info, latest metrics, params, tags, inputs) in few queries.

Searches return up to 50,000 runs; loading them one by one would cost a
round trip per run and table. Instead each table is read once per chunk of
ids, and the pieces are joined up in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection, select

from kiln.entities import Metric, Run, RunData, RunInfo
from kiln.store.sql.inputs import load_inputs
from kiln.store.sql.runs import info_columns, run_info_from_row
from kiln.store.sql.schema import latest_metrics, params, runs, tags

# Well under SQLite's and PostgreSQL's limits on bound parameters.
_CHUNK = 900
_NAN = float("nan")


def load_runs(connection: Connection, run_ids: Sequence[str]) -> list[Run]:
    """The runs with these ids, in the order given; unknown ids are skipped."""
    loaded: dict[str, Run] = {}
    for start in range(0, len(run_ids), _CHUNK):
        loaded.update(_load_chunk(connection, list(run_ids[start : start + _CHUNK])))
    return [loaded[run_id] for run_id in run_ids if run_id in loaded]


def _load_chunk(connection: Connection, run_ids: list[str]) -> dict[str, Run]:
    infos: dict[str, RunInfo] = {
        row[0]: run_info_from_row(row)
        for row in connection.execute(
            select(*info_columns()).where(runs.c.run_id.in_(run_ids))  # type: ignore[call-overload]
        )
    }
    found = list(infos)
    if not found:
        return {}

    latest: dict[str, list[Metric]] = defaultdict(list)
    for run_id, key, value, is_nan, timestamp, step in connection.execute(
        select(
            latest_metrics.c.run_id,
            latest_metrics.c.key,
            latest_metrics.c.value,
            latest_metrics.c.is_nan,
            latest_metrics.c.timestamp,
            latest_metrics.c.step,
        )
        .where(latest_metrics.c.run_id.in_(found))
        .order_by(latest_metrics.c.key)
    ):
        latest[run_id].append(
            Metric(key, _NAN if is_nan else value, timestamp, step, run_id)
        )
    run_params = _key_values(connection, params, found)
    run_tags = _key_values(connection, tags, found)
    inputs, outputs = load_inputs(connection, found)

    return {
        run_id: Run(
            info=info,
            data=RunData(
                latest_metrics=tuple(latest[run_id]),
                params=run_params[run_id],
                tags=run_tags[run_id],
            ),
            inputs=inputs[run_id],
            outputs=outputs[run_id],
        )
        for run_id, info in infos.items()
    }


def _key_values(
    connection: Connection, table: object, run_ids: list[str]
) -> dict[str, dict[str, str]]:
    columns = table.c  # type: ignore[attr-defined]
    result: dict[str, dict[str, str]] = defaultdict(dict)
    for run_id, key, value in connection.execute(
        select(columns.run_id, columns.key, columns.value)
        .where(columns.run_id.in_(run_ids))
        .order_by(columns.key)
    ):
        result[run_id][key] = value
    return result
