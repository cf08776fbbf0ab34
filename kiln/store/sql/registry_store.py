"""The registry half of the SQL store: registered models, versions, stages
and aliases, each call one transaction.

:class:`SqlRegistry` is mixed into :class:`~kiln.store.sql.store.SqlStore`,
which supplies the transactions; the SQL lives in ``registered_models``,
``model_versions``, ``aliases``, ``history`` and ``sources``.

``user_id`` is whoever the caller says made a change (the embedded client
passes the login name, the server the user of the request) and is stored as
given; the store authenticates no one.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

from sqlalchemy import Connection

from kiln.entities import (
    ModelVersion,
    ModelVersionTag,
    PagedList,
    RegisteredModel,
    RegisteredModelTag,
    RegistryHistoryEntry,
    RegistryHistoryKind,
)
from kiln.errors import InvalidParameterValue
from kiln.search.paging import decode_page_token, encode_page_token
from kiln.store.base import (
    REGISTRY_HISTORY_DEFAULT,
    REGISTRY_HISTORY_MAX,
    SEARCH_MODEL_VERSIONS_DEFAULT,
    SEARCH_MODEL_VERSIONS_MAX,
    SEARCH_REGISTERED_MODELS_DEFAULT,
    SEARCH_REGISTERED_MODELS_MAX,
)
from kiln.store.sql import aliases as aliases_sql
from kiln.store.sql import model_versions as versions_sql
from kiln.store.sql import registered_models as registry_sql
from kiln.store.sql import registry_reads
from kiln.store.sql.history import Attribution, list_history
from kiln.validation import validate_alias, validate_max_results

T = TypeVar("T")


class _Transactions(Protocol):
    def _read(self) -> AbstractContextManager[Connection]: ...

    def _write(self) -> AbstractContextManager[Connection]: ...


def _page(items: list[T], offset: int, max_results: int, fetched: int) -> PagedList[T]:
    # One row beyond the page was asked for: its presence means there is more.
    token = encode_page_token(offset + max_results) if fetched > max_results else None
    return PagedList(items, token)


class SqlRegistry:
    """The :class:`~kiln.store.base.RegistryStore` methods of the SQL store."""

    # -- registered models --------------------------------------------------
    def create_registered_model(
        self: _Transactions,
        name: str,
        tags: Sequence[RegisteredModelTag] = (),
        description: str | None = None,
        *,
        user_id: str | None = None,
    ) -> RegisteredModel:
        with self._write() as connection:
            registry_sql.create_registered_model(
                connection, name, tags, description, user_id
            )
            return registry_sql.get_registered_model(connection, name)

    def get_registered_model(self: _Transactions, name: str) -> RegisteredModel:
        with self._read() as connection:
            return registry_sql.get_registered_model(connection, name)

    def rename_registered_model(
        self: _Transactions, name: str, new_name: str
    ) -> RegisteredModel:
        with self._write() as connection:
            registry_sql.rename_registered_model(connection, name, new_name)
            return registry_sql.get_registered_model(connection, new_name)

    def update_registered_model(
        self: _Transactions, name: str, description: str | None
    ) -> RegisteredModel:
        with self._write() as connection:
            registry_sql.update_registered_model(connection, name, description)
            return registry_sql.get_registered_model(connection, name)

    def delete_registered_model(self: _Transactions, name: str) -> None:
        with self._write() as connection:
            registry_sql.delete_registered_model(connection, name)

    def search_registered_models(
        self: _Transactions,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODELS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """A page of models matching ``filter_string`` (see
        :mod:`kiln.search.sql.registry`)."""
        validate_max_results(
            max_results, SEARCH_REGISTERED_MODELS_MAX, "registered models"
        )
        offset = decode_page_token(page_token)
        with self._read() as connection:
            names = registry_sql.search_registered_model_names(
                connection, filter_string, order_by, offset, max_results + 1
            )
            page = registry_reads.load_registered_models(
                connection, names[:max_results]
            )
        return _page(page, offset, max_results, len(names))

    def set_registered_model_tag(
        self: _Transactions, name: str, tag: RegisteredModelTag
    ) -> None:
        with self._write() as connection:
            registry_sql.set_registered_model_tag(connection, name, tag)

    def delete_registered_model_tag(self: _Transactions, name: str, key: str) -> None:
        with self._write() as connection:
            registry_sql.delete_registered_model_tag(connection, name, key)

    def get_latest_versions(
        self: _Transactions, name: str, stages: Sequence[str] = ()
    ) -> list[ModelVersion]:
        with self._read() as connection:
            return versions_sql.get_latest_versions(connection, name, stages)

    # -- aliases ------------------------------------------------------------
    def set_registered_model_alias(
        self: _Transactions,
        name: str,
        alias: str,
        version: str,
        *,
        reason: str | None = None,
        user_id: str | None = None,
    ) -> None:
        attribution = Attribution.checked(user_id, reason)
        with self._write() as connection:
            versions_sql.lock_registered_model(connection, name)
            aliases_sql.set_alias(connection, name, alias, version, attribution)

    def delete_registered_model_alias(
        self: _Transactions, name: str, alias: str, *, user_id: str | None = None
    ) -> None:
        attribution = Attribution.checked(user_id, None)
        with self._write() as connection:
            versions_sql.lock_registered_model(connection, name)
            aliases_sql.delete_alias(connection, name, alias, attribution)

    def rollback_alias(
        self: _Transactions,
        name: str,
        alias: str,
        *,
        reason: str | None = None,
        user_id: str | None = None,
    ) -> ModelVersion:
        attribution = Attribution.checked(user_id, reason)
        with self._write() as connection:
            versions_sql.lock_registered_model(connection, name)
            version = aliases_sql.rollback_alias(connection, name, alias, attribution)
            return registry_reads.load_model_versions(connection, [(name, version)])[0]

    def get_registry_history(
        self: _Transactions,
        name: str,
        alias: str | None = None,
        kind: str | None = None,
        max_results: int = REGISTRY_HISTORY_DEFAULT,
        page_token: str | None = None,
    ) -> PagedList[RegistryHistoryEntry]:
        """A page of the model's history, newest first (see the protocol)."""
        validate_max_results(max_results, REGISTRY_HISTORY_MAX, "history entries")
        kind = _history_kind(alias, kind)
        # The token holds the id of the page's last entry, not an offset, so
        # entries recorded between two pages do not shift the next one.
        below = decode_page_token(page_token) if page_token else None
        with self._read() as connection:
            versions_sql.check_registered_model(connection, name)
            entries = list_history(
                connection, name, kind, alias, below, max_results + 1
            )
        page = entries[:max_results]
        more = len(entries) > max_results
        return PagedList(page, encode_page_token(page[-1].id) if more else None)

    def get_model_version_by_alias(
        self: _Transactions, name: str, alias: str
    ) -> ModelVersion:
        with self._read() as connection:
            versions_sql.check_registered_model(connection, name)
            version = aliases_sql.resolve_alias(connection, name, alias)
            # The alias names an existing version: no need to check it again.
            return registry_reads.load_model_versions(connection, [(name, version)])[0]

    # -- model versions -----------------------------------------------------
    def create_model_version(
        self: _Transactions,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Sequence[ModelVersionTag] = (),
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
        *,
        user_id: str | None = None,
    ) -> ModelVersion:
        with self._write() as connection:
            version = versions_sql.create_model_version(
                connection,
                name,
                source,
                run_id,
                tags,
                run_link,
                description,
                model_id,
                user_id,
            )
            return versions_sql.get_model_version(connection, name, str(version))

    def get_model_version(self: _Transactions, name: str, version: str) -> ModelVersion:
        with self._read() as connection:
            return versions_sql.get_model_version(connection, name, version)

    def update_model_version(
        self: _Transactions, name: str, version: str, description: str | None
    ) -> ModelVersion:
        with self._write() as connection:
            versions_sql.update_model_version(connection, name, version, description)
            return versions_sql.get_model_version(connection, name, version)

    def delete_model_version(
        self: _Transactions, name: str, version: str, *, user_id: str | None = None
    ) -> None:
        attribution = Attribution.checked(user_id, None)
        with self._write() as connection:
            versions_sql.delete_model_version(connection, name, version, attribution)

    def search_model_versions(
        self: _Transactions,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSIONS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """A page of versions matching ``filter_string`` (see
        :mod:`kiln.search.sql.registry`)."""
        validate_max_results(max_results, SEARCH_MODEL_VERSIONS_MAX, "model versions")
        offset = decode_page_token(page_token)
        with self._read() as connection:
            keys = versions_sql.search_model_version_keys(
                connection, filter_string, order_by, offset, max_results + 1
            )
            page = registry_reads.load_model_versions(connection, keys[:max_results])
        return _page(page, offset, max_results, len(keys))

    def set_model_version_tag(
        self: _Transactions, name: str, version: str, tag: ModelVersionTag
    ) -> None:
        with self._write() as connection:
            versions_sql.set_model_version_tag(connection, name, version, tag)

    def delete_model_version_tag(
        self: _Transactions, name: str, version: str, key: str
    ) -> None:
        with self._write() as connection:
            versions_sql.delete_model_version_tag(connection, name, version, key)

    def get_model_version_download_uri(
        self: _Transactions, name: str, version: str
    ) -> str:
        with self._read() as connection:
            return versions_sql.get_download_uri(connection, name, version)

    def transition_model_version_stage(
        self: _Transactions,
        name: str,
        version: str,
        stage: str,
        archive_existing_versions: bool = False,
        *,
        reason: str | None = None,
        user_id: str | None = None,
    ) -> ModelVersion:
        attribution = Attribution.checked(user_id, reason)
        with self._write() as connection:
            versions_sql.transition_stage(
                connection, name, version, stage, archive_existing_versions, attribution
            )
            return versions_sql.get_model_version(connection, name, version)


def _history_kind(alias: str | None, kind: str | None) -> str | None:
    """The kind of entries to list: an alias's history holds only moves."""
    if kind is not None and kind not in RegistryHistoryKind.ALL:
        raise InvalidParameterValue(
            f"Invalid history kind {kind!r}; expected one of "
            f"{', '.join(RegistryHistoryKind.ALL)}."
        )
    if alias is None:
        return kind
    validate_alias(alias)
    if kind == RegistryHistoryKind.STAGE:
        raise InvalidParameterValue(
            f"Stage history has no aliases; drop alias {alias!r} or ask for "
            f"kind {RegistryHistoryKind.ALIAS!r}."
        )
    return RegistryHistoryKind.ALIAS
