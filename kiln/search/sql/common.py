"""SQL pieces every search shares: comparing a column, sorting with missing
values last, and walking And/Or trees."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Text,
    and_,
    false,
    literal,
    or_,
)
from sqlalchemy.sql.elements import BindParameter, UnaryExpression

from kiln.search.syntax import And, Comparison, Node, Operator, Or, Value

# LIKE patterns escape % and _ with a backslash on every backend. It is
# PostgreSQL's default; SQLite has no default escape, so we name it.
LIKE_ESCAPE = "\\"


def compile_tree(
    node: Node, leaf: Callable[[Comparison], ColumnElement[bool]]
) -> ColumnElement[bool]:
    """Turn an And/Or tree into SQL, compiling each comparison with ``leaf``."""
    if isinstance(node, And):
        return and_(*(compile_tree(child, leaf) for child in node.operands))
    if isinstance(node, Or):
        return or_(*(compile_tree(child, leaf) for child in node.operands))
    return leaf(node)


def compare(
    column: ColumnElement[Any], operator: Operator, value: Value
) -> ColumnElement[bool]:
    """``column <operator> value`` for every operator but IS [NOT] NULL.

    A NULL column never matches, whatever the operator, as in SQL.
    """
    if operator is Operator.IN or operator is Operator.NOT_IN:
        if not isinstance(value, tuple):
            raise TypeError(f"{operator.value} needs a tuple of strings, not {value!r}")
        if operator is Operator.IN:
            return column.in_(value)
        return column.not_in(value)
    if operator is Operator.LIKE or operator is Operator.ILIKE:
        if not isinstance(value, str):
            raise TypeError(f"{operator.value} needs a string pattern, not {value!r}")
        pattern = like_pattern(value)
        if operator is Operator.LIKE:
            return column.like(pattern, escape=LIKE_ESCAPE)
        return column.ilike(pattern, escape=LIKE_ESCAPE)
    if value is None or isinstance(value, tuple):
        raise TypeError(f"{operator.value} needs a single value, not {value!r}")
    bound = _bind(value)
    if operator is Operator.EQ:
        return column == bound
    if operator is Operator.NE:
        return column != bound
    if operator is Operator.LT:
        return column < bound
    if operator is Operator.LE:
        return column <= bound
    if operator is Operator.GT:
        return column > bound
    if operator is Operator.GE:
        return column >= bound
    raise ValueError(f"Operator {operator.value!r} has no column comparison.")


def _bind(value: float | int | str) -> BindParameter[Any]:
    # Bind numbers with their own type: bound as the column's BIGINT, 1.5
    # would be rounded by PostgreSQL before comparing with start_time.
    if isinstance(value, float):
        return literal(value, Float(53))
    if isinstance(value, int):
        return literal(value, BigInteger)
    return literal(value, Text)


def like_pattern(value: str) -> str:
    """The pattern as given, with a lone trailing backslash taken literally.

    PostgreSQL refuses a pattern that ends in its escape character; a user
    who wrote one meant the backslash itself.
    """
    trailing = len(value) - len(value.rstrip(LIKE_ESCAPE))
    return value + LIKE_ESCAPE if trailing % 2 else value


def sort_key(expression: ColumnElement[Any], ascending: bool) -> UnaryExpression[Any]:
    """Sort by ``expression`` with NULLs last whichever the direction."""
    ordered = expression.asc() if ascending else expression.desc()
    return ordered.nulls_last()


def never() -> ColumnElement[bool]:
    """A condition no row meets."""
    return false()
