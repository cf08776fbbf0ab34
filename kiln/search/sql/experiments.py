"""Compile an experiment search to one SQL query that returns experiment ids.

Filters name ``name``, ``experiment_id`` (compared as the string the API
shows, ``'12'``), ``creation_time``, ``last_update_time`` and ``tags.<key>``.
An experiment without the tag never matches a comparison; only
``IS NULL`` finds it. Missing times sort last in both directions; ties fall
back to ``creation_time DESC`` then ``experiment_id ASC``, which is also the
default order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, exists, select, true
from sqlalchemy.sql.elements import UnaryExpression

from kiln.entities import ViewType
from kiln.search.grammar import parse_filter, parse_order_by
from kiln.search.specs import EXPERIMENTS
from kiln.search.sql.common import compare, compile_tree, never, sort_key
from kiln.search.syntax import Comparison, Entity, Operator, OrderClause
from kiln.store.sql.schema import experiment_tags, experiments

_DEFAULT_ORDER = (
    OrderClause(Entity.ATTRIBUTE, "creation_time", ascending=False),
    OrderClause(Entity.ATTRIBUTE, "experiment_id", ascending=True),
)


def select_experiment_ids(
    filter_string: str | None,
    view_type: ViewType,
    order_by: Sequence[str] | None,
    offset: int,
    limit: int,
) -> Select[int]:
    """Return a query for one page of the ids of matching experiments, in order.

    Only experiments whose lifecycle stage ``view_type`` includes are
    searched. Raises InvalidFilter when ``filter_string`` or ``order_by``
    does not parse.
    """
    tree = parse_filter(filter_string, EXPERIMENTS)
    clauses = parse_order_by(order_by, EXPERIMENTS)

    query = select(experiments.c.experiment_id).where(
        experiments.c.lifecycle_stage.in_(view_type.stages())
    )
    if tree is not None:
        query = query.where(compile_tree(tree, _condition))
    query = query.order_by(*_sort_keys(clauses))
    return query.offset(offset).limit(limit)


def _condition(comparison: Comparison) -> ColumnElement[bool]:
    if comparison.entity is Entity.TAG:
        return _tag_condition(comparison)
    if comparison.key == "experiment_id":
        return _experiment_id_condition(comparison)
    column = experiments.c[comparison.key]
    return compare(column, comparison.operator, comparison.value)


def _tag_condition(comparison: Comparison) -> ColumnElement[bool]:
    has_key = [
        experiment_tags.c.experiment_id == experiments.c.experiment_id,
        experiment_tags.c.key == comparison.key,
    ]
    if comparison.operator is Operator.IS_NULL:
        return ~exists().where(*has_key)
    if comparison.operator is Operator.IS_NOT_NULL:
        return exists().where(*has_key)
    matches = compare(experiment_tags.c.value, comparison.operator, comparison.value)
    return exists().where(*has_key, matches)


def _experiment_id_condition(comparison: Comparison) -> ColumnElement[bool]:
    # Ids are integers in the table but strings on the wire. Equality and
    # lists compare integers, so the primary key serves them; a string that
    # is no integer names no experiment. Patterns match the decimal text.
    column = experiments.c.experiment_id
    operator, value = comparison.operator, comparison.value
    if operator in (Operator.LIKE, Operator.ILIKE):
        return compare(cast(column, String), operator, value)
    if isinstance(value, tuple):
        ids = tuple(i for i in (_as_id(v) for v in value) if i is not None)
        return column.in_(ids) if operator is Operator.IN else column.not_in(ids)
    number = _as_id(value)
    if number is None:
        return never() if operator is Operator.EQ else true()
    return compare(column, operator, number)


def _as_id(value: Any) -> int | None:
    # The column is a 32-bit INTEGER; a larger number names no experiment.
    if isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
        return number if number <= _INT32_MAX else None
    return None


_INT32_MAX = 2**31 - 1


def _sort_keys(clauses: Sequence[OrderClause]) -> list[UnaryExpression[Any]]:
    named = {c.key for c in clauses}
    tie_breaks = [c for c in _DEFAULT_ORDER if c.key not in named]
    return [
        sort_key(experiments.c[clause.key], clause.ascending)
        for clause in (*clauses, *tie_breaks)
    ]
