"""Runs as a pandas DataFrame, shaped like the one ``mlflow.search_runs`` returns.

One row per run. Columns: ``run_id``, ``experiment_id``, ``status``,
``artifact_uri``, ``start_time`` and ``end_time`` (UTC datetimes), then
``metrics.<key>`` (floats, NaN where a run lacks the metric), ``params.<key>``
and ``tags.<key>`` (strings, missing values null). Keys appear in the order
they are first met, so the layout is stable for a given search.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kiln.entities import Run

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["runs_to_frame"]

_INFO_COLUMNS = (
    "run_id",
    "experiment_id",
    "status",
    "artifact_uri",
    "start_time",
    "end_time",
)


def _fill(
    columns: dict[str, list[object]],
    values: dict[str, object],
    row: int,
    missing: object,
) -> None:
    """Append one run's values, padding columns the run lacks (and new ones)."""
    for key, value in values.items():
        column = columns.get(key)
        if column is None:
            column = columns[key] = [missing] * row
        column.append(value)
    for column in columns.values():
        if len(column) == row:
            column.append(missing)


def runs_to_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """Build the DataFrame for ``runs``; needs ``pip install kiln-ml[pandas]``."""
    import numpy as np
    import pandas as pd

    info: dict[str, list[object]] = {name: [] for name in _INFO_COLUMNS}
    metrics: dict[str, list[object]] = {}
    params: dict[str, list[object]] = {}
    tags: dict[str, list[object]] = {}
    for row, run in enumerate(runs):
        for name in _INFO_COLUMNS:
            info[name].append(getattr(run.info, name))
        _fill(metrics, dict(run.data.metrics), row, np.nan)
        _fill(params, dict(run.data.params), row, None)
        _fill(tags, dict(run.data.tags), row, None)

    columns: dict[str, object] = dict(info)
    if runs:
        for name in ("start_time", "end_time"):
            # float64 first: a running run's end_time is None, which pandas
            # reads as NaN and then as NaT.
            times = pd.Series(info[name], dtype="float64")
            columns[name] = pd.to_datetime(times, unit="ms", utc=True)
    columns.update({f"metrics.{key}": values for key, values in metrics.items()})
    columns.update({f"params.{key}": values for key, values in params.items()})
    columns.update({f"tags.{key}": values for key, values in tags.items()})
    return pd.DataFrame(columns)
