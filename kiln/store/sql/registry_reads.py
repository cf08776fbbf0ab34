"""Load registered models and model versions in bulk.

Model searches, version searches, ``get-latest-versions`` and alias
look-ups all end here, so these reads are tuned like run loading
(:mod:`kiln.store.sql.loading`): each statement is compiled once per dialect
to SQL text and run on the driver's cursor, with every list of names or keys
bound as one parameter (a JSON array read by ``json_each`` on SQLite, an
array on PostgreSQL); rows are found through the primary keys' indexes and
unpacked as tuples; the garbage collector waits while a page is built.

Every function takes an open connection; the caller owns the transaction.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from kiln.entities import (
    ModelVersion,
    ModelVersionStage,
    RegisteredModel,
    RegisteredModelAlias,
)
from kiln.store.sql.metrics import gc_paused
from kiln.store.sql.schema import (
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)
from kiln.store.sql.statements import compile_sql

__all__ = [
    "VersionKey",
    "load_latest_versions",
    "load_model_versions",
    "load_registered_models",
]

VersionKey = tuple[str, int]
# For each model, its (alias, version) pairs sorted by alias.
Aliases = Mapping[str, Sequence[tuple[str, int]]]

_STAGE_ORDER = {stage: i for i, stage in enumerate(ModelVersionStage.ALL)}
# The columns of a ModelVersion, in the order _versions unpacks them.
_VERSION_COLUMNS = (
    "name",
    "version",
    "creation_timestamp",
    "last_updated_timestamp",
    "source",
    "user_id",
    "current_stage",
    "description",
    "run_id",
    "run_link",
    "status",
    "status_message",
    "model_id",
)


class _Statements:
    """The SQL text of every read for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.sqlite = dialect.name == "sqlite"
        models, model_tags = registered_models.c, registered_model_tags.c
        aliases, tags = registered_model_aliases.c, model_version_tags.c
        self.models = compile_sql(
            select(
                models.name,
                models.creation_timestamp,
                models.last_updated_timestamp,
                models.user_id,
                models.description,
            ).where(self._within(models.name, "names", String())),
            dialect,
        )
        self.model_tags = compile_sql(
            select(model_tags.name, model_tags.key, model_tags.value)
            .where(self._within(model_tags.name, "names", String()))
            .order_by(model_tags.key),
            dialect,
        )
        self.aliases = compile_sql(
            select(aliases.name, aliases.alias, aliases.version)
            .where(self._within(aliases.name, "names", String()))
            .order_by(aliases.name, aliases.alias),
            dialect,
        )
        self.latest = {
            in_stages: compile_sql(self._latest(in_stages), dialect)
            for in_stages in (False, True)
        }
        columns = [model_versions.c[name] for name in _VERSION_COLUMNS]
        keys = self._keys()
        name_of, number_of = self._key_columns(keys)
        self.versions = compile_sql(
            select(*columns)
            .select_from(keys)
            .join(
                model_versions,
                and_(
                    model_versions.c.name == name_of,
                    model_versions.c.version == number_of,
                ),
            ),
            dialect,
        )
        self.version_tags = compile_sql(
            select(tags.name, tags.version, tags.key, tags.value)
            .select_from(keys)
            .join(
                model_version_tags,
                and_(tags.name == name_of, tags.version == number_of),
            )
            .order_by(tags.key),
            dialect,
        )

    def _within(
        self, column: ColumnElement[Any], name: str, type_: TypeEngine[Any]
    ) -> ColumnElement[bool]:
        """``column`` is one of the list bound as ``name``."""
        if self.sqlite:
            values: Select[Any] = select(literal_column("value")).select_from(
                func.json_each(bindparam(name))
            )
            return column.in_(values)
        found: ColumnElement[bool] = column == any_(bindparam(name, type_=ARRAY(type_)))
        return found

    def _keys(self) -> Any:
        """The (name, version) keys bound as one list, as a table to join.

        Joining it reads exactly the asked rows through the primary key's
        index; a row-value ``(name, version) IN (…)`` would make SQLite scan
        the whole table. SQLite reads a JSON array of ``[name, version]``
        pairs, PostgreSQL two arrays side by side.
        """
        if self.sqlite:
            return func.json_each(bindparam("pairs")).table_valued("value").alias("k")
        return (
            func.unnest(
                bindparam("names", type_=ARRAY(String())),
                bindparam("numbers", type_=ARRAY(Integer())),
            )
            .table_valued("name", "version")
            .render_derived()
            .alias("k")
        )

    def _key_columns(self, keys: Any) -> tuple[Any, Any]:
        """The name and the version of each key of :meth:`_keys`."""
        if self.sqlite:
            return (
                func.json_extract(keys.c.value, literal_column("'$[0]'")),
                func.json_extract(keys.c.value, literal_column("'$[1]'")),
            )
        return keys.c.name, keys.c.version

    def _latest(self, in_stages: bool) -> Select[Any]:
        # The highest version of each (name, stage) is that stage's latest;
        # the join reads exactly those rows.
        table = model_versions
        highest = select(
            table.c.name, func.max(table.c.version).label("version")
        ).where(self._within(table.c.name, "names", String()))
        if in_stages:
            highest = highest.where(
                self._within(table.c.current_stage, "stages", String())
            )
        grouped = highest.group_by(table.c.name, table.c.current_stage).subquery()
        return select(*[table.c[name] for name in _VERSION_COLUMNS]).join_from(
            table,
            grouped,
            and_(table.c.name == grouped.c.name, table.c.version == grouped.c.version),
        )

    def bind(self, **lists: Sequence[Any]) -> dict[str, object]:
        """The parameters binding these lists."""
        if self.sqlite:
            return {name: json.dumps(list(values)) for name, values in lists.items()}
        return {name: list(values) for name, values in lists.items()}


_COMPILED: dict[str, _Statements] = {}


def _statements(dialect: Dialect) -> _Statements:
    found = _COMPILED.get(dialect.name)
    if found is None:
        found = _COMPILED[dialect.name] = _Statements(dialect)
    return found


def _fetch(
    connection: Connection, *reads: tuple[str, dict[str, object]]
) -> list[list[Any]]:
    """The rows of each read; on PostgreSQL in one round trip."""
    driver: Any = connection.connection.driver_connection
    cursors = [driver.cursor() for _ in reads]
    try:
        if hasattr(driver, "pipeline"):
            with driver.pipeline():
                for cursor, (sql, args) in zip(cursors, reads, strict=True):
                    cursor.execute(sql, args)
        else:
            for cursor, (sql, args) in zip(cursors, reads, strict=True):
                cursor.execute(sql, args)
        return [cursor.fetchall() for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()


def load_registered_models(
    connection: Connection, names: Sequence[str]
) -> list[RegisteredModel]:
    """These models with tags, aliases and latest version per stage, in the
    given order; unknown names are skipped."""
    if not names:
        return []
    sql = _statements(connection.dialect)
    bound = sql.bind(names=sorted(set(names)))
    with gc_paused():
        rows, tag_rows, alias_rows, latest_rows = _fetch(
            connection,
            (sql.models, bound),
            (sql.model_tags, bound),
            (sql.aliases, bound),
            (sql.latest[False], bound),
        )
        aliases = _aliases(alias_rows)
        latest = _latest(connection, latest_rows, aliases)
        tags: defaultdict[str, dict[str, str]] = defaultdict(dict)
        for name, key, value in tag_rows:
            tags[name][key] = value
        loaded = {
            name: RegisteredModel(
                name=name,
                creation_timestamp=created,
                last_updated_timestamp=updated,
                user_id=user_id,
                description=description,
                latest_versions=tuple(latest[name]),
                tags=tags[name],
                aliases=tuple(
                    RegisteredModelAlias(alias, str(version))
                    for alias, version in aliases.get(name, ())
                ),
            )
            for name, created, updated, user_id, description in rows
        }
    return [loaded[name] for name in names if name in loaded]


def load_latest_versions(
    connection: Connection, names: Iterable[str], stages: Sequence[str] = ()
) -> defaultdict[str, list[ModelVersion]]:
    """For each model, its highest version in each stage (of ``stages``, or
    every stage when empty), in the order of the stages."""
    sql = _statements(connection.dialect)
    unique = sorted(set(names))
    if not unique:
        return defaultdict(list)
    bound = sql.bind(names=unique, stages=stages)
    with gc_paused():
        (rows,) = _fetch(connection, (sql.latest[bool(stages)], bound))
        return _latest(connection, rows, None)


def load_model_versions(
    connection: Connection, keys: Sequence[VersionKey]
) -> list[ModelVersion]:
    """These versions with tags and aliases, in the given order; unknown keys
    are skipped."""
    if not keys:
        return []
    sql = _statements(connection.dialect)
    bound = _bind_keys(sql, keys)
    with gc_paused():
        rows, tag_rows, alias_rows = _fetch(
            connection,
            (sql.versions, bound),
            (sql.version_tags, bound),
            (sql.aliases, bound),
        )
        loaded = _versions(rows, tag_rows, _aliases(alias_rows))
    return [loaded[key] for key in keys if key in loaded]


def _latest(
    connection: Connection, rows: list[Any], aliases: Aliases | None
) -> defaultdict[str, list[ModelVersion]]:
    """The versions of ``rows`` (from a latest read) by model, ordered by stage."""
    found: defaultdict[str, list[ModelVersion]] = defaultdict(list)
    if not rows:
        return found
    sql = _statements(connection.dialect)
    bound = _bind_keys(sql, [(row[0], row[1]) for row in rows])
    reads = [(sql.version_tags, bound)]
    if aliases is None:
        reads.append((sql.aliases, bound))
    tag_rows, *alias_rows = _fetch(connection, *reads)
    if aliases is None:
        aliases = _aliases(alias_rows[0])
    versions = _versions(rows, tag_rows, aliases).values()
    for version in sorted(versions, key=_stage_rank):
        found[version.name].append(version)
    return found


def _stage_rank(version: ModelVersion) -> int:
    return _STAGE_ORDER.get(version.current_stage, len(_STAGE_ORDER))


def _bind_keys(sql: _Statements, keys: Sequence[VersionKey]) -> dict[str, object]:
    """The parameters finding ``keys``; ``names`` also serves the aliases read."""
    if sql.sqlite:
        return {
            "pairs": json.dumps(keys),
            "names": json.dumps(sorted({name for name, _ in keys})),
        }
    return {
        "names": [name for name, _ in keys],
        "numbers": [number for _, number in keys],
    }


def _aliases(rows: list[Any]) -> dict[str, list[tuple[str, int]]]:
    found: defaultdict[str, list[tuple[str, int]]] = defaultdict(list)
    for name, alias, version in rows:
        found[name].append((alias, version))
    return found


def _versions(
    rows: list[Any], tag_rows: list[Any], aliases: Aliases
) -> dict[VersionKey, ModelVersion]:
    """The versions of ``rows`` with their tags and the aliases naming them."""
    tags: defaultdict[VersionKey, dict[str, str]] = defaultdict(dict)
    for name, number, key, value in tag_rows:
        tags[(name, number)][key] = value
    pointing: defaultdict[VersionKey, list[str]] = defaultdict(list)
    for name in {row[0] for row in rows}:
        for alias, number in aliases.get(name, ()):
            pointing[(name, number)].append(alias)
    result: dict[VersionKey, ModelVersion] = {}
    for (
        name,
        number,
        created,
        updated,
        source,
        user_id,
        stage,
        description,
        run_id,
        run_link,
        status,
        status_message,
        model_id,
    ) in rows:
        key = (name, number)
        result[key] = ModelVersion(
            name=name,
            version=str(number),
            creation_timestamp=created,
            last_updated_timestamp=updated,
            source=source,
            user_id=user_id,
            current_stage=stage,
            description=description,
            run_id=run_id,
            run_link=run_link,
            status=status,
            status_message=status_message,
            model_id=model_id,
            tags=tags[key],
            aliases=tuple(pointing[key]),
        )
    return result
