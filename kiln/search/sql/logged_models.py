"""Compile a logged-model search to one SQL query that returns model ids.

Filters name the attributes ``model_id``, ``name``, ``model_type``,
``status``, ``source_run_id`` (strings; ``IN`` allowed),
``creation_timestamp`` and ``last_updated_timestamp`` (numbers), and
``metrics.``, ``params.`` and ``tags.`` keys. As in MLflow, a metric
comparison matches when any point logged with the model's id meets it; the
``datasets`` of the search narrow those points (and, without a metric
comparison, keep only models with a metric on one of them). A status may
be written ``READY`` or ``LOGGED_MODEL_READY``.

``order_by`` names an attribute or ``metrics.<key>``; a metric sorts by its
latest point (highest timestamp, then step), optionally on one dataset.
Missing values sort last; ties fall back to ``creation_timestamp DESC`` then
``model_id ASC``, which is also the default order. Deleted models are never
found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    not_,
    null,
    or_,
    select,
)
from sqlalchemy.sql.elements import UnaryExpression

from kiln.entities import LifecycleStage, LoggedModelDataset, LoggedModelOrderBy
from kiln.errors import InvalidFilter
from kiln.search.grammar import parse_filter
from kiln.search.specs import LOGGED_MODELS, PREFIXES
from kiln.search.sql.common import compare, compile_tree, sort_key
from kiln.search.syntax import Comparison, Entity, Node, Operator, Value
from kiln.store.sql.schema import (
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
)

# The points logged with each model's id (a model's "metrics.").
metrics = logged_model_metrics

_STATUS_PREFIX = "LOGGED_MODEL_"


def select_logged_model_ids(
    experiment_ids: Sequence[int],
    filter_string: str | None,
    datasets: Sequence[LoggedModelDataset],
    order_by: Sequence[LoggedModelOrderBy],
    offset: int,
    limit: int,
) -> Select[str]:
    """Return a query for one page of the ids of matching models, in order.

    Raises InvalidFilter when ``filter_string`` does not parse or
    ``order_by`` names something a logged model cannot be sorted by.
    """
    tree = parse_filter(filter_string, LOGGED_MODELS)
    sort_keys = _sort_keys(order_by)
    on_datasets = _dataset_condition(datasets)

    query = select(logged_models.c.model_id).where(
        logged_models.c.experiment_id.in_(list(experiment_ids)),
        logged_models.c.lifecycle_stage == LifecycleStage.ACTIVE,
    )
    if tree is not None:
        query = query.where(
            compile_tree(tree, lambda comparison: _condition(comparison, on_datasets))
        )
    if on_datasets is not None and not _mentions_metric(tree):
        query = query.where(_has_metric_point(on_datasets))
    return query.order_by(*sort_keys).offset(offset).limit(limit)


def _mentions_metric(node: Node | None) -> bool:
    if node is None:
        return False
    if isinstance(node, Comparison):
        return node.entity is Entity.METRIC
    return any(_mentions_metric(child) for child in node.operands)


def _condition(
    comparison: Comparison, on_datasets: ColumnElement[bool] | None
) -> ColumnElement[bool]:
    entity = comparison.entity
    if entity is Entity.METRIC:
        return _metric_condition(comparison, on_datasets)
    if entity is Entity.PARAM or entity is Entity.TAG:
        table = logged_model_params if entity is Entity.PARAM else logged_model_tags
        matches = compare(table.c.value, comparison.operator, comparison.value)
        return logged_models.c.model_id.in_(
            select(table.c.model_id).where(table.c.key == comparison.key, matches)
        )
    value = comparison.value
    if comparison.key == "status":
        value = _status_value(value)
    return compare(logged_models.c[comparison.key], comparison.operator, value)


def _status_value(value: Value) -> Value:
    # Kiln stores READY; MLflow's wire calls it LOGGED_MODEL_READY.
    if isinstance(value, tuple):
        return tuple(v.removeprefix(_STATUS_PREFIX) for v in value)
    if isinstance(value, str):
        return value.removeprefix(_STATUS_PREFIX)
    return value


def _metric_condition(
    comparison: Comparison, on_datasets: ColumnElement[bool] | None
) -> ColumnElement[bool]:
    # NaN is stored as 0 with is_nan set: it matches != and nothing else.
    value_matches = compare(metrics.c.value, comparison.operator, comparison.value)
    if comparison.operator is Operator.NE:
        value_matches = or_(metrics.c.is_nan, value_matches)
    else:
        value_matches = and_(not_(metrics.c.is_nan), value_matches)
    conditions = [metrics.c.key == comparison.key, value_matches]
    if on_datasets is not None:
        conditions.append(on_datasets)
    return logged_models.c.model_id.in_(select(metrics.c.model_id).where(*conditions))


def _dataset_condition(
    datasets: Sequence[LoggedModelDataset],
) -> ColumnElement[bool] | None:
    if not datasets:
        return None
    return or_(*(_on_dataset(d.dataset_name, d.dataset_digest) for d in datasets))


def _on_dataset(name: str, digest: str | None) -> ColumnElement[bool]:
    if digest:
        return and_(metrics.c.dataset_name == name, metrics.c.dataset_digest == digest)
    return metrics.c.dataset_name == name


def _has_metric_point(on_datasets: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(metrics.c.model_id == logged_models.c.model_id, on_datasets)


def _sort_keys(order_by: Sequence[LoggedModelOrderBy]) -> list[UnaryExpression[Any]]:
    keys: list[UnaryExpression[Any]] = []
    named: set[str] = set()
    for clause in order_by:
        entity, key = _order_field(clause)
        if entity is Entity.METRIC:
            keys.append(sort_key(_latest_metric(key, clause), clause.ascending))
            continue
        if clause.dataset_name or clause.dataset_digest:
            raise InvalidFilter(
                f"Invalid order_by field {clause.field_name!r} with a dataset; only "
                "metrics.<key> may be narrowed to a dataset."
            )
        named.add(key)
        keys.append(sort_key(logged_models.c[key], clause.ascending))
    if "creation_timestamp" not in named:
        keys.append(sort_key(logged_models.c.creation_timestamp, ascending=False))
    if "model_id" not in named:
        keys.append(sort_key(logged_models.c.model_id, ascending=True))
    return keys


def _order_field(clause: LoggedModelOrderBy) -> tuple[Entity, str]:
    field_name = clause.field_name
    if not isinstance(field_name, str) or not field_name.strip():
        raise InvalidFilter(
            f"Invalid order_by field name {field_name!r}; expected an attribute "
            "such as 'creation_timestamp' or 'metrics.<key>'."
        )
    prefix, dot, key = field_name.partition(".")
    if dot and PREFIXES.get(prefix.lower()) is Entity.METRIC:
        key = key.strip()
        if len(key) > 1 and key[0] == key[-1] and key[0] in '`"':
            key = key[1:-1]
        if key:
            return Entity.METRIC, key
    attribute = LOGGED_MODELS.resolve_order_attribute(field_name.strip())
    if attribute is None:
        names = ", ".join(sorted(LOGGED_MODELS.order_attributes))
        raise InvalidFilter(
            f"Invalid order_by field name {field_name!r}; expected one of {names} "
            "or metrics.<key>."
        )
    return Entity.ATTRIBUTE, attribute


def _latest_metric(key: str, clause: LoggedModelOrderBy) -> ColumnElement[Any]:
    # The value of the model's latest point; NaN counts as missing.
    conditions = [metrics.c.model_id == logged_models.c.model_id, metrics.c.key == key]
    if clause.dataset_name:
        conditions.append(_on_dataset(clause.dataset_name, clause.dataset_digest))
    latest = (
        select(case((metrics.c.is_nan, null()), else_=metrics.c.value))
        .where(*conditions)
        .order_by(metrics.c.timestamp.desc(), metrics.c.step.desc())
        .limit(1)
        .correlate(logged_models)
        .scalar_subquery()
    )
    return latest
