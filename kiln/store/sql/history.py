"""The registry's history in SQL: record alias moves and stage changes, read
a model's history back, and find the version an alias rolls back to.

An entry is written in the transaction of the change it records, so the two
land or fail together. Entries follow a renamed model and go with a deleted
one (the foreign key cascades), but keep the numbers of versions deleted
since: the history says what happened, even to a version that is gone.

Every function takes an open connection; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Select, exists, insert, select

from kiln.entities import RegistryHistoryEntry, RegistryHistoryKind
from kiln.store.sql.schema import model_versions, registry_history
from kiln.store.sql.statements import now_ms
from kiln.validation import validate_reason, validate_user_id

__all__ = [
    "Attribution",
    "list_history",
    "record_alias_move",
    "record_stage_changes",
    "rollback_target",
]

_INSERT = insert(registry_history)
_COLUMNS = (
    registry_history.c.id,
    registry_history.c.name,
    registry_history.c.kind,
    registry_history.c.timestamp,
    registry_history.c.alias,
    registry_history.c.version,
    registry_history.c.previous_version,
    registry_history.c.stage,
    registry_history.c.previous_stage,
    registry_history.c.user_id,
    registry_history.c.reason,
)


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who made a registry change and why; either may be unknown (None)."""

    user_id: str | None = None
    reason: str | None = None

    @classmethod
    def checked(cls, user_id: object, reason: object) -> Attribution:
        """An attribution of values checked for type and length."""
        return cls(validate_user_id(user_id), validate_reason(reason))


def record_alias_move(
    connection: Connection,
    name: str,
    alias: str,
    previous: int | None,
    version: int | None,
    attribution: Attribution,
) -> None:
    """Record that ``alias`` went from ``previous`` to ``version`` (None: none)."""
    connection.execute(
        _INSERT,
        [
            {
                "name": name,
                "kind": RegistryHistoryKind.ALIAS,
                "alias": alias,
                "version": version,
                "previous_version": previous,
                "timestamp": now_ms(),
                "user_id": attribution.user_id,
                "reason": attribution.reason,
            }
        ],
    )


def record_stage_changes(
    connection: Connection,
    name: str,
    changes: Sequence[tuple[int, str, str]],
    attribution: Attribution,
    timestamp: int,
) -> None:
    """Record ``(version, previous_stage, stage)`` changes, in that order."""
    if not changes:
        return
    connection.execute(
        _INSERT,
        [
            {
                "name": name,
                "kind": RegistryHistoryKind.STAGE,
                "version": version,
                "previous_stage": previous,
                "stage": stage,
                "timestamp": timestamp,
                "user_id": attribution.user_id,
                "reason": attribution.reason,
            }
            for version, previous, stage in changes
        ],
    )


def list_history(
    connection: Connection,
    name: str,
    kind: str | None,
    alias: str | None,
    below_id: int | None,
    limit: int,
) -> list[RegistryHistoryEntry]:
    """Up to ``limit`` entries of ``name``, newest first, with ids below
    ``below_id`` when given; only ``kind`` entries, or one alias's."""
    table = registry_history
    query = select(*_COLUMNS).where(table.c.name == name)
    if kind is not None:
        query = query.where(table.c.kind == kind)
    if alias is not None:
        query = query.where(table.c.alias == alias)
    if below_id is not None:
        query = query.where(table.c.id < below_id)
    rows = connection.execute(query.order_by(table.c.id.desc()).limit(limit))
    return [_entry(*row) for row in rows]


def _entry(
    entry_id: int,
    name: str,
    kind: str,
    timestamp: int,
    alias: str | None,
    version: int | None,
    previous_version: int | None,
    stage: str | None,
    previous_stage: str | None,
    user_id: str | None,
    reason: str | None,
) -> RegistryHistoryEntry:
    return RegistryHistoryEntry(
        id=entry_id,
        name=name,
        kind=kind,
        timestamp=timestamp,
        alias=alias,
        version=None if version is None else str(version),
        previous_version=None if previous_version is None else str(previous_version),
        stage=stage,
        previous_stage=previous_stage,
        user_id=user_id,
        reason=reason,
    )


def rollback_target(
    connection: Connection, name: str, alias: str, current: int | None
) -> int | None:
    """The version ``alias`` held before ``current``, or None if there is none.

    That is the ``previous_version`` of the newest move of the alias that
    names a version other than ``current`` which still exists; moves from
    deleted versions are passed over. So rolling back twice returns to where
    the first roll back started, as an undo of the undo.
    """
    found: int | None = connection.execute(
        _rollback_query(name, alias, current)
    ).scalar()
    return found


def _rollback_query(name: str, alias: str, current: int | None) -> Select[int]:
    table = registry_history
    still_there = exists().where(
        model_versions.c.name == table.c.name,
        model_versions.c.version == table.c.previous_version,
    )
    query = select(table.c.previous_version).where(
        table.c.name == name,
        table.c.kind == RegistryHistoryKind.ALIAS,
        table.c.alias == alias,
        table.c.previous_version.is_not(None),
        still_there,
    )
    if current is not None:
        query = query.where(table.c.previous_version != current)
    return query.order_by(table.c.id.desc()).limit(1)
