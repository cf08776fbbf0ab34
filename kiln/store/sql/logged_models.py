"""Logged models in SQL: create, read, finalize, soft-delete, tags, params
and the metrics logged with a model's id.

Every function takes an open connection; the caller owns the transaction.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection, Table, delete, insert, select, update

from kiln.entities import (
    LifecycleStage,
    LoggedModel,
    LoggedModelDataset,
    LoggedModelOrderBy,
    LoggedModelParam,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
    Param,
    RunTag,
)
from kiln.errors import InvalidParameterValue, ResourceDoesNotExist
from kiln.search.sql.logged_models import select_logged_model_ids
from kiln.store.run_names import random_run_name
from kiln.store.sql.experiments import check_experiment_active, get_experiment
from kiln.store.sql.schema import (
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
)
from kiln.store.sql.statements import insert_ignore, now_ms, upsert
from kiln.validation import (
    validate_experiment_id,
    validate_key,
    validate_logged_model_name,
    validate_param,
    validate_run_id,
    validate_tag,
)

MODEL_ID_PREFIX = "m-"
MAX_MODEL_TYPE_LENGTH = 500

_CHUNK = 500


def create_logged_model(
    connection: Connection,
    experiment_id: str,
    name: str | None,
    source_run_id: str | None,
    tags: Sequence[LoggedModelTag],
    params: Sequence[LoggedModelParam],
    model_type: str | None,
) -> str:
    """Insert a PENDING model in an active experiment; return its id."""
    validate_experiment_id(experiment_id)
    if name is not None:
        validate_logged_model_name(name)
    if source_run_id is not None:
        validate_run_id(source_run_id)
    if model_type is not None and len(model_type) > MAX_MODEL_TYPE_LENGTH:
        raise InvalidParameterValue(
            f"The model type {model_type[:40]!r}... is {len(model_type)} characters "
            f"long; the limit is {MAX_MODEL_TYPE_LENGTH}."
        )
    tag_values = _validated_tags(tags)
    param_values = _validated_params(params)
    check_experiment_active(connection, experiment_id)
    location = get_experiment(connection, experiment_id).artifact_location

    model_id = MODEL_ID_PREFIX + uuid.uuid4().hex
    now = now_ms()
    connection.execute(
        insert(logged_models).values(
            model_id=model_id,
            experiment_id=int(experiment_id),
            name=name or random_run_name(),
            artifact_location=f"{location.rstrip('/')}/models/{model_id}/artifacts",
            creation_timestamp=now,
            last_updated_timestamp=now,
            status=LoggedModelStatus.PENDING,
            model_type=model_type,
            source_run_id=source_run_id,
            lifecycle_stage=LifecycleStage.ACTIVE,
        )
    )
    _insert_key_values(connection, logged_model_tags, model_id, tag_values)
    _insert_key_values(connection, logged_model_params, model_id, param_values)
    return model_id


def _validated_tags(tags: Sequence[LoggedModelTag]) -> dict[str, str]:
    for tag in tags:
        validate_tag(RunTag(tag.key, tag.value))
    return {tag.key: tag.value for tag in tags}


def _validated_params(params: Sequence[LoggedModelParam]) -> dict[str, str]:
    values: dict[str, str] = {}
    for param in params:
        validate_param(Param(param.key, param.value))
        if values.get(param.key, param.value) != param.value:
            raise InvalidParameterValue(
                f"The request sets param {param.key!r} twice, to "
                f"{values[param.key]!r} and {param.value!r}; a param takes one value."
            )
        values[param.key] = param.value
    return values


def _insert_key_values(
    connection: Connection, table: Table, model_id: str, values: dict[str, str]
) -> None:
    if values:
        connection.execute(
            insert(table),
            [{"model_id": model_id, "key": k, "value": v} for k, v in values.items()],
        )


def _stage(connection: Connection, model_id: str) -> str:
    """The model's lifecycle stage; ResourceDoesNotExist when there is none."""
    _check_model_id(model_id)
    stage = connection.execute(
        select(logged_models.c.lifecycle_stage).where(
            logged_models.c.model_id == model_id
        )
    ).scalar()
    if stage is None:
        raise ResourceDoesNotExist(f"No logged model with id {model_id!r} exists.")
    return str(stage)


def _check_model_id(model_id: object) -> None:
    if not isinstance(model_id, str) or not 0 < len(model_id) <= 64:
        raise InvalidParameterValue(
            f"Invalid logged model id {model_id!r}; expected a string such as "
            "'m-' followed by 32 hex digits."
        )


def get_logged_model(
    connection: Connection, model_id: str, allow_deleted: bool = False
) -> LoggedModel:
    """The model; a deleted one only when ``allow_deleted``."""
    stage = _stage(connection, model_id)
    if stage == LifecycleStage.DELETED and not allow_deleted:
        raise ResourceDoesNotExist(f"The logged model {model_id!r} is deleted.")
    return load_logged_models(connection, [model_id])[0]


def finalize_logged_model(connection: Connection, model_id: str, status: str) -> None:
    """Set the model's upload status (READY or UPLOAD_FAILED, or back to PENDING)."""
    if status not in LoggedModelStatus.ALL:
        raise InvalidParameterValue(
            f"Invalid logged model status {status!r}; expected one of "
            f"{', '.join(LoggedModelStatus.ALL)}."
        )
    _touch(connection, model_id, status=status)


def delete_logged_model(connection: Connection, model_id: str) -> None:
    """Soft-delete the model: searches and reads no longer find it."""
    _touch(connection, model_id, lifecycle_stage=LifecycleStage.DELETED)


def _touch(connection: Connection, model_id: str, **values: str) -> None:
    _stage(connection, model_id)
    connection.execute(
        update(logged_models)
        .where(logged_models.c.model_id == model_id)
        .values(last_updated_timestamp=now_ms(), **values)
    )


def set_logged_model_tags(
    connection: Connection, model_id: str, tags: Sequence[LoggedModelTag]
) -> None:
    """Set (or overwrite) tags; a key repeated in ``tags`` keeps its last value."""
    values = _validated_tags(tags)
    _stage(connection, model_id)
    if values:
        connection.execute(
            upsert(
                connection.dialect.name,
                logged_model_tags,
                ("model_id", "key"),
                ("value",),
            ),
            [{"model_id": model_id, "key": k, "value": v} for k, v in values.items()],
        )


def delete_logged_model_tag(connection: Connection, model_id: str, key: str) -> None:
    """Remove a tag; ResourceDoesNotExist when the model lacks it."""
    validate_key(key, "tag")
    _stage(connection, model_id)
    removed = connection.execute(
        delete(logged_model_tags).where(
            logged_model_tags.c.model_id == model_id, logged_model_tags.c.key == key
        )
    )
    if not removed.rowcount:
        raise ResourceDoesNotExist(f"The logged model {model_id!r} has no tag {key!r}.")


def log_logged_model_params(
    connection: Connection, model_id: str, params: Sequence[LoggedModelParam]
) -> None:
    """Add params; logging one again with its value changes nothing, with
    another value is refused, as for runs."""
    values = _validated_params(params)
    _stage(connection, model_id)
    if not values:
        return
    existing: dict[str, str] = {
        key: value
        for key, value in connection.execute(
            select(logged_model_params.c.key, logged_model_params.c.value).where(
                logged_model_params.c.model_id == model_id,
                logged_model_params.c.key.in_(list(values)),
            )
        )
    }
    for key, value in values.items():
        if existing.get(key, value) != value:
            raise InvalidParameterValue(
                f"Changing param values is not allowed: param {key!r} of logged "
                f"model {model_id!r} is {existing[key]!r}, not {value!r}."
            )
    connection.execute(
        insert_ignore(connection.dialect.name, logged_model_params),
        [{"model_id": model_id, "key": k, "value": v} for k, v in values.items()],
    )


def load_logged_models(
    connection: Connection, model_ids: Sequence[str]
) -> list[LoggedModel]:
    """These models with their tags, params and metrics, in the given order;
    unknown ids are skipped."""
    loaded: dict[str, LoggedModel] = {}
    for start in range(0, len(model_ids), _CHUNK):
        loaded.update(_load_chunk(connection, list(model_ids[start : start + _CHUNK])))
    return [loaded[model_id] for model_id in model_ids if model_id in loaded]


def _load_chunk(connection: Connection, ids: list[str]) -> dict[str, LoggedModel]:
    tags = _key_values(connection, logged_model_tags, ids)
    params = _key_values(connection, logged_model_params, ids)
    points = _metrics(connection, ids)
    result: dict[str, LoggedModel] = {}
    for row in connection.execute(
        select(logged_models).where(logged_models.c.model_id.in_(ids))
    ):
        result[row.model_id] = LoggedModel(
            model_id=row.model_id,
            experiment_id=str(row.experiment_id),
            name=row.name,
            artifact_location=row.artifact_location,
            creation_timestamp=row.creation_timestamp,
            last_updated_timestamp=row.last_updated_timestamp,
            status=row.status,
            status_message=row.status_message,
            creator_id=row.creator_id,
            model_type=row.model_type,
            source_run_id=row.source_run_id,
            lifecycle_stage=row.lifecycle_stage,
            tags=tags[row.model_id],
            params=params[row.model_id],
            metrics=tuple(points[row.model_id]),
        )
    return result


def _key_values(
    connection: Connection, source: Table, ids: list[str]
) -> defaultdict[str, dict[str, str]]:
    found: defaultdict[str, dict[str, str]] = defaultdict(dict)
    for model_id, key, value in connection.execute(
        select(source.c.model_id, source.c.key, source.c.value)
        .where(source.c.model_id.in_(ids))
        .order_by(source.c.key)
    ):
        found[model_id][key] = value
    return found


def _metrics(connection: Connection, ids: list[str]) -> defaultdict[str, list[Metric]]:
    found: defaultdict[str, list[Metric]] = defaultdict(list)
    table = logged_model_metrics
    for row in connection.execute(
        select(table)
        .where(table.c.model_id.in_(ids))
        .order_by(table.c.key, table.c.step, table.c.timestamp, table.c.run_id)
    ):
        found[row.model_id].append(
            Metric(
                key=row.key,
                value=math.nan if row.is_nan else row.value,
                timestamp=row.timestamp,
                step=row.step,
                run_id=row.run_id,
                model_id=row.model_id,
                dataset_name=row.dataset_name,
                dataset_digest=row.dataset_digest,
            )
        )
    return found


def link_metrics(connection: Connection, run_id: str, points: Sequence[Metric]) -> None:
    """Record the points that name a model as that model's metrics.

    The run's own copy lives in ``metrics``; a point sent again is kept once.
    """
    rows = [
        {
            "model_id": point.model_id,
            "run_id": run_id,
            "key": point.key,
            "step": point.step,
            "timestamp": point.timestamp,
            # NaN is stored as 0 with is_nan set, as in ``metrics``.
            "value": 0.0 if math.isnan(point.value) else float(point.value),
            "is_nan": math.isnan(point.value),
            "dataset_name": point.dataset_name,
            "dataset_digest": point.dataset_digest,
        }
        for point in points
        if point.model_id is not None
    ]
    if rows:
        connection.execute(
            insert_ignore(connection.dialect.name, logged_model_metrics), rows
        )


def search_logged_model_ids(
    connection: Connection,
    experiment_ids: Sequence[str],
    filter_string: str | None,
    datasets: Sequence[LoggedModelDataset],
    order_by: Sequence[LoggedModelOrderBy],
    offset: int,
    limit: int,
) -> list[str]:
    """The ids of one page of matching active models, in order."""
    ids = [int(validate_experiment_id(exp_id)) for exp_id in experiment_ids]
    for dataset in datasets:
        if not dataset.dataset_name:
            raise InvalidParameterValue(
                f"Invalid dataset {dataset!r} in a logged-model search; every "
                "dataset needs a dataset_name."
            )
    stmt = select_logged_model_ids(
        ids, filter_string, datasets, order_by, offset, limit
    )
    return [str(found) for found in connection.execute(stmt).scalars()]
