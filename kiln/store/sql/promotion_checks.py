"""Hold an alias move to the alias's promotion rule.

:func:`check_promotion_rule` runs inside the transaction that moves the
alias, after the registered model's row is locked, so neither the rule nor
the versions can change between the check and the move. The runs' values
are read as they stand at that moment: a run may log more afterwards, but
the move was judged on what it had.

It reads only what the rule names: the source runs of the candidate and of
the current holder, their latest values of the rule's metric keys, and
their params and tags of the rule's keys; at most six short queries.

A version's source run is its ``run_id``, else the source run of its logged
model (``model_id``). A candidate without one fails any rule.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Select, Table, bindparam, select

from kiln.errors import InvalidFilter, InvalidParameterValue
from kiln.search.evaluation import Holder, RunValues, rule_failures
from kiln.search.rules import Rule, parse_rule
from kiln.search.syntax import Entity
from kiln.store.sql.schema import (
    latest_metrics,
    logged_models,
    model_versions,
    params,
    promotion_rules,
    runs,
    tags,
)

__all__ = ["check_promotion_rule", "load_run_values"]

# Reads are built once, lists bound as expanding parameters: building a
# statement costs more than running it.
_RULE = select(promotion_rules.c.rule).where(
    promotion_rules.c.name == bindparam("name"),
    promotion_rules.c.alias == bindparam("alias"),
)
_SOURCES = (
    select(
        model_versions.c.version,
        model_versions.c.run_id,
        logged_models.c.source_run_id,
    )
    .select_from(
        model_versions.outerjoin(
            logged_models, logged_models.c.model_id == model_versions.c.model_id
        )
    )
    .where(
        model_versions.c.name == bindparam("name"),
        model_versions.c.version.in_(bindparam("versions", expanding=True)),
    )
)
_ATTRIBUTES = (
    "run_name",
    "user_id",
    "status",
    "start_time",
    "end_time",
    "artifact_uri",
)
_RUNS = select(runs.c.run_id, *[runs.c[name] for name in _ATTRIBUTES]).where(
    runs.c.run_id.in_(bindparam("ids", expanding=True))
)
_METRICS = select(
    latest_metrics.c.run_id,
    latest_metrics.c.key,
    latest_metrics.c.value,
    latest_metrics.c.is_nan,
).where(
    latest_metrics.c.run_id.in_(bindparam("ids", expanding=True)),
    latest_metrics.c.key.in_(bindparam("keys", expanding=True)),
)


def _key_values(table: Table) -> Select[Any]:
    return select(table.c.run_id, table.c.key, table.c.value).where(
        table.c.run_id.in_(bindparam("ids", expanding=True)),
        table.c.key.in_(bindparam("keys", expanding=True)),
    )


_PARAMS = _key_values(params)
_TAGS = _key_values(tags)


def check_promotion_rule(
    connection: Connection,
    name: str,
    alias: str,
    previous: int | None,
    version: int,
) -> None:
    """Refuse to move ``alias`` from ``previous`` to ``version`` unless the
    version's source run meets the alias's promotion rule, if it has one.

    Raises InvalidParameterValue naming each failing condition and the
    values seen, or saying why the rule could not be checked.
    """
    text = connection.execute(_RULE, {"name": name, "alias": alias}).scalar()
    if text is None:
        return
    refused = (
        f"Alias {alias!r} of registered model {name!r} cannot point at version "
        f"{version}"
    )
    rule = _parsed(text, refused)

    compared = previous if previous is not None and rule.uses_current else None
    sources = _source_run_ids(connection, name, [version, compared])
    candidate_id = sources.get(version)
    if candidate_id is None:
        raise InvalidParameterValue(
            f"{refused}: the version has no source run (no run_id, and no logged "
            "model with a source run) to check its promotion rule against."
        )
    holder_id = sources.get(compared) if compared is not None else None
    values = load_run_values(connection, [candidate_id, holder_id], rule)
    candidate = values.get(candidate_id)
    if candidate is None:
        raise InvalidParameterValue(
            f"{refused}: its source run {candidate_id!r} no longer exists, so its "
            "promotion rule cannot hold."
        )

    holder = None
    if compared is not None:
        holder = Holder(compared, values.get(holder_id) if holder_id else None)
    failures = rule_failures(rule, candidate, holder)
    if failures:
        raise InvalidParameterValue(
            f"{refused}: its promotion rule does not hold: {'; '.join(failures)}."
        )


def _parsed(text: str, refused: str) -> Rule:
    try:
        return parse_rule(text)
    except InvalidFilter as error:
        # Rules are parsed when set; only a rule stored by an older or
        # foreign writer can fail here.
        raise InvalidParameterValue(
            f"{refused}: its promotion rule no longer parses ({error.message}); "
            "set the rule again or delete it."
        ) from error


def _source_run_ids(
    connection: Connection, name: str, versions: Sequence[int | None]
) -> dict[int, str | None]:
    """The source run of each of ``versions`` that exists (None: it has none)."""
    wanted = [v for v in versions if v is not None]
    rows = connection.execute(_SOURCES, {"name": name, "versions": wanted})
    return {
        int(number): run_id or source_run_id or None
        for number, run_id, source_run_id in rows
    }


def load_run_values(
    connection: Connection, run_ids: Iterable[str | None], rule: Rule
) -> dict[str, RunValues]:
    """What ``rule`` reads of each existing run of ``run_ids``, by run id."""
    ids = sorted({run_id for run_id in run_ids if run_id})
    if not ids:
        return {}
    attributes = {
        row[0]: {"run_id": row[0], **dict(zip(_ATTRIBUTES, row[1:], strict=True))}
        for row in connection.execute(_RUNS, {"ids": ids})
    }
    metrics = _latest_metrics(connection, ids, rule.keys(Entity.METRIC))
    run_params = _strings(connection, _PARAMS, ids, rule.keys(Entity.PARAM))
    run_tags = _strings(connection, _TAGS, ids, rule.keys(Entity.TAG))
    return {
        run_id: RunValues(
            run_id,
            metrics=metrics.get(run_id, {}),
            params=run_params.get(run_id, {}),
            tags=run_tags.get(run_id, {}),
            attributes=attributes[run_id],
        )
        for run_id in attributes
    }


def _latest_metrics(
    connection: Connection, ids: Sequence[str], keys: Collection[str]
) -> dict[str, dict[str, float]]:
    if not keys:
        return {}
    found: dict[str, dict[str, float]] = {}
    rows = connection.execute(_METRICS, {"ids": ids, "keys": sorted(keys)})
    for run_id, key, value, is_nan in rows:
        # NaN is stored as 0 with is_nan set (see the schema).
        found.setdefault(run_id, {})[key] = math.nan if is_nan else float(value)
    return found


def _strings(
    connection: Connection,
    query: Select[Any],
    ids: Sequence[str],
    keys: Collection[str],
) -> dict[str, dict[str, str]]:
    if not keys:
        return {}
    found: dict[str, dict[str, str]] = {}
    for run_id, key, value in connection.execute(
        query, {"ids": ids, "keys": sorted(keys)}
    ):
        found.setdefault(run_id, {})[key] = value
    return found
