"""Load model versions in bulk: by key, or the latest of each stage.

Searches, model pages and single look-ups all end here, so these reads are
tuned: their statements are built once (building one costs several times
more than running it on an indexed key), rows are found through the primary
key's index, and the garbage collector waits while a page of entities is
built.

Every function takes an open connection; the caller owns the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    func,
    select,
)
from sqlalchemy.sql.elements import BindParameter

from kiln.entities import ModelVersion, ModelVersionStage
from kiln.store.sql.aliases import load_aliases
from kiln.store.sql.metrics import gc_paused
from kiln.store.sql.schema import model_version_tags, model_versions

__all__ = ["VersionKey", "load_latest_versions", "load_model_versions"]

VersionKey = tuple[str, int]
# For each model, its (alias, version) pairs, as load_aliases gives them.
Aliases = Mapping[str, Sequence[tuple[str, int]]]

_CHUNK = 500
# Up to this many distinct version numbers, the index is searched for each
# (name, number) pair; beyond it, for each name.
_FEW_NUMBERS = 8
_STAGE_ORDER = {stage: i for i, stage in enumerate(ModelVersionStage.ALL)}

_NAMES: BindParameter[str] = bindparam("names", expanding=True)
_NUMBERS: BindParameter[int] = bindparam("numbers", expanding=True)
_KEYS: BindParameter[str] = bindparam("keys", expanding=True)
_STAGES: BindParameter[str] = bindparam("stages", expanding=True)
# The columns of a ModelVersion, in the order _entities unpacks them: a row
# unpacked as a tuple costs a third of reading its fields by name.
_COLUMNS = [
    model_versions.c[name]
    for name in (
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
]


def _has_key(table: Table, few_numbers: bool) -> list[ColumnElement[bool]]:
    """Rows of ``table`` whose (name, version) is among ``keys``.

    A row-value ``(name, version) IN (…)`` makes SQLite scan the whole table,
    so rows are found by ``name`` through the index and kept when their key
    written as ``"<version>:<name>"`` (a number has no colon) is in the list.
    With few version numbers, ``version IN (…)`` narrows the index search to
    exactly those numbers.
    """
    as_text = cast(table.c.version, Text) + ":" + table.c.name
    found: list[ColumnElement[bool]] = [table.c.name.in_(_NAMES), as_text.in_(_KEYS)]
    if few_numbers:
        found.append(table.c.version.in_(_NUMBERS))
    return found


_TAGS = {
    few: select(
        model_version_tags.c.name,
        model_version_tags.c.version,
        model_version_tags.c.key,
        model_version_tags.c.value,
    )
    .where(*_has_key(model_version_tags, few))
    .order_by(model_version_tags.c.key)
    for few in (True, False)
}
_VERSIONS = {
    few: select(*_COLUMNS).where(*_has_key(model_versions, few))
    for few in (True, False)
}


def _latest(in_stages: bool) -> Select[Any]:
    # The highest version of each (name, stage) is that stage's latest; the
    # join reads exactly those rows.
    table = model_versions
    highest = select(table.c.name, func.max(table.c.version).label("version")).where(
        table.c.name.in_(_NAMES)
    )
    if in_stages:
        highest = highest.where(table.c.current_stage.in_(_STAGES))
    grouped = highest.group_by(table.c.name, table.c.current_stage).subquery()
    return select(*_COLUMNS).join_from(
        table,
        grouped,
        and_(table.c.name == grouped.c.name, table.c.version == grouped.c.version),
    )


_LATEST = {in_stages: _latest(in_stages) for in_stages in (True, False)}


def load_model_versions(
    connection: Connection, keys: Sequence[VersionKey], aliases: Aliases | None = None
) -> list[ModelVersion]:
    """These versions with tags and aliases, in the given order; unknown keys
    are skipped. ``aliases`` saves reading them again when the caller has."""
    loaded: dict[VersionKey, ModelVersion] = {}
    with gc_paused():
        for start in range(0, len(keys), _CHUNK):
            chunk = list(keys[start : start + _CHUNK])
            few, values = _key_values(chunk)
            rows = connection.execute(_VERSIONS[few], values).all()
            loaded.update(_entities(connection, rows, few, values, aliases))
    return [loaded[key] for key in keys if key in loaded]


def load_latest_versions(
    connection: Connection,
    names: Iterable[str],
    stages: Sequence[str] = (),
    aliases: Aliases | None = None,
) -> defaultdict[str, list[ModelVersion]]:
    """For each model, its highest version in each stage (of ``stages``, or
    every stage when empty), in the order of the stages."""
    found: defaultdict[str, list[ModelVersion]] = defaultdict(list)
    unique = sorted(set(names))
    query = _LATEST[bool(stages)]
    with gc_paused():
        for start in range(0, len(unique), _CHUNK):
            chunk = {"names": unique[start : start + _CHUNK], "stages": list(stages)}
            rows = connection.execute(query, chunk).all()
            few, values = _key_values([(row[0], row[1]) for row in rows])
            versions = _entities(connection, rows, few, values, aliases).values()
            for version in sorted(versions, key=_stage_rank):
                found[version.name].append(version)
    return found


def _stage_rank(version: ModelVersion) -> int:
    return _STAGE_ORDER.get(version.current_stage, len(_STAGE_ORDER))


def _key_values(keys: Sequence[VersionKey]) -> tuple[bool, dict[str, list[Any]]]:
    """Whether ``keys`` have few version numbers, and the values that find them."""
    numbers = sorted({number for _, number in keys})
    few = len(numbers) <= _FEW_NUMBERS
    values: dict[str, list[Any]] = {
        "names": sorted({name for name, _ in keys}),
        "keys": [f"{number}:{name}" for name, number in keys],
    }
    if few:
        values["numbers"] = numbers
    return few, values


def _entities(
    connection: Connection,
    rows: Sequence[Sequence[Any]],
    few: bool,
    values: dict[str, list[Any]],
    aliases: Aliases | None,
) -> dict[VersionKey, ModelVersion]:
    """The versions of ``rows`` with their tags and aliases."""
    if not rows:
        return {}
    tags: defaultdict[VersionKey, dict[str, str]] = defaultdict(dict)
    for name, version, key, value in connection.execute(_TAGS[few], values).all():
        tags[(name, version)][key] = value
    if aliases is None:
        aliases = load_aliases(connection, values["names"])
    pointing: defaultdict[VersionKey, list[str]] = defaultdict(list)
    for name in values["names"]:
        for alias, version in aliases.get(name, ()):
            pointing[(name, version)].append(alias)
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
