"""Load whole runs (info, latest metrics, params, tags, inputs) in few queries.

Searches return up to 50,000 runs; loading them one by one would cost a
round trip per run and table. Instead each table is read once for all the
ids, and the pieces are joined up in Python. The ids travel as one bound
value (a JSON array on SQLite, an array on PostgreSQL) rather than as an
IN list of thousands of parameters, and the statements are compiled once
per dialect and run on the driver's cursor, which returns plain tuples.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect

from kiln.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
)
from kiln.store.sql.metrics import gc_paused, new_metric
from kiln.store.sql.runs import info_columns, run_info_from_row
from kiln.store.sql.schema import (
    datasets,
    input_tags,
    latest_metrics,
    params,
    run_inputs,
    run_model_inputs,
    run_model_outputs,
    runs,
    tags,
)
from kiln.store.sql.statements import compile_sql

_NAN = float("nan")
_NO_INPUTS = RunInputs()
_NO_OUTPUTS = RunOutputs()


class _Statements:
    """The SQL text of every read, each taking the ids as ``ids``."""

    def __init__(self, dialect: Dialect) -> None:
        self.sqlite = dialect.name == "sqlite"

        def of_runs(column: Any) -> ColumnElement[bool]:
            if self.sqlite:
                ids: Select[Any] = select(literal_column("value")).select_from(
                    func.json_each(bindparam("ids"))
                )
                return column.in_(ids)  # type: ignore[no-any-return]
            return column == any_(bindparam("ids", type_=ARRAY(String)))  # type: ignore[no-any-return]

        def text(stmt: Any) -> str:
            return compile_sql(stmt, dialect)

        self.infos = text(select(*info_columns()).where(of_runs(runs.c.run_id)))  # type: ignore[call-overload]
        latest = latest_metrics.c
        self.latest = text(
            select(latest.run_id, latest.key, latest.value, latest.is_nan)
            .add_columns(latest.timestamp, latest.step)
            .where(of_runs(latest.run_id))
            .order_by(latest.key)
        )
        self.params, self.tags = (
            text(
                select(table.c.run_id, table.c.key, table.c.value)
                .where(of_runs(table.c.run_id))
                .order_by(table.c.key)
            )
            for table in (params, tags)
        )
        self.input_tags = text(
            select(input_tags.c.run_id, input_tags.c.dataset_id)
            .add_columns(input_tags.c.key, input_tags.c.value)
            .where(of_runs(input_tags.c.run_id))
            .order_by(input_tags.c.key)
        )
        self.dataset_inputs = text(
            select(run_inputs.c.run_id, datasets.c.dataset_id, datasets.c.name)
            .add_columns(datasets.c.digest, datasets.c.source_type, datasets.c.source)
            .add_columns(datasets.c.schema, datasets.c.profile)
            .join(datasets, datasets.c.dataset_id == run_inputs.c.dataset_id)
            .where(of_runs(run_inputs.c.run_id))
            .order_by(datasets.c.name, datasets.c.digest)
        )
        self.model_inputs = text(
            select(run_model_inputs.c.run_id, run_model_inputs.c.model_id)
            .where(of_runs(run_model_inputs.c.run_id))
            .order_by(run_model_inputs.c.model_id)
        )
        outputs = run_model_outputs.c
        self.model_outputs = text(
            select(outputs.run_id, outputs.model_id, outputs.step)
            .where(of_runs(outputs.run_id))
            .order_by(outputs.step, outputs.model_id)
        )

    def all(self) -> tuple[str, ...]:
        """Every read, in the order ``_assemble`` takes their rows."""
        return (
            self.infos,
            self.latest,
            self.params,
            self.tags,
            self.input_tags,
            self.dataset_inputs,
            self.model_inputs,
            self.model_outputs,
        )

    def ids(self, run_ids: Sequence[str]) -> dict[str, object]:
        """The parameters binding ``run_ids``."""
        return {"ids": json.dumps(list(run_ids)) if self.sqlite else list(run_ids)}


_COMPILED: dict[str, _Statements] = {}


def _statements(dialect: Dialect) -> _Statements:
    found = _COMPILED.get(dialect.name)
    if found is None:
        found = _COMPILED[dialect.name] = _Statements(dialect)
    return found


def load_runs(connection: Connection, run_ids: Sequence[str]) -> list[Run]:
    """The runs with these ids, in the order given; unknown ids are skipped."""
    if not run_ids:
        return []
    sql = _statements(connection.dialect)
    driver = connection.connection.driver_connection
    with gc_paused():
        results = _fetch_all(driver, sql.all(), sql.ids(run_ids))
        return _assemble(run_ids, *results)


def _fetch_all(
    driver: Any, statements: Sequence[str], args: dict[str, object]
) -> list[list[Any]]:
    # On PostgreSQL the statements go out in one pipeline: one round trip
    # for all of them instead of one each.
    cursors = [driver.cursor() for _ in statements]
    try:
        if hasattr(driver, "pipeline"):
            with driver.pipeline():
                for cursor, statement in zip(cursors, statements, strict=True):
                    cursor.execute(statement, args)
        else:
            for cursor, statement in zip(cursors, statements, strict=True):
                cursor.execute(statement, args)
        return [cursor.fetchall() for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()


def _assemble(
    run_ids: Sequence[str],
    info_rows: list[Any],
    latest_rows: list[Any],
    param_rows: list[Any],
    tag_rows: list[Any],
    input_tag_rows: list[Any],
    dataset_rows: list[Any],
    model_input_rows: list[Any],
    output_rows: list[Any],
) -> list[Run]:
    infos: dict[str, RunInfo] = {row[0]: run_info_from_row(row) for row in info_rows}
    if not infos:
        return []
    latest = _latest_metrics(latest_rows)
    run_params = _key_values(param_rows)
    run_tags = _key_values(tag_rows)
    inputs = _inputs(input_tag_rows, dataset_rows, model_input_rows)
    outputs = _outputs(output_rows)
    loaded = {
        run_id: Run(
            info=info,
            data=RunData(
                latest_metrics=tuple(latest.get(run_id, ())),
                params=run_params.get(run_id, {}),
                tags=run_tags.get(run_id, {}),
            ),
            inputs=inputs.get(run_id, _NO_INPUTS),
            outputs=outputs.get(run_id, _NO_OUTPUTS),
        )
        for run_id, info in infos.items()
    }
    return [loaded[run_id] for run_id in run_ids if run_id in loaded]


def _latest_metrics(rows: list[Any]) -> dict[str, list[Metric]]:
    latest: dict[str, list[Metric]] = defaultdict(list)
    for run_id, key, value, is_nan, timestamp, step in rows:
        latest[run_id].append(
            new_metric(key, _NAN if is_nan else value, timestamp, step, run_id)
        )
    return latest


def _key_values(rows: list[Any]) -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = defaultdict(dict)
    for run_id, key, value in rows:
        result[run_id][key] = value
    return result


def _inputs(
    tag_rows: list[Any], dataset_rows: list[Any], model_rows: list[Any]
) -> dict[str, RunInputs]:
    if not (dataset_rows or model_rows):
        return {}
    tags_of: dict[tuple[str, str], list[InputTag]] = defaultdict(list)
    for run_id, dataset_id, key, value in tag_rows:
        tags_of[(run_id, dataset_id)].append(InputTag(key, value))
    dataset_inputs: dict[str, list[DatasetInput]] = defaultdict(list)
    for run_id, dataset_id, *fields in dataset_rows:
        dataset = Dataset(*fields)
        dataset_tags = tuple(tags_of[(run_id, dataset_id)])
        dataset_inputs[run_id].append(DatasetInput(dataset, dataset_tags))
    model_inputs: dict[str, list[LoggedModelInput]] = defaultdict(list)
    for run_id, model_id in model_rows:
        model_inputs[run_id].append(LoggedModelInput(model_id))
    return {
        run_id: RunInputs(
            tuple(dataset_inputs.get(run_id, ())), tuple(model_inputs.get(run_id, ()))
        )
        for run_id in dataset_inputs.keys() | model_inputs.keys()
    }


def _outputs(rows: list[Any]) -> dict[str, RunOutputs]:
    outputs: dict[str, list[LoggedModelOutput]] = defaultdict(list)
    for run_id, model_id, step in rows:
        outputs[run_id].append(LoggedModelOutput(model_id, step))
    return {run_id: RunOutputs(tuple(found)) for run_id, found in outputs.items()}
