"""Registered models in SQL: create, read, rename, describe, delete, tag
and search.

Every function takes an open connection; the caller owns the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import BindParameter

from kiln.entities import (
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from kiln.errors import ResourceAlreadyExists, ResourceDoesNotExist
from kiln.search.sql import select_registered_model_names
from kiln.store.sql.aliases import load_aliases
from kiln.store.sql.metrics import gc_paused
from kiln.store.sql.model_versions import lock_registered_model
from kiln.store.sql.schema import registered_model_tags, registered_models
from kiln.store.sql.statements import now_ms, upsert
from kiln.store.sql.version_reads import load_latest_versions
from kiln.validation import (
    validate_description,
    validate_key,
    validate_registered_model_name,
    validate_registry_tag,
)

_CHUNK = 500

# Reads are built once; see model_versions.
_NAMES: BindParameter[str] = bindparam("names", expanding=True)
_MODEL_TAGS = (
    select(
        registered_model_tags.c.name,
        registered_model_tags.c.key,
        registered_model_tags.c.value,
    )
    .where(registered_model_tags.c.name.in_(_NAMES))
    .order_by(registered_model_tags.c.key)
)
_MODELS = select(
    registered_models.c.name,
    registered_models.c.creation_timestamp,
    registered_models.c.last_updated_timestamp,
    registered_models.c.user_id,
    registered_models.c.description,
).where(registered_models.c.name.in_(_NAMES))


def _name_taken(name: str) -> ResourceAlreadyExists:
    return ResourceAlreadyExists(
        f"A registered model named {name!r} already exists; choose another name."
    )


def _exists(connection: Connection, name: str) -> bool:
    return (
        connection.execute(
            select(registered_models.c.name).where(registered_models.c.name == name)
        ).first()
        is not None
    )


def create_registered_model(
    connection: Connection,
    name: str,
    tags: Sequence[RegisteredModelTag],
    description: str | None,
) -> None:
    """Insert a model; ResourceAlreadyExists when the name is taken."""
    validate_registered_model_name(name)
    for tag in tags:
        validate_registry_tag(tag.key, tag.value, "registered model tag")
    validate_description(description)
    if _exists(connection, name):
        raise _name_taken(name)
    now = now_ms()
    try:
        connection.execute(
            insert(registered_models).values(
                name=name,
                creation_timestamp=now,
                last_updated_timestamp=now,
                description=description,
            )
        )
    except IntegrityError:
        # Another writer created it between our check and our insert.
        raise _name_taken(name) from None
    values = {tag.key: tag.value for tag in tags}
    if values:
        connection.execute(
            insert(registered_model_tags),
            [{"name": name, "key": k, "value": v} for k, v in values.items()],
        )


def get_registered_model(connection: Connection, name: str) -> RegisteredModel:
    validate_registered_model_name(name)
    loaded = load_registered_models(connection, [name])
    if not loaded:
        raise ResourceDoesNotExist(f"No registered model named {name!r} exists.")
    return loaded[0]


def rename_registered_model(connection: Connection, name: str, new_name: str) -> None:
    """Rename the model; its versions, tags and aliases follow."""
    validate_registered_model_name(new_name)
    lock_registered_model(connection, name)
    if new_name == name:
        return
    if _exists(connection, new_name):
        raise _name_taken(new_name)
    connection.execute(
        update(registered_models)
        .where(registered_models.c.name == name)
        .values(name=new_name, last_updated_timestamp=now_ms())
    )


def update_registered_model(
    connection: Connection, name: str, description: str | None
) -> None:
    validate_description(description)
    lock_registered_model(connection, name)
    connection.execute(
        update(registered_models)
        .where(registered_models.c.name == name)
        .values(description=description, last_updated_timestamp=now_ms())
    )


def delete_registered_model(connection: Connection, name: str) -> None:
    """Remove the model with all its versions, tags and aliases."""
    lock_registered_model(connection, name)
    connection.execute(
        delete(registered_models).where(registered_models.c.name == name)
    )


def set_registered_model_tag(
    connection: Connection, name: str, tag: RegisteredModelTag
) -> None:
    validate_registry_tag(tag.key, tag.value, "registered model tag")
    lock_registered_model(connection, name)
    connection.execute(
        upsert(
            connection.dialect.name, registered_model_tags, ("name", "key"), ("value",)
        ),
        [{"name": name, "key": tag.key, "value": tag.value}],
    )


def delete_registered_model_tag(connection: Connection, name: str, key: str) -> None:
    """Remove a tag; a key the model lacks is no error, as in MLflow."""
    validate_key(key, "registered model tag")
    lock_registered_model(connection, name)
    connection.execute(
        delete(registered_model_tags).where(
            registered_model_tags.c.name == name, registered_model_tags.c.key == key
        )
    )


def load_registered_models(
    connection: Connection, names: Sequence[str]
) -> list[RegisteredModel]:
    """These models with tags, aliases and latest version per stage, in the
    given order; unknown names are skipped."""
    loaded: dict[str, RegisteredModel] = {}
    with gc_paused():
        for start in range(0, len(names), _CHUNK):
            chunk = list(names[start : start + _CHUNK])
            loaded.update(_load_chunk(connection, chunk))
    return [loaded[name] for name in names if name in loaded]


def _load_chunk(connection: Connection, names: list[str]) -> dict[str, RegisteredModel]:
    tags: defaultdict[str, dict[str, str]] = defaultdict(dict)
    for name, key, value in connection.execute(_MODEL_TAGS, {"names": names}).all():
        tags[name][key] = value
    aliases = load_aliases(connection, names)
    latest = load_latest_versions(connection, names, aliases=aliases)
    result: dict[str, RegisteredModel] = {}
    rows = connection.execute(_MODELS, {"names": names}).all()
    for name, created, updated, user_id, description in rows:
        result[name] = RegisteredModel(
            name=name,
            creation_timestamp=created,
            last_updated_timestamp=updated,
            user_id=user_id,
            description=description,
            latest_versions=tuple(latest[name]),
            tags=tags[name],
            aliases=tuple(
                RegisteredModelAlias(alias, str(version))
                for alias, version in aliases[name]
            ),
        )
    return result


def search_registered_model_names(
    connection: Connection,
    filter_string: str | None,
    order_by: Sequence[str] | None,
    offset: int,
    limit: int,
) -> list[str]:
    """The names of one page of matching models, in order."""
    stmt = select_registered_model_names(filter_string, order_by, offset, limit)
    return [str(name) for name in connection.execute(stmt).scalars().all()]
