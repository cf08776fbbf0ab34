"""Promotion rules in SQL: set, read, list and delete the rule guarding an
alias, and the store methods that call them.

A rule is parsed when it is set, so a stored rule always parses; it is
checked when the alias moves (:mod:`kiln.store.sql.promotion_checks`). Rules
follow a renamed model and go with a deleted one: the foreign key cascades.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from kiln.entities import PromotionRule
from kiln.errors import ResourceDoesNotExist
from kiln.search.rules import parse_rule
from kiln.store.sql.model_versions import check_registered_model, lock_registered_model
from kiln.store.sql.schema import promotion_rules
from kiln.store.sql.statements import now_ms
from kiln.validation import validate_alias, validate_user_id

__all__ = [
    "SqlPromotionRules",
    "delete_promotion_rule",
    "get_promotion_rule",
    "list_promotion_rules",
    "set_promotion_rule",
]

_COLUMNS = (
    promotion_rules.c.name,
    promotion_rules.c.alias,
    promotion_rules.c.rule,
    promotion_rules.c.creation_timestamp,
    promotion_rules.c.last_updated_timestamp,
    promotion_rules.c.user_id,
)
_ONE = select(*_COLUMNS).where(
    promotion_rules.c.name == bindparam("name"),
    promotion_rules.c.alias == bindparam("alias"),
)
_ALL = (
    select(*_COLUMNS)
    .where(promotion_rules.c.name == bindparam("name"))
    .order_by(promotion_rules.c.alias)
)


def set_promotion_rule(
    connection: Connection, name: str, alias: str, rule: str, user_id: str | None
) -> None:
    """Guard ``alias`` of ``name`` with ``rule``, replacing any rule it had.

    InvalidFilter when the rule does not parse, InvalidParameterValue for a
    malformed alias, ResourceDoesNotExist for an unknown model.
    """
    validate_alias(alias)
    parse_rule(rule)
    user_id = validate_user_id(user_id)
    lock_registered_model(connection, name)
    now = now_ms()
    # The model's row is locked, so no other writer sets this rule between
    # the update and the insert.
    values = {"rule": rule, "last_updated_timestamp": now, "user_id": user_id}
    replaced = connection.execute(
        update(promotion_rules)
        .where(promotion_rules.c.name == name, promotion_rules.c.alias == alias)
        .values(**values)
    ).rowcount
    if replaced:
        return
    connection.execute(
        insert(promotion_rules).values(
            name=name, alias=alias, creation_timestamp=now, **values
        )
    )


def get_promotion_rule(connection: Connection, name: str, alias: str) -> PromotionRule:
    """The rule guarding ``alias``; ResourceDoesNotExist when there is none."""
    validate_alias(alias)
    check_registered_model(connection, name)
    row = connection.execute(_ONE, {"name": name, "alias": alias}).first()
    if row is None:
        raise ResourceDoesNotExist(
            f"Alias {alias!r} of registered model {name!r} has no promotion rule."
        )
    return PromotionRule(*row)


def list_promotion_rules(connection: Connection, name: str) -> list[PromotionRule]:
    """Every rule of the model, by alias."""
    check_registered_model(connection, name)
    return [PromotionRule(*row) for row in connection.execute(_ALL, {"name": name})]


def delete_promotion_rule(connection: Connection, name: str, alias: str) -> None:
    """Remove the rule; removing a rule the alias lacks is no error, as
    removing an alias is not."""
    validate_alias(alias)
    lock_registered_model(connection, name)
    connection.execute(
        delete(promotion_rules).where(
            promotion_rules.c.name == name, promotion_rules.c.alias == alias
        )
    )


class _Transactions(Protocol):
    def _read(self) -> AbstractContextManager[Connection]: ...

    def _write(self) -> AbstractContextManager[Connection]: ...


class SqlPromotionRules:
    """The :class:`~kiln.store.base.PromotionRuleStore` methods of the SQL
    store, each one transaction."""

    def set_promotion_rule(
        self: _Transactions,
        name: str,
        alias: str,
        rule: str,
        *,
        user_id: str | None = None,
    ) -> PromotionRule:
        with self._write() as connection:
            set_promotion_rule(connection, name, alias, rule, user_id)
            return get_promotion_rule(connection, name, alias)

    def get_promotion_rule(self: _Transactions, name: str, alias: str) -> PromotionRule:
        with self._read() as connection:
            return get_promotion_rule(connection, name, alias)

    def delete_promotion_rule(self: _Transactions, name: str, alias: str) -> None:
        with self._write() as connection:
            delete_promotion_rule(connection, name, alias)

    def list_promotion_rules(self: _Transactions, name: str) -> list[PromotionRule]:
        with self._read() as connection:
            return list_promotion_rules(connection, name)
