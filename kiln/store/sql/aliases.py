"""Aliases of registered models in SQL: point, move, remove, roll back and
resolve.

Every change of an alias goes through :func:`_move_alias`, the one place
where a move is decided: it holds the move to the alias's promotion rule and
records it in the registry's history.

Every function takes an open connection; the caller owns the transaction.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from kiln.errors import InvalidParameterValue, ResourceDoesNotExist
from kiln.store.sql.history import Attribution, record_alias_move, rollback_target
from kiln.store.sql.promotion_checks import check_promotion_rule
from kiln.store.sql.schema import model_versions, registered_model_aliases
from kiln.validation import validate_alias, validate_model_version

# Reads are built once; see model_versions.
_ALIAS_VERSION = select(registered_model_aliases.c.version).where(
    registered_model_aliases.c.name == bindparam("name"),
    registered_model_aliases.c.alias == bindparam("alias"),
)


def set_alias(
    connection: Connection,
    name: str,
    alias: str,
    version: str,
    attribution: Attribution,
) -> None:
    """Point ``alias`` at ``version``, moving it if it points elsewhere.

    The caller has checked the model exists; an unknown version is
    ResourceDoesNotExist, a reserved or malformed alias InvalidParameterValue.
    """
    validate_alias(alias)
    number = validate_model_version(version)
    exists = connection.execute(
        select(model_versions.c.version).where(
            model_versions.c.name == name, model_versions.c.version == number
        )
    ).scalar()
    if exists is None:
        raise ResourceDoesNotExist(
            f"Registered model {name!r} has no version {version!r} for alias "
            f"{alias!r} to point at."
        )
    _move_alias(connection, name, alias, number, attribution)


def delete_alias(
    connection: Connection, name: str, alias: str, attribution: Attribution
) -> None:
    """Remove ``alias``; removing an alias the model lacks succeeds, as in MLflow."""
    validate_alias(alias)
    _move_alias(connection, name, alias, None, attribution)


def rollback_alias(
    connection: Connection, name: str, alias: str, attribution: Attribution
) -> int:
    """Point ``alias`` back at the version it held before its current one and
    return that version (see :func:`~kiln.store.sql.history.rollback_target`).

    InvalidParameterValue when the history names no such version that still
    exists.
    """
    validate_alias(alias)
    current = alias_version(connection, name, alias)
    target = rollback_target(connection, name, alias, current)
    if target is None:
        held = "no version" if current is None else f"version {current}"
        raise InvalidParameterValue(
            f"Alias {alias!r} of registered model {name!r} has no earlier version "
            f"to roll back to (it holds {held}); set it with set-alias instead."
        )
    _move_alias(connection, name, alias, target, attribution)
    return target


def _move_alias(
    connection: Connection,
    name: str,
    alias: str,
    version: int | None,
    attribution: Attribution,
) -> None:
    """Make ``alias`` of ``name`` point at ``version`` (None removes it)."""
    previous = alias_version(connection, name, alias)
    if previous == version:
        return
    if version is not None:
        # Setting, moving and rolling back an alias all pass here; removing
        # it is never guarded.
        check_promotion_rule(connection, name, alias, previous, version)
    record_alias_move(connection, name, alias, previous, version, attribution)
    table = registered_model_aliases
    where = (table.c.name == name, table.c.alias == alias)
    if version is None:
        connection.execute(delete(table).where(*where))
    elif previous is None:
        connection.execute(
            insert(table).values(name=name, alias=alias, version=version)
        )
    else:
        connection.execute(update(table).where(*where).values(version=version))


def alias_version(connection: Connection, name: str, alias: str) -> int | None:
    """The version ``alias`` points at, or None."""
    found: int | None = connection.execute(
        _ALIAS_VERSION, {"name": name, "alias": alias}
    ).scalar()
    return found


def resolve_alias(connection: Connection, name: str, alias: str) -> int:
    """The version ``alias`` names; ``latest`` (any case) is the highest.

    An unknown alias is InvalidParameterValue (HTTP 400), as MLflow answers.
    """
    if isinstance(alias, str) and alias.lower() == "latest":
        highest: int | None = connection.execute(
            select(func.max(model_versions.c.version)).where(
                model_versions.c.name == name
            )
        ).scalar()
        if highest is None:
            raise ResourceDoesNotExist(f"Registered model {name!r} has no versions.")
        return highest
    validate_alias(alias)
    version = alias_version(connection, name, alias)
    if version is None:
        raise InvalidParameterValue(
            f"Registered model {name!r} has no alias {alias!r}; set it first or "
            "use one of its aliases."
        )
    return version
