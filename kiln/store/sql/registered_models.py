"""Registered models in SQL: create, read, rename, describe, delete, tag
and search.

Every function takes an open connection; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from kiln.entities import RegisteredModel, RegisteredModelTag
from kiln.errors import ResourceAlreadyExists, ResourceDoesNotExist
from kiln.search.sql import select_registered_model_names
from kiln.store.sql.model_versions import lock_registered_model
from kiln.store.sql.registry_reads import load_registered_models
from kiln.store.sql.schema import registered_model_tags, registered_models
from kiln.store.sql.statements import now_ms, upsert
from kiln.validation import (
    validate_description,
    validate_key,
    validate_registered_model_name,
    validate_registry_tag,
    validate_user_id,
)

_CHUNK = 500


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
    user_id: str | None,
) -> None:
    """Insert a model made by ``user_id``; ResourceAlreadyExists when the name
    is taken."""
    validate_registered_model_name(name)
    for tag in tags:
        validate_registry_tag(tag.key, tag.value, "registered model tag")
    validate_description(description)
    validate_user_id(user_id)
    if _exists(connection, name):
        raise _name_taken(name)
    now = now_ms()
    try:
        connection.execute(
            insert(registered_models).values(
                name=name,
                creation_timestamp=now,
                last_updated_timestamp=now,
                user_id=user_id,
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
    """Rename the model; its versions, tags, aliases and history follow."""
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
    """Remove the model with all its versions, tags, aliases and history."""
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
