"""Experiments in SQL: create, read, rename, soft-delete, restore and tag.

Every function takes an open connection; the caller owns the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kiln.entities import Experiment, LifecycleStage, RunTag
from kiln.errors import (
    InvalidParameterValue,
    InvalidState,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from kiln.store.sql.schema import experiment_tags, experiments, runs
from kiln.store.sql.statements import insert_ignore, now_ms, upsert
from kiln.validation import (
    validate_artifact_location,
    validate_experiment_id,
    validate_experiment_name,
    validate_experiment_tag,
    validate_key,
)

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"

_CHUNK = 500


def resolve_artifact_root(root: str) -> str:
    """The root without a trailing slash; a plain local path made absolute."""
    if not urlparse(root).scheme:
        return str(Path(root).expanduser().resolve())
    return root.rstrip("/")


def ensure_default_experiment(connection: Connection, artifact_root: str) -> None:
    """Create experiment 0, ``Default``, unless it (or its name) exists."""
    now = now_ms()
    stmt = insert_ignore(connection.dialect.name, experiments).values(
        experiment_id=0,
        name=DEFAULT_EXPERIMENT_NAME,
        artifact_location=f"{artifact_root}/{DEFAULT_EXPERIMENT_ID}",
        lifecycle_stage=LifecycleStage.ACTIVE,
        creation_time=now,
        last_update_time=now,
    )
    connection.execute(stmt)


def create_experiment(
    connection: Connection,
    name: str,
    artifact_location: str | None,
    tags: Sequence[RunTag],
    artifact_root: str,
) -> str:
    """Insert an experiment and its tags; return its id."""
    validate_experiment_name(name)
    if artifact_location is not None:
        validate_artifact_location(artifact_location)
    for tag in tags:
        validate_experiment_tag(tag)
    if _find_id_by_name(connection, name) is not None:
        raise _name_taken(name)

    now = now_ms()
    try:
        new_id = connection.execute(
            insert(experiments)
            .values(
                name=name,
                artifact_location=artifact_location or "",
                lifecycle_stage=LifecycleStage.ACTIVE,
                creation_time=now,
                last_update_time=now,
            )
            .returning(experiments.c.experiment_id)
        ).scalar_one()
    except IntegrityError:
        # Another process took the name between the check and the insert.
        raise _name_taken(name) from None
    if artifact_location is None:
        connection.execute(
            update(experiments)
            .where(experiments.c.experiment_id == new_id)
            .values(artifact_location=f"{artifact_root}/{new_id}")
        )
    if tags:
        rows = {tag.key: tag.value for tag in tags}
        connection.execute(
            insert(experiment_tags),
            [{"experiment_id": new_id, "key": k, "value": v} for k, v in rows.items()],
        )
    return str(new_id)


def _name_taken(name: str) -> ResourceAlreadyExists:
    return ResourceAlreadyExists(
        f"An experiment named {name!r} already exists (it may be deleted); "
        "choose another name or restore it."
    )


def _find_id_by_name(connection: Connection, name: str) -> int | None:
    stmt = select(experiments.c.experiment_id).where(experiments.c.name == name)
    found: int | None = connection.execute(stmt).scalar()
    return found


def get_experiment(connection: Connection, experiment_id: str) -> Experiment:
    """The experiment, deleted or not; ResourceDoesNotExist if there is none."""
    validate_experiment_id(experiment_id)
    loaded = load_experiments(connection, [int(experiment_id)])
    if not loaded:
        raise ResourceDoesNotExist(f"No experiment with id {experiment_id!r} exists.")
    return loaded[0]


def get_experiment_by_name(connection: Connection, name: str) -> Experiment | None:
    """The experiment named ``name``, deleted or not, or None."""
    if not isinstance(name, str):
        raise InvalidParameterValue(
            f"Invalid experiment name {name!r}; expected a string."
        )
    found = _find_id_by_name(connection, name)
    if found is None:
        return None
    return load_experiments(connection, [found])[0]


def load_experiments(connection: Connection, ids: Sequence[int]) -> list[Experiment]:
    """The experiments with these ids, with their tags, in the order of ``ids``."""
    rows: dict[int, Any] = {}
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        for row in connection.execute(
            select(
                experiments.c.experiment_id,
                experiments.c.name,
                experiments.c.artifact_location,
                experiments.c.lifecycle_stage,
                experiments.c.creation_time,
                experiments.c.last_update_time,
            ).where(experiments.c.experiment_id.in_(chunk))
        ):
            rows[row[0]] = row
        for exp_id, key, value in connection.execute(
            select(
                experiment_tags.c.experiment_id,
                experiment_tags.c.key,
                experiment_tags.c.value,
            ).where(experiment_tags.c.experiment_id.in_(chunk))
        ):
            tags[exp_id][key] = value
    return [
        Experiment(
            experiment_id=str(row[0]),
            name=row[1],
            artifact_location=row[2],
            lifecycle_stage=row[3],
            creation_time=row[4],
            last_update_time=row[5],
            tags=dict(tags.get(row[0], {})),
        )
        for row in (rows.get(exp_id) for exp_id in ids)
        if row is not None
    ]


def experiment_stage(connection: Connection, experiment_id: str) -> str:
    """The lifecycle stage of an experiment; ResourceDoesNotExist if none."""
    validate_experiment_id(experiment_id)
    stage: str | None = connection.execute(
        select(experiments.c.lifecycle_stage).where(
            experiments.c.experiment_id == int(experiment_id)
        )
    ).scalar()
    if stage is None:
        raise ResourceDoesNotExist(f"No experiment with id {experiment_id!r} exists.")
    return stage


def check_experiment_active(connection: Connection, experiment_id: str) -> None:
    """Raise unless the experiment exists and is active."""
    raise_unless_experiment_active(
        experiment_id, experiment_stage(connection, experiment_id)
    )


def raise_unless_experiment_active(experiment_id: str, stage: str | None) -> None:
    """Raise for a missing (``stage`` None) or deleted experiment."""
    if stage is None:
        raise ResourceDoesNotExist(f"No experiment with id {experiment_id!r} exists.")
    if stage != LifecycleStage.ACTIVE:
        raise InvalidParameterValue(
            f"The experiment {experiment_id!r} must be in the 'active' state, "
            f"but it is {stage!r}; restore it first."
        )


def rename_experiment(
    connection: Connection, experiment_id: str, new_name: str
) -> None:
    validate_experiment_name(new_name)
    stage = experiment_stage(connection, experiment_id)
    if stage != LifecycleStage.ACTIVE:
        raise InvalidState(
            f"Cannot rename the experiment {experiment_id!r} because it is "
            f"{stage}; restore it first."
        )
    taken = _find_id_by_name(connection, new_name)
    if taken is not None and taken != int(experiment_id):
        raise _name_taken(new_name)
    try:
        connection.execute(
            update(experiments)
            .where(experiments.c.experiment_id == int(experiment_id))
            .values(name=new_name, last_update_time=now_ms())
        )
    except IntegrityError:
        raise _name_taken(new_name) from None


def delete_experiment(connection: Connection, experiment_id: str) -> None:
    """Soft-delete the experiment and its active runs, stamped with one time."""
    stage = experiment_stage(connection, experiment_id)
    if stage != LifecycleStage.ACTIVE:
        raise ResourceDoesNotExist(
            f"The experiment {experiment_id!r} is already deleted."
        )
    exp_id = int(experiment_id)
    # The shared timestamp lets restore_experiment bring back exactly these
    # runs, and not those deleted one by one before. It must therefore be
    # later than every earlier run deletion, even one in the same millisecond.
    last_run_deletion = connection.execute(
        select(func.max(runs.c.deleted_time)).where(runs.c.experiment_id == exp_id)
    ).scalar()
    now = max(now_ms(), (last_run_deletion or 0) + 1)
    connection.execute(
        update(experiments)
        .where(experiments.c.experiment_id == exp_id)
        .values(lifecycle_stage=LifecycleStage.DELETED, last_update_time=now)
    )
    connection.execute(
        update(runs)
        .where(
            runs.c.experiment_id == exp_id,
            runs.c.lifecycle_stage == LifecycleStage.ACTIVE,
        )
        .values(lifecycle_stage=LifecycleStage.DELETED, deleted_time=now)
    )


def restore_experiment(connection: Connection, experiment_id: str) -> None:
    """Restore a deleted experiment and the runs its deletion took down."""
    stage = experiment_stage(connection, experiment_id)
    if stage != LifecycleStage.DELETED:
        raise ResourceDoesNotExist(
            f"The experiment {experiment_id!r} is not deleted, so there is "
            "nothing to restore."
        )
    exp_id = int(experiment_id)
    deleted_at = connection.execute(
        select(experiments.c.last_update_time).where(
            experiments.c.experiment_id == exp_id
        )
    ).scalar()
    connection.execute(
        update(experiments)
        .where(experiments.c.experiment_id == exp_id)
        .values(lifecycle_stage=LifecycleStage.ACTIVE, last_update_time=now_ms())
    )
    connection.execute(
        update(runs)
        .where(
            runs.c.experiment_id == exp_id,
            runs.c.lifecycle_stage == LifecycleStage.DELETED,
            runs.c.deleted_time == deleted_at,
        )
        .values(lifecycle_stage=LifecycleStage.ACTIVE, deleted_time=None)
    )


def set_experiment_tag(connection: Connection, experiment_id: str, tag: RunTag) -> None:
    validate_experiment_tag(tag)
    check_experiment_active(connection, experiment_id)
    connection.execute(
        upsert(
            connection.dialect.name,
            experiment_tags,
            ("experiment_id", "key"),
            ("value",),
        ).values(experiment_id=int(experiment_id), key=tag.key, value=tag.value)
    )


def delete_experiment_tag(connection: Connection, experiment_id: str, key: str) -> None:
    validate_key(key, "experiment tag")
    check_experiment_active(connection, experiment_id)
    result = connection.execute(
        delete(experiment_tags).where(
            experiment_tags.c.experiment_id == int(experiment_id),
            experiment_tags.c.key == key,
        )
    )
    if result.rowcount == 0:
        raise ResourceDoesNotExist(
            f"The experiment {experiment_id!r} has no tag {key!r}."
        )
