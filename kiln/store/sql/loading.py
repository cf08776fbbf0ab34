"""Load whole runs (info, latest metrics, params, tags, inputs) in few queries.

Searches return up to 50,000 runs; loading them one by one would cost a
round trip per run and table. Instead each table is read once for all the
ids, and the pieces are joined up in Python. The ids travel as one bound
value (a JSON array on SQLite, an array on PostgreSQL) rather than as an
IN list of thousands of parameters, and the statements are compiled once
per dialect and run on the driver's cursor, which returns plain tuples.

Metrics, params and tags come back ordered by run, then key, as their
primary keys hold them: the database needs no sort, and each run's rows
arrive together. The rows are fetched once (:func:`fetch_run_rows`) and
then either built into entities (:func:`load_runs`) or written straight
into MLflow's JSON shape (:mod:`kiln.store.sql.run_dicts`), for which the
database can write each run's params and tags as JSON itself.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
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

        self.infos = text(select(*info_columns()).where(of_runs(runs.c.run_id)))
        latest = latest_metrics.c
        self.latest = text(
            select(latest.run_id, latest.key, latest.value, latest.is_nan)
            .add_columns(latest.timestamp, latest.step)
            .where(of_runs(latest.run_id))
            .order_by(latest.run_id, latest.key)
        )
        self.params, self.tags = (
            text(
                select(table.c.run_id, table.c.key, table.c.value)
                .where(of_runs(table.c.run_id))
                .order_by(table.c.run_id, table.c.key)
            )
            for table in (params, tags)
        )
        self.params_json, self.tags_json = (
            text(_key_value_arrays(table, of_runs, self.sqlite))
            for table in (params, tags)
        )

        def on_page(stmt: Select[Any], column: Any) -> Select[Any]:
            # For tables with few rows per run, or none: on SQLite a join
            # from the id list looks each id up without indexing the list
            # first, which is most of the cost of an IN over an empty table.
            if not self.sqlite:
                return stmt.where(of_runs(column))
            page = func.json_each(bindparam("ids")).table_valued("value")
            page = page.alias("page")
            return stmt.select_from(page).join(column.table, column == page.c.value)

        self.input_tags = text(
            on_page(
                select(input_tags.c.run_id, input_tags.c.dataset_id).add_columns(
                    input_tags.c.key, input_tags.c.value
                ),
                input_tags.c.run_id,
            ).order_by(input_tags.c.key)
        )
        self.dataset_inputs = text(
            on_page(
                select(run_inputs.c.run_id, datasets.c.dataset_id, datasets.c.name)
                .add_columns(
                    datasets.c.digest, datasets.c.source_type, datasets.c.source
                )
                .add_columns(datasets.c.schema, datasets.c.profile),
                run_inputs.c.run_id,
            )
            .join(datasets, datasets.c.dataset_id == run_inputs.c.dataset_id)
            .order_by(datasets.c.name, datasets.c.digest)
        )
        self.model_inputs = text(
            on_page(
                select(run_model_inputs.c.run_id, run_model_inputs.c.model_id),
                run_model_inputs.c.run_id,
            ).order_by(run_model_inputs.c.model_id)
        )
        outputs = run_model_outputs.c
        self.model_outputs = text(
            on_page(
                select(outputs.run_id, outputs.model_id, outputs.step), outputs.run_id
            ).order_by(outputs.step, outputs.model_id)
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

    def with_json_key_values(self) -> tuple[str, ...]:
        """``all()`` with params and tags as one JSON array per run."""
        every = list(self.all())
        every[2:4] = [self.params_json, self.tags_json]
        return tuple(every)

    def ids(self, run_ids: Sequence[str]) -> dict[str, object]:
        """The parameters binding ``run_ids``, each once (a join from the
        list would repeat the rows of a repeated id)."""
        unique = list(dict.fromkeys(run_ids))
        return {"ids": json.dumps(unique) if self.sqlite else unique}


def _key_value_arrays(
    table: Table, of_runs: Callable[[Any], ColumnElement[bool]], sqlite: bool
) -> Select[Any]:
    """Per run, its rows of ``table`` as a JSON array of ``{key, value}``
    objects in key order: (run_id, array text)."""
    fields: tuple[ColumnElement[Any], ...] = (
        literal_column("'key'"),
        table.c.key,
        literal_column("'value'"),
        table.c.value,
    )
    array: ColumnElement[Any]
    if sqlite:
        # SQLite before 3.44 takes no ORDER BY inside an aggregate. Grouped
        # by run through the primary key (run_id, key), the only index that
        # finds a run's rows, each run's rows arrive in key order.
        array = func.json_group_array(func.json_object(*fields))
    else:
        pairs = func.json_build_object(*fields)
        array = cast(func.json_agg(aggregate_order_by(pairs, table.c.key)), Text)
    return (
        select(table.c.run_id, array)
        .where(of_runs(table.c.run_id))
        .group_by(table.c.run_id)
    )


_COMPILED: dict[str, _Statements] = {}


def _statements(dialect: Dialect) -> _Statements:
    found = _COMPILED.get(dialect.name)
    if found is None:
        found = _COMPILED[dialect.name] = _Statements(dialect)
    return found


class RunRows(NamedTuple):
    """The rows of one load, each list in its statement's column order.

    ``infos`` as :func:`kiln.store.sql.runs.info_columns`; ``latest`` as
    (run_id, key, value, is_nan, timestamp, step); ``params`` and ``tags``
    as (run_id, key, value), these three ordered by run id, then key.
    """

    infos: list[Any]
    latest: list[Any]
    params: list[Any]
    tags: list[Any]
    input_tags: list[Any]
    datasets: list[Any]
    model_inputs: list[Any]
    model_outputs: list[Any]


def fetch_run_rows(
    connection: Connection,
    run_ids: Sequence[str],
    infos: Sequence[Any] | None = None,
    *,
    json_key_values: bool = False,
) -> RunRows:
    """Every row the runs with these ids need; ``infos`` when the caller has
    read the runs' info rows already (a search reads them with the ids).

    With ``json_key_values``, ``params`` and ``tags`` hold one row per run
    instead: (run_id, JSON array of ``{"key", "value"}`` objects in key
    order), built by the database.
    """
    sql = _statements(connection.dialect)
    statements = sql.with_json_key_values() if json_key_values else sql.all()
    if infos is not None:
        statements = statements[1:]
    driver = connection.connection.driver_connection
    results = _fetch_all(driver, statements, sql.ids(run_ids))
    if infos is not None:
        results.insert(0, list(infos))
    return RunRows(*results)


def load_runs(
    connection: Connection,
    run_ids: Sequence[str],
    infos: Sequence[Any] | None = None,
) -> list[Run]:
    """The runs with these ids, in the order given; unknown ids are skipped.

    ``infos`` are the runs' info rows when the caller has them already.
    """
    if not run_ids:
        return []
    with gc_paused():
        return _assemble(run_ids, fetch_run_rows(connection, run_ids, infos))


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


def _assemble(run_ids: Sequence[str], rows: RunRows) -> list[Run]:
    infos: dict[str, RunInfo] = {row[0]: run_info_from_row(row) for row in rows.infos}
    if not infos:
        return []
    latest = _latest_metrics(rows.latest)
    run_params = _key_values(rows.params)
    run_tags = _key_values(rows.tags)
    inputs = inputs_by_run(rows)
    outputs = outputs_by_run(rows)
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


def inputs_by_run(rows: RunRows) -> dict[str, RunInputs]:
    """The inputs of each run that has any."""
    if not (rows.datasets or rows.model_inputs):
        return {}
    tags_of: dict[tuple[str, str], list[InputTag]] = defaultdict(list)
    for run_id, dataset_id, key, value in rows.input_tags:
        tags_of[(run_id, dataset_id)].append(InputTag(key, value))
    dataset_inputs: dict[str, list[DatasetInput]] = defaultdict(list)
    for run_id, dataset_id, *fields in rows.datasets:
        dataset = Dataset(*fields)
        dataset_tags = tuple(tags_of[(run_id, dataset_id)])
        dataset_inputs[run_id].append(DatasetInput(dataset, dataset_tags))
    model_inputs: dict[str, list[LoggedModelInput]] = defaultdict(list)
    for run_id, model_id in rows.model_inputs:
        model_inputs[run_id].append(LoggedModelInput(model_id))
    return {
        run_id: RunInputs(
            tuple(dataset_inputs.get(run_id, ())), tuple(model_inputs.get(run_id, ()))
        )
        for run_id in dataset_inputs.keys() | model_inputs.keys()
    }


def outputs_by_run(rows: RunRows) -> dict[str, RunOutputs]:
    """The outputs of each run that has any."""
    outputs: dict[str, list[LoggedModelOutput]] = defaultdict(list)
    for run_id, model_id, step in rows.model_outputs:
        outputs[run_id].append(LoggedModelOutput(model_id, step))
    return {run_id: RunOutputs(tuple(found)) for run_id, found in outputs.items()}
