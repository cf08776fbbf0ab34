"""Compile registered-model and model-version searches to SQL.

Registered models filter on ``name`` and ``tags.<key>``; versions on
``name``, ``run_id``, ``source_path`` (the ``source`` column),
``version_number`` and ``tags.<key>``. A model lacking a tag matches no
comparison on it except ``!=``: MLflow 3's client hides prompts from model
searches by adding ``tags.`mlflow.prompt.is_prompt` != 'true'``, which must
keep every model that has no such tag. Models sort by name unless told
otherwise; versions by ``last_updated_timestamp DESC``, then name, then newest
version first, as in MLflow. Every order ends on the primary key, so pages
never overlap.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.sql.elements import UnaryExpression

from kiln.search.grammar import parse_filter, parse_order_by
from kiln.search.specs import MODEL_VERSIONS, REGISTERED_MODELS
from kiln.search.sql.common import compare, compile_tree, sort_key
from kiln.search.syntax import Comparison, Entity, Operator, OrderClause
from kiln.store.sql.schema import (
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)

_MODEL_DEFAULT_ORDER = (OrderClause(Entity.ATTRIBUTE, "name", ascending=True),)
_VERSION_DEFAULT_ORDER = (
    OrderClause(Entity.ATTRIBUTE, "last_updated_timestamp", ascending=False),
    OrderClause(Entity.ATTRIBUTE, "name", ascending=True),
    OrderClause(Entity.ATTRIBUTE, "version_number", ascending=False),
)
_VERSION_COLUMNS = {"version_number": "version", "source_path": "source"}


def select_registered_model_names(
    filter_string: str | None,
    order_by: Sequence[str] | None,
    offset: int,
    limit: int,
) -> Select[str]:
    """A query for one page of the names of matching registered models.

    Raises InvalidFilter when ``filter_string`` or ``order_by`` does not parse.
    """
    tree = parse_filter(filter_string, REGISTERED_MODELS)
    clauses = parse_order_by(order_by, REGISTERED_MODELS) or _MODEL_DEFAULT_ORDER
    query = select(registered_models.c.name)
    if tree is not None:
        query = query.where(compile_tree(tree, _model_condition))
    return query.order_by(*_model_keys(clauses)).offset(offset).limit(limit)


# Sort keys are the same for every search with the same order_by; building
# them is a good part of building a search, so the last few are kept.
@functools.lru_cache(maxsize=64)
def _model_keys(clauses: tuple[OrderClause, ...]) -> tuple[UnaryExpression[Any], ...]:
    keys = [
        sort_key(registered_models.c[clause.key], clause.ascending)
        for clause in clauses
    ]
    if all(clause.key != "name" for clause in clauses):
        keys.append(registered_models.c.name.asc())
    return tuple(keys)


def _model_condition(comparison: Comparison) -> ColumnElement[bool]:
    if comparison.entity is Entity.TAG:
        table = registered_model_tags
        return _tag_condition(
            comparison,
            table.c.value,
            table.c.name == registered_models.c.name,
            table.c.key == comparison.key,
        )
    column = registered_models.c[comparison.key]
    return compare(column, comparison.operator, comparison.value)


def _tag_condition(
    comparison: Comparison,
    value: ColumnElement[Any],
    *has_key: ColumnElement[bool],
) -> ColumnElement[bool]:
    if comparison.operator is Operator.NE:
        # "Not v" holds for a model without the tag, unlike in run searches.
        same = compare(value, Operator.EQ, comparison.value)
        return ~exists().where(*has_key, same)
    matches = compare(value, comparison.operator, comparison.value)
    return exists().where(*has_key, matches)


def select_model_version_keys(
    filter_string: str | None,
    order_by: Sequence[str] | None,
    offset: int,
    limit: int,
) -> Select[str, int]:
    """A query for one page of ``(name, version)`` of matching versions.

    Raises InvalidFilter when ``filter_string`` or ``order_by`` does not parse.
    """
    tree = parse_filter(filter_string, MODEL_VERSIONS)
    clauses = parse_order_by(order_by, MODEL_VERSIONS) or _VERSION_DEFAULT_ORDER
    query = select(model_versions.c.name, model_versions.c.version)
    if tree is not None:
        query = query.where(compile_tree(tree, _version_condition))
    return query.order_by(*_version_keys(clauses)).offset(offset).limit(limit)


def _version_column(key: str) -> ColumnElement[Any]:
    return model_versions.c[_VERSION_COLUMNS.get(key, key)]


def _version_condition(comparison: Comparison) -> ColumnElement[bool]:
    if comparison.entity is Entity.TAG:
        table = model_version_tags
        return _tag_condition(
            comparison,
            table.c.value,
            table.c.name == model_versions.c.name,
            table.c.version == model_versions.c.version,
            table.c.key == comparison.key,
        )
    column = _version_column(comparison.key)
    return compare(column, comparison.operator, comparison.value)


@functools.lru_cache(maxsize=64)
def _version_keys(
    clauses: tuple[OrderClause, ...],
) -> tuple[UnaryExpression[Any], ...]:
    named = {clause.key for clause in clauses}
    tie_breaks = [
        clause
        for clause in (
            OrderClause(Entity.ATTRIBUTE, "name", ascending=True),
            OrderClause(Entity.ATTRIBUTE, "version_number", ascending=False),
        )
        if clause.key not in named
    ]
    return tuple(
        sort_key(_version_column(clause.key), clause.ascending)
        for clause in (*clauses, *tie_breaks)
    )
