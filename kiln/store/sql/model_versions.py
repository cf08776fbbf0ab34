"""Model versions in SQL: create, read, describe, delete, tag, move between
stages and find the latest per stage.

Every function takes an open connection; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from kiln.entities import (
    ModelVersion,
    ModelVersionStage,
    ModelVersionStatus,
    ModelVersionTag,
)
from kiln.errors import InvalidParameterValue, KilnError, ResourceDoesNotExist
from kiln.search.sql import select_model_version_keys
from kiln.store.sql.history import (
    Attribution,
    record_alias_move,
    record_stage_changes,
)
from kiln.store.sql.registry_reads import (
    VersionKey,
    load_latest_versions,
    load_model_versions,
)
from kiln.store.sql.schema import (
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_models,
)
from kiln.store.sql.sources import storage_location
from kiln.store.sql.statements import now_ms, upsert
from kiln.validation import (
    validate_description,
    validate_key,
    validate_model_version,
    validate_registered_model_name,
    validate_registry_tag,
    validate_user_id,
)

# Look-ups by key are built once: building a statement costs several times
# more than running it.
_MODEL_EXISTS = select(registered_models.c.name).where(
    registered_models.c.name == bindparam("name")
)
_VERSION_EXISTS = select(model_versions.c.version).where(
    model_versions.c.name == bindparam("name"),
    model_versions.c.version == bindparam("number"),
)


def lock_registered_model(connection: Connection, name: str) -> None:
    """Check the model exists and hold its row until the transaction ends,
    so two writers never pick the same next version number."""
    _check_registered_model(connection, name, lock=True)


def check_registered_model(connection: Connection, name: str) -> None:
    """Check the model exists, without locking it (for reads)."""
    _check_registered_model(connection, name, lock=False)


def _check_registered_model(connection: Connection, name: str, lock: bool) -> None:
    validate_registered_model_name(name)
    query = _MODEL_EXISTS.with_for_update() if lock else _MODEL_EXISTS
    if connection.execute(query, {"name": name}).scalar() is None:
        raise ResourceDoesNotExist(f"No registered model named {name!r} exists.")


def touch_registered_model(connection: Connection, name: str, now: int) -> None:
    connection.execute(
        update(registered_models)
        .where(registered_models.c.name == name)
        .values(last_updated_timestamp=now)
    )


def create_model_version(
    connection: Connection,
    name: str,
    source: str,
    run_id: str | None,
    tags: Sequence[ModelVersionTag],
    run_link: str | None,
    description: str | None,
    model_id: str | None,
    user_id: str | None,
) -> int:
    """Add the next version of ``name`` (highest + 1), READY, made by
    ``user_id``; return its number."""
    for tag in tags:
        validate_registry_tag(tag.key, tag.value, "model version tag")
    validate_description(description)
    validate_user_id(user_id)
    lock_registered_model(connection, name)
    location = storage_location(connection, source, run_id, model_id)
    highest = connection.execute(
        select(func.max(model_versions.c.version)).where(model_versions.c.name == name)
    ).scalar()
    version = (highest or 0) + 1
    now = now_ms()
    connection.execute(
        insert(model_versions).values(
            name=name,
            version=version,
            creation_timestamp=now,
            last_updated_timestamp=now,
            user_id=user_id,
            current_stage=ModelVersionStage.NONE,
            description=description,
            source=source,
            run_id=run_id or None,
            run_link=run_link or None,
            status=ModelVersionStatus.READY,
            model_id=model_id or None,
            storage_location=location,
        )
    )
    values = {tag.key: tag.value for tag in tags}
    if values:
        connection.execute(
            insert(model_version_tags),
            [
                {"name": name, "version": version, "key": k, "value": v}
                for k, v in values.items()
            ],
        )
    touch_registered_model(connection, name, now)
    return version


def _check_version(connection: Connection, name: str, version: str) -> int:
    validate_registered_model_name(name)
    number = validate_model_version(version)
    found = connection.execute(
        _VERSION_EXISTS, {"name": name, "number": number}
    ).scalar()
    if found is None:
        raise ResourceDoesNotExist(
            f"Registered model {name!r} has no version {version!r}."
        )
    return number


def get_model_version(connection: Connection, name: str, version: str) -> ModelVersion:
    number = _check_version(connection, name, version)
    return load_model_versions(connection, [(name, number)])[0]


def get_download_uri(connection: Connection, name: str, version: str) -> str:
    """Where the version's files are: its source resolved at creation."""
    number = _check_version(connection, name, version)
    location, source = connection.execute(
        select(model_versions.c.storage_location, model_versions.c.source).where(
            model_versions.c.name == name, model_versions.c.version == number
        )
    ).one()
    return str(location or source)


def update_model_version(
    connection: Connection, name: str, version: str, description: str | None
) -> None:
    validate_description(description)
    number = _check_version(connection, name, version)
    _touch(connection, name, number, description=description)


def _touch(connection: Connection, name: str, number: int, **values: object) -> None:
    connection.execute(
        update(model_versions)
        .where(model_versions.c.name == name, model_versions.c.version == number)
        .values(last_updated_timestamp=now_ms(), **values)
    )


def delete_model_version(
    connection: Connection, name: str, version: str, attribution: Attribution
) -> None:
    """Remove the version with its tags and the aliases pointing at it; the
    history records each of those aliases as removed."""
    number = _check_version(connection, name, version)
    aliases = registered_model_aliases
    held = connection.execute(
        select(aliases.c.alias).where(
            aliases.c.name == name, aliases.c.version == number
        )
    ).scalars()
    for alias in held.all():
        record_alias_move(connection, name, alias, number, None, attribution)
    connection.execute(
        delete(model_versions).where(
            model_versions.c.name == name, model_versions.c.version == number
        )
    )
    touch_registered_model(connection, name, now_ms())


def set_model_version_tag(
    connection: Connection, name: str, version: str, tag: ModelVersionTag
) -> None:
    validate_registry_tag(tag.key, tag.value, "model version tag")
    number = _check_version(connection, name, version)
    connection.execute(
        upsert(
            connection.dialect.name,
            model_version_tags,
            ("name", "version", "key"),
            ("value",),
        ),
        [{"name": name, "version": number, "key": tag.key, "value": tag.value}],
    )


def delete_model_version_tag(
    connection: Connection, name: str, version: str, key: str
) -> None:
    """Remove a tag; a key the version lacks is no error, as in MLflow."""
    validate_key(key, "model version tag")
    number = _check_version(connection, name, version)
    connection.execute(
        delete(model_version_tags).where(
            model_version_tags.c.name == name,
            model_version_tags.c.version == number,
            model_version_tags.c.key == key,
        )
    )


def canonical_stage(stage: object) -> str:
    """The stage's canonical spelling; InvalidParameterValue when unknown."""
    found = ModelVersionStage.canonical(stage) if isinstance(stage, str) else None
    if found is None:
        raise InvalidParameterValue(
            f"Invalid model version stage {stage!r}; expected one of "
            f"{', '.join(ModelVersionStage.ALL)}."
        )
    return found


def transition_stage(
    connection: Connection,
    name: str,
    version: str,
    stage: str,
    archive_existing_versions: bool,
    attribution: Attribution,
) -> None:
    """Move the version to ``stage``; with ``archive_existing_versions`` the
    other versions in that stage move to Archived. The history records every
    version whose stage changed, the archived ones first.

    Archiving is only defined for Staging and Production; asking for it with
    another stage fails as MLflow's server does, with INTERNAL_ERROR.
    """
    target = canonical_stage(stage)
    if archive_existing_versions and target not in ModelVersionStage.ARCHIVING:
        raise KilnError(
            f"Model version transition cannot archive existing model versions "
            f"because {target!r} is not Staging or Production; pass "
            "archive_existing_versions=false."
        )
    # Holding the model's row keeps the stages read here unchanged until the
    # changes and their history are written, as for alias moves.
    lock_registered_model(connection, name)
    number = _check_version(connection, name, version)
    now = now_ms()
    changes: list[tuple[int, str, str]] = []
    if archive_existing_versions:
        changes += _archive_stage(connection, name, target, number, now)
    previous = _stage_of(connection, name, number)
    connection.execute(
        update(model_versions)
        .where(model_versions.c.name == name, model_versions.c.version == number)
        .values(current_stage=target, last_updated_timestamp=now)
    )
    if previous != target:
        changes.append((number, previous, target))
    record_stage_changes(connection, name, changes, attribution, now)
    touch_registered_model(connection, name, now)


def _stage_of(connection: Connection, name: str, number: int) -> str:
    stage: str = connection.execute(
        select(model_versions.c.current_stage).where(
            model_versions.c.name == name, model_versions.c.version == number
        )
    ).scalar_one()
    return stage


def _archive_stage(
    connection: Connection, name: str, stage: str, keep: int, now: int
) -> list[tuple[int, str, str]]:
    """Archive every version in ``stage`` but ``keep``; return the changes."""
    in_stage = (
        model_versions.c.name == name,
        model_versions.c.current_stage == stage,
        model_versions.c.version != keep,
    )
    numbers = (
        connection.execute(
            select(model_versions.c.version)
            .where(*in_stage)
            .order_by(model_versions.c.version)
        )
        .scalars()
        .all()
    )
    if not numbers:
        return []
    connection.execute(
        update(model_versions)
        .where(*in_stage)
        .values(current_stage=ModelVersionStage.ARCHIVED, last_updated_timestamp=now)
    )
    return [(number, stage, ModelVersionStage.ARCHIVED) for number in numbers]


def get_latest_versions(
    connection: Connection, name: str, stages: Sequence[str]
) -> list[ModelVersion]:
    """The highest version of ``name`` in each of ``stages`` (all when empty)."""
    wanted = [canonical_stage(stage) for stage in stages]
    check_registered_model(connection, name)
    return load_latest_versions(connection, [name], wanted)[name]


def search_model_version_keys(
    connection: Connection,
    filter_string: str | None,
    order_by: Sequence[str] | None,
    offset: int,
    limit: int,
) -> list[VersionKey]:
    """The ``(name, version)`` of one page of matching versions, in order."""
    stmt = select_model_version_keys(filter_string, order_by, offset, limit)
    return [(name, version) for name, version in connection.execute(stmt).all()]
