"""Runs read from SQL straight into MLflow's JSON shape, for the server.

A search answers up to 50,000 runs. Building an entity for every run,
metric, param and tag and then converting each to JSON does the work twice;
here the rows become the objects that :func:`kiln.wire.run_to_dict` gives
for the loaded runs, field for field and in the same order, without the
entities in between. Each run's params and tags arrive from the database as
one JSON array each, which goes into the answer as it is (an
:class:`orjson.Fragment`), so they cost no Python object per entry. The
tests hold the two paths equal once encoded.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from math import isfinite
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection

from kiln.store.sql.loading import (
    RunRows,
    fetch_run_rows,
    inputs_by_run,
    outputs_by_run,
)
from kiln.store.sql.metrics import gc_paused
from kiln.wire import (
    JSONObject,
    encode_double,
    run_inputs_to_dict,
    run_outputs_to_dict,
)

__all__ = ["load_run_dicts", "run_dicts"]

_RUN_ID = itemgetter(0)


def load_run_dicts(
    connection: Connection,
    run_ids: Sequence[str],
    infos: Sequence[Any] | None = None,
) -> list[JSONObject]:
    """The runs with these ids as JSON objects, in the order given; unknown
    ids are skipped. ``infos`` are the runs' info rows when the caller has
    them already."""
    if not run_ids:
        return []
    with gc_paused():
        rows = fetch_run_rows(connection, run_ids, infos, json_key_values=True)
        return run_dicts(run_ids, rows)


def run_dicts(run_ids: Sequence[str], rows: RunRows) -> list[JSONObject]:
    """Each run of ``rows`` (params and tags as JSON) as ``run_to_dict``
    writes it, in ``run_ids`` order."""
    metrics = _metric_lists(rows.latest)
    params = _fragments(rows.params)
    tags = _fragments(rows.tags)
    inputs = {key: run_inputs_to_dict(v) for key, v in inputs_by_run(rows).items()}
    outputs = {key: run_outputs_to_dict(v) for key, v in outputs_by_run(rows).items()}
    found: dict[str, JSONObject] = {}
    for run_id, exp_id, name, user, status, start, end, uri, stage in rows.infos:
        info: JSONObject = {
            "run_id": run_id,
            "run_uuid": run_id,
            "run_name": name,
            "experiment_id": str(exp_id),
            "user_id": user,
            "status": status,
        }
        if start is not None:
            info["start_time"] = start
        if end is not None:
            info["end_time"] = end
        info["artifact_uri"] = uri
        info["lifecycle_stage"] = stage
        data: JSONObject = {}
        if run_id in metrics:
            data["metrics"] = metrics[run_id]
        if run_id in params:
            data["params"] = params[run_id]
        if run_id in tags:
            data["tags"] = tags[run_id]
        found[run_id] = {
            "info": info,
            "data": data,
            "inputs": inputs.get(run_id, {}),
            "outputs": outputs.get(run_id, {}),
        }
    return [found[run_id] for run_id in run_ids if run_id in found]


def _metric_lists(rows: list[Any]) -> dict[str, list[JSONObject]]:
    # Rows come grouped by run (ordered by run id, then key). A NaN is
    # stored as 0 with is_nan set; ±inf become protobuf's strings.
    return {
        run_id: [
            {
                "key": key,
                "value": (
                    "NaN"
                    if is_nan
                    else value
                    if type(value) is float and isfinite(value)
                    else encode_double(value)
                ),
                "timestamp": timestamp,
                "step": step,
                "run_id": run_id,
            }
            for _, key, value, is_nan, timestamp, step in group
        ]
        for run_id, group in groupby(rows, _RUN_ID)
    }


def _fragments(rows: list[Any]) -> dict[str, orjson.Fragment]:
    return {run_id: orjson.Fragment(array) for run_id, array in rows}
