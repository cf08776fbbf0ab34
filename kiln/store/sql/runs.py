"""Runs in SQL: create, update, soft-delete and restore; params and tags.

Every function takes an open connection; the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, delete, func, insert, select, update

from kiln.entities import LifecycleStage, Param, RunInfo, RunStatus, RunTag
from kiln.errors import InvalidParameterValue, ResourceDoesNotExist
from kiln.store.run_names import random_run_name
from kiln.store.sql.experiments import check_experiment_active, get_experiment
from kiln.store.sql.schema import params, runs, tags
from kiln.store.sql.statements import insert_ignore, now_ms, upsert
from kiln.validation import (
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


def create_run(
    connection: Connection,
    experiment_id: str,
    user_id: str,
    start_time: int | None,
    run_tags: Sequence[RunTag],
    run_name: str | None,
) -> RunInfo:
    """Insert a RUNNING run and its tags (``mlflow.runName`` among them)."""
    _validate_run_request(user_id, start_time, run_tags)
    name = _resolve_run_name(run_name, run_tags)
    validate_run_name(name)
    check_experiment_active(connection, experiment_id)
    experiment = get_experiment(connection, experiment_id)

    run_id = uuid.uuid4().hex
    info = RunInfo(
        run_id=run_id,
        experiment_id=experiment.experiment_id,
        run_name=name,
        user_id=user_id,
        status=RunStatus.RUNNING,
        start_time=now_ms() if start_time is None else start_time,
        end_time=None,
        artifact_uri=f"{experiment.artifact_location.rstrip('/')}/{run_id}/artifacts",
        lifecycle_stage=LifecycleStage.ACTIVE,
    )
    connection.execute(
        insert(runs).values(
            run_id=run_id,
            experiment_id=int(info.experiment_id),
            run_name=name,
            user_id=user_id,
            status=info.status,
            start_time=info.start_time,
            end_time=None,
            artifact_uri=info.artifact_uri,
            lifecycle_stage=info.lifecycle_stage,
            deleted_time=None,
        )
    )
    values = {tag.key: tag.value for tag in run_tags}
    values[RUN_NAME_TAG] = name
    connection.execute(
        insert(tags),
        [{"run_id": run_id, "key": k, "value": v} for k, v in values.items()],
    )
    return info


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
    validate_run_id(run_id)
    stage = connection.execute(
        select(runs.c.lifecycle_stage).where(runs.c.run_id == run_id)
    ).scalar()
    raise_unless_active(run_id, stage)


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


def _write_tags(connection: Connection, run_id: str, values: dict[str, str]) -> None:
    connection.execute(
        upsert(connection.dialect.name, tags, ("run_id", "key"), ("value",)),
        [{"run_id": run_id, "key": k, "value": v} for k, v in values.items()],
    )
    new_name = values.get(RUN_NAME_TAG)
    if new_name:
        validate_run_name(new_name)
        connection.execute(
            update(runs).where(runs.c.run_id == run_id).values(run_name=new_name)
        )


def delete_tag(connection: Connection, run_id: str, key: str) -> None:
    validate_key(key, "tag")
    check_run_active(connection, run_id)
    result = connection.execute(
        delete(tags).where(tags.c.run_id == run_id, tags.c.key == key)
    )
    if result.rowcount == 0:
        raise ResourceDoesNotExist(f"The run {run_id!r} has no tag {key!r}.")


def log_params(connection: Connection, run_id: str, items: Sequence[Param]) -> None:
    """Store params; a key already holding another value is refused.

    Inserting first and comparing afterwards, in the same transaction, leaves
    no gap in which another writer could slip a different value in.
    """
    if not items:
        return
    wanted = {param.key: param.value for param in items}
    connection.execute(
        insert_ignore(connection.dialect.name, params),
        [{"run_id": run_id, "key": k, "value": v} for k, v in wanted.items()],
    )
    keys = list(wanted)
    stored = connection.execute(
        select(params.c.key, params.c.value).where(
            params.c.run_id == run_id, params.c.key.in_(keys)
        )
    )
    for key, value in stored:
        if value != wanted[key]:
            raise InvalidParameterValue(
                f"The param {key!r} of run {run_id!r} already has the value "
                f"{value!r} and cannot change to {wanted[key]!r}; params are "
                "immutable, log a new key instead."
            )


def validate_params(items: Sequence[Param]) -> None:
    for param in items:
        validate_param(param)
