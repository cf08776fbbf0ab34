"""Runs in SQL: create, update, soft-delete and restore; params and tags.

Every function takes an open connection; the caller owns the transaction.
Creating runs and logging params and tags are the busy paths: their SQL is
compiled once per dialect and runs on the driver's cursor, since
SQLAlchemy's work per statement costs more than the writes themselves.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from contextlib import closing
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    String,
    any_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect

from kiln.entities import (
    LifecycleStage,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
)
from kiln.errors import InvalidParameterValue, ResourceDoesNotExist
from kiln.store.run_names import random_run_name
from kiln.store.sql.experiments import raise_unless_experiment_active
from kiln.store.sql.schema import experiments, params, runs, tags
from kiln.store.sql.statements import (
    compile_positional,
    compile_sql,
    insert_ignore,
    now_ms,
    upsert,
)
from kiln.validation import (
    validate_experiment_id,
    validate_key,
    validate_param,
    validate_run_id,
    validate_run_name,
    validate_tag,
)

RUN_NAME_TAG = "mlflow.runName"
MAX_USER_ID_LENGTH = 256

_INFO_COLUMNS = (
    runs.c.run_id,
    runs.c.experiment_id,
    runs.c.run_name,
    runs.c.user_id,
    runs.c.status,
    runs.c.start_time,
    runs.c.end_time,
    runs.c.artifact_uri,
    runs.c.lifecycle_stage,
)


def info_columns() -> tuple[Column[Any], ...]:
    """The columns ``run_info_from_row`` reads, in order."""
    return _INFO_COLUMNS


def run_info_from_row(row: Sequence[object]) -> RunInfo:
    run_id, exp_id, name, user, status, start, end, uri, stage = row
    return RunInfo(
        run_id=str(run_id),
        experiment_id=str(exp_id),
        run_name=str(name),
        user_id=str(user),
        status=str(status),
        start_time=start if isinstance(start, int) else None,
        end_time=end if isinstance(end, int) else None,
        artifact_uri=str(uri),
        lifecycle_stage=str(stage),
    )


def _resolve_run_name(run_name: str | None, run_tags: Sequence[RunTag]) -> str:
    tagged = {tag.key: tag.value for tag in run_tags}.get(RUN_NAME_TAG)
    if run_name is not None:
        validate_run_name(run_name)
    if run_name and tagged is not None and tagged != run_name:
        raise InvalidParameterValue(
            f"The run name {run_name!r} differs from the {RUN_NAME_TAG!r} tag "
            f"{tagged!r}; give one name or make them equal."
        )
    return run_name or tagged or random_run_name()


def _validate_run_request(
    user_id: str, start_time: int | None, run_tags: Sequence[RunTag]
) -> None:
    if not isinstance(user_id, str) or len(user_id) > MAX_USER_ID_LENGTH:
        raise InvalidParameterValue(
            f"Invalid user id {user_id!r}; expected a string of at most "
            f"{MAX_USER_ID_LENGTH} characters."
        )
    if start_time is not None and (
        isinstance(start_time, bool) or not isinstance(start_time, int)
    ):
        raise InvalidParameterValue(
            f"Invalid start time {start_time!r}; expected epoch milliseconds."
        )
    for tag in run_tags:
        validate_tag(tag)


_RUN_COLUMNS = (
    "run_id",
    "experiment_id",
    "run_name",
    "user_id",
    "status",
    "start_time",
    "artifact_uri",
    "lifecycle_stage",
)
_KEY_VALUE = ("run_id", "key", "value")


class _Statements:
    """The busy paths' SQL for one dialect; inserts take tuples, in the
    column order given above, and reads take dict parameters."""

    def __init__(self, dialect: Dialect) -> None:
        name = dialect.name
        self.experiment = compile_sql(
            select(
                experiments.c.lifecycle_stage, experiments.c.artifact_location
            ).where(experiments.c.experiment_id == bindparam("experiment_id")),
            dialect,
        )
        self.insert_run = compile_positional(
            insert(runs), dialect, _RUN_COLUMNS, _RUN_COLUMNS
        )
        self.insert_tags = compile_positional(
            insert(tags), dialect, _KEY_VALUE, _KEY_VALUE
        )
        self.upsert_tags = compile_positional(
            upsert(name, tags, ("run_id", "key"), ("value",)),
            dialect,
            _KEY_VALUE,
            _KEY_VALUE,
        )
        self.insert_params = compile_positional(
            insert_ignore(name, params), dialect, _KEY_VALUE, _KEY_VALUE
        )
        self.rename = compile_sql(
            update(runs)
            .where(runs.c.run_id == bindparam("run_id"))
            .values(run_name=bindparam("new_name")),
            dialect,
        )
        self.run_stage = compile_sql(
            select(runs.c.lifecycle_stage).where(runs.c.run_id == bindparam("run_id")),
            dialect,
        )
        self.sqlite = name == "sqlite"
        keys: Any
        if self.sqlite:
            # The keys travel as one JSON array rather than one parameter each.
            keys = params.c.key.in_(
                select(literal_column("value")).select_from(
                    func.json_each(bindparam("keys"))
                )
            )
        else:
            keys = params.c.key == any_(bindparam("keys", type_=ARRAY(String)))
        self.stored_params = compile_sql(
            select(params.c.key, params.c.value).where(
                params.c.run_id == bindparam("run_id"), keys
            ),
            dialect,
        )


_COMPILED: dict[str, _Statements] = {}


def _statements(connection: Connection) -> _Statements:
    return _statements_for(connection.dialect)


def _statements_for(dialect: Dialect) -> _Statements:
    found = _COMPILED.get(dialect.name)
    if found is None:
        found = _COMPILED[dialect.name] = _Statements(dialect)
    return found


def _cursor(connection: Connection) -> Any:
    """A cursor of the driver's connection, inside the caller's transaction."""
    return connection.connection.driver_connection.cursor()  # type: ignore[union-attr]


def create_run(
    cursor: Any,
    dialect: Dialect,
    experiment_id: str,
    user_id: str,
    start_time: int | None,
    run_tags: Sequence[RunTag],
    run_name: str | None,
) -> Run:
    """Insert a RUNNING run and its tags (``mlflow.runName`` among them)
    through ``cursor``, a driver cursor in a write transaction.

    The run is returned as written, without reading it back: no metrics,
    params or inputs yet, and its tags in key order.
    """
    _validate_run_request(user_id, start_time, run_tags)
    name = _resolve_run_name(run_name, run_tags)
    validate_run_name(name)
    validate_experiment_id(experiment_id)
    sql = _statements_for(dialect)
    cursor.execute(sql.experiment, {"experiment_id": int(experiment_id)})
    found = cursor.fetchone()
    raise_unless_experiment_active(experiment_id, found and found[0])
    run_id = uuid.uuid4().hex
    info = RunInfo(
        run_id=run_id,
        experiment_id=str(int(experiment_id)),
        run_name=name,
        user_id=user_id,
        status=RunStatus.RUNNING,
        start_time=now_ms() if start_time is None else start_time,
        end_time=None,
        artifact_uri=f"{found[1].rstrip('/')}/{run_id}/artifacts",
        lifecycle_stage=LifecycleStage.ACTIVE,
    )
    cursor.execute(
        sql.insert_run,
        (
            run_id,
            int(experiment_id),
            name,
            user_id,
            info.status,
            info.start_time,
            info.artifact_uri,
            info.lifecycle_stage,
        ),
    )
    values = {tag.key: tag.value for tag in run_tags}
    values[RUN_NAME_TAG] = name
    cursor.executemany(sql.insert_tags, [(run_id, *item) for item in values.items()])
    # Code-point order, as SQLite (and PostgreSQL's C collation) sort keys.
    return Run(info=info, data=RunData(tags=dict(sorted(values.items()))))


def get_run_info(connection: Connection, run_id: str) -> RunInfo:
    """The run's info; ResourceDoesNotExist if there is no such run."""
    validate_run_id(run_id)
    row = connection.execute(
        select(*_INFO_COLUMNS).where(runs.c.run_id == run_id)
    ).first()
    if row is None:
        raise ResourceDoesNotExist(f"No run with id {run_id!r} exists.")
    return run_info_from_row(row)


def check_run_active(connection: Connection, run_id: str) -> None:
    """Raise unless the run exists and is active (not deleted)."""
    with closing(_cursor(connection)) as cursor:
        check_run_active_with(cursor, connection.dialect, run_id)


def check_run_active_with(cursor: Any, dialect: Dialect, run_id: str) -> None:
    """:func:`check_run_active` through ``cursor``, a driver cursor."""
    validate_run_id(run_id)
    cursor.execute(_statements_for(dialect).run_stage, {"run_id": run_id})
    found = cursor.fetchone()
    raise_unless_active(run_id, None if found is None else found[0])


def raise_unless_active(run_id: str, stage: str | None) -> None:
    """Raise for a missing (``stage`` None) or deleted run."""
    if stage is None:
        raise ResourceDoesNotExist(f"No run with id {run_id!r} exists.")
    if stage != LifecycleStage.ACTIVE:
        raise InvalidParameterValue(
            f"The run {run_id!r} must be in the 'active' state, but it is "
            f"{stage!r}; restore it first."
        )


def update_run_info(
    connection: Connection,
    run_id: str,
    status: str | None,
    end_time: int | None,
    run_name: str | None,
) -> RunInfo:
    """Change status, end time and name; the name updates its tag too."""
    if status is not None and status not in RunStatus.ALL:
        raise InvalidParameterValue(
            f"Invalid run status {status!r}; expected one of "
            f"{', '.join(RunStatus.ALL)}."
        )
    if end_time is not None and (
        isinstance(end_time, bool) or not isinstance(end_time, int)
    ):
        raise InvalidParameterValue(
            f"Invalid end time {end_time!r}; expected epoch milliseconds."
        )
    if run_name is not None:
        validate_run_name(run_name)
    check_run_active(connection, run_id)

    values: dict[str, object] = {}
    if status is not None:
        values["status"] = status
    if end_time is not None:
        values["end_time"] = end_time
    if run_name:
        values["run_name"] = run_name
        _write_tags(connection, run_id, {RUN_NAME_TAG: run_name})
    if values:
        connection.execute(update(runs).where(runs.c.run_id == run_id).values(values))
    return get_run_info(connection, run_id)


def delete_run(connection: Connection, run_id: str) -> None:
    """Soft-delete the run; deleting a deleted run keeps its deletion time."""
    get_run_info(connection, run_id)
    connection.execute(
        update(runs)
        .where(runs.c.run_id == run_id)
        .values(
            lifecycle_stage=LifecycleStage.DELETED,
            deleted_time=func.coalesce(runs.c.deleted_time, now_ms()),
        )
    )


def restore_run(connection: Connection, run_id: str) -> None:
    get_run_info(connection, run_id)
    connection.execute(
        update(runs)
        .where(runs.c.run_id == run_id)
        .values(lifecycle_stage=LifecycleStage.ACTIVE, deleted_time=None)
    )


def set_tags(connection: Connection, run_id: str, run_tags: Sequence[RunTag]) -> None:
    """Write tags to an active run; ``mlflow.runName`` renames the run."""
    if not run_tags:
        return
    _write_tags(connection, run_id, {tag.key: tag.value for tag in run_tags})


def set_tags_with(
    cursor: Any, dialect: Dialect, run_id: str, run_tags: Sequence[RunTag]
) -> None:
    """:func:`set_tags` through ``cursor``, a driver cursor in a write
    transaction."""
    if run_tags:
        _write_tags_with(
            cursor, dialect, run_id, {tag.key: tag.value for tag in run_tags}
        )


def _write_tags(connection: Connection, run_id: str, values: dict[str, str]) -> None:
    with closing(_cursor(connection)) as cursor:
        _write_tags_with(cursor, connection.dialect, run_id, values)


def _write_tags_with(
    cursor: Any, dialect: Dialect, run_id: str, values: dict[str, str]
) -> None:
    sql = _statements_for(dialect)
    new_name = values.get(RUN_NAME_TAG)
    if new_name:
        validate_run_name(new_name)
    cursor.executemany(sql.upsert_tags, [(run_id, *item) for item in values.items()])
    if new_name:
        cursor.execute(sql.rename, {"run_id": run_id, "new_name": new_name})


def delete_tag(connection: Connection, run_id: str, key: str) -> None:
    validate_key(key, "tag")
    check_run_active(connection, run_id)
    result = connection.execute(
        delete(tags).where(tags.c.run_id == run_id, tags.c.key == key)
    )
    if result.rowcount == 0:
        raise ResourceDoesNotExist(f"The run {run_id!r} has no tag {key!r}.")


def log_params(connection: Connection, run_id: str, items: Sequence[Param]) -> None:
    """Store params; a key already holding another value is refused."""
    with closing(_cursor(connection)) as cursor:
        log_params_with(cursor, connection.dialect, run_id, items)


def log_params_with(
    cursor: Any, dialect: Dialect, run_id: str, items: Sequence[Param]
) -> None:
    """:func:`log_params` through ``cursor``, a driver cursor in a write
    transaction.

    Inserting first and comparing afterwards, in the same transaction, leaves
    no gap in which another writer could slip a different value in.
    """
    if not items:
        return
    wanted = {param.key: param.value for param in items}
    sql = _statements_for(dialect)
    rows = [(run_id, *item) for item in wanted.items()]
    cursor.executemany(sql.insert_params, rows)
    if cursor.rowcount == len(rows):
        return  # every key was new
    keys = list(wanted)
    cursor.execute(
        sql.stored_params,
        {"run_id": run_id, "keys": json.dumps(keys) if sql.sqlite else keys},
    )
    for key, value in cursor.fetchall():
        if value != wanted[key]:
            raise InvalidParameterValue(
                f"The param {key!r} of run {run_id!r} already has the value "
                f"{value!r} and cannot change to {wanted[key]!r}; params are "
                "immutable, log a new key instead."
            )


def validate_params(items: Sequence[Param]) -> None:
    for param in items:
        validate_param(param)
