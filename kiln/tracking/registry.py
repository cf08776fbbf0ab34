"""The model registry in the client: :class:`RegistryClient` (mixed into
:class:`~kiln.tracking.client.KilnClient`), :func:`register_model`, and the
resolution of ``models:/<name>/<version>``, ``/<stage>``, ``/latest`` and
``@<alias>`` URIs to a model version.

Changes are made as the login name of the user running this process (as
runs are), which an embedded store records as who made them; a tracking
server records the user of the request instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from kiln.entities import (
    ModelVersion,
    ModelVersionTag,
    PagedList,
    RegisteredModel,
    RegisteredModelTag,
    RegistryHistoryEntry,
)
from kiln.errors import (
    InvalidParameterValue,
    NotImplementedFeature,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from kiln.store.base import (
    REGISTRY_HISTORY_DEFAULT,
    SEARCH_MODEL_VERSIONS_DEFAULT,
    SEARCH_REGISTERED_MODELS_DEFAULT,
    RegistryStore,
    TrackingStore,
)
from kiln.tracking.context import current_user

__all__ = ["RegistryClient", "model_version_for_uri", "register_model"]

_LOGGED_MODEL_PREFIX = "m-"


class RegistryClient:
    """Registered models, versions, stages and aliases through the store."""

    store: TrackingStore

    @property
    def _registry(self) -> RegistryStore:
        store = self.store
        if not isinstance(store, RegistryStore):
            raise NotImplementedFeature(
                f"The tracking store {type(store).__name__!r} has no model registry."
            )
        return store

    # -- registered models --------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, object] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        model_tags = [RegisteredModelTag(k, str(v)) for k, v in (tags or {}).items()]
        return self._registry.create_registered_model(
            name, model_tags, description, user_id=current_user()
        )

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._registry.get_registered_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return self._registry.rename_registered_model(name, new_name)

    def update_registered_model(
        self, name: str, description: str | None = None
    ) -> RegisteredModel:
        return self._registry.update_registered_model(name, description)

    def delete_registered_model(self, name: str) -> None:
        self._registry.delete_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODELS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        return self._registry.search_registered_models(
            filter_string, max_results, order_by, page_token
        )

    def set_registered_model_tag(self, name: str, key: str, value: object) -> None:
        self._registry.set_registered_model_tag(
            name, RegisteredModelTag(key, str(value))
        )

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._registry.delete_registered_model_tag(name, key)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        return self._registry.get_latest_versions(name, list(stages or ()))

    # -- aliases ------------------------------------------------------------
    def set_registered_model_alias(
        self, name: str, alias: str, version: str | int, reason: str | None = None
    ) -> None:
        """Point ``alias`` at ``version``; ``reason`` is kept in the history."""
        self._registry.set_registered_model_alias(
            name, alias, str(version), reason=reason, user_id=current_user()
        )

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._registry.delete_registered_model_alias(
            name, alias, user_id=current_user()
        )

    def rollback_alias(
        self, name: str, alias: str, reason: str | None = None
    ) -> ModelVersion:
        """Point ``alias`` back at the version it held before its current one
        and return that version.

        Versions deleted since are passed over; rolling back twice returns
        to the first version. InvalidParameterValue when there is nothing to
        roll back to.
        """
        return self._registry.rollback_alias(
            name, alias, reason=reason, user_id=current_user()
        )

    def get_registry_history(
        self,
        name: str,
        alias: str | None = None,
        kind: str | None = None,
        max_results: int = REGISTRY_HISTORY_DEFAULT,
        page_token: str | None = None,
    ) -> PagedList[RegistryHistoryEntry]:
        """A page of the model's alias moves and stage changes, newest first;
        ``alias`` keeps one alias's moves, ``kind`` (``"alias"`` or
        ``"stage"``) one kind of entry."""
        return self._registry.get_registry_history(
            name, alias, kind, max_results, page_token
        )

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._registry.get_model_version_by_alias(name, alias)

    # -- model versions -----------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, object] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        version_tags = [ModelVersionTag(k, str(v)) for k, v in (tags or {}).items()]
        return self._registry.create_model_version(
            name,
            source,
            run_id,
            version_tags,
            run_link,
            description,
            model_id,
            user_id=current_user(),
        )

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        return self._registry.get_model_version(name, str(version))

    def update_model_version(
        self, name: str, version: str | int, description: str | None = None
    ) -> ModelVersion:
        return self._registry.update_model_version(name, str(version), description)

    def delete_model_version(self, name: str, version: str | int) -> None:
        self._registry.delete_model_version(name, str(version), user_id=current_user())

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSIONS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        return self._registry.search_model_versions(
            filter_string, max_results, order_by, page_token
        )

    def set_model_version_tag(
        self, name: str, version: str | int, key: str, value: object
    ) -> None:
        tag = ModelVersionTag(key, str(value))
        self._registry.set_model_version_tag(name, str(version), tag)

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        self._registry.delete_model_version_tag(name, str(version), key)

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        return self._registry.get_model_version_download_uri(name, str(version))

    def transition_model_version_stage(
        self,
        name: str,
        version: str | int,
        stage: str,
        archive_existing_versions: bool = False,
        reason: str | None = None,
    ) -> ModelVersion:
        """Move the version to ``stage``; ``reason`` is kept in the history."""
        return self._registry.transition_model_version_stage(
            name,
            str(version),
            stage,
            archive_existing_versions,
            reason=reason,
            user_id=current_user(),
        )


def register_model(
    client: RegistryClient,
    model_uri: str,
    name: str,
    tags: Mapping[str, object] | None = None,
) -> ModelVersion:
    """Register the model at ``model_uri`` as the next version of ``name``,
    creating the registered model first when it does not exist.

    ``runs:/<run_id>/<name>`` registers the run's logged model of that name
    when there is one (MLflow 3), else the run's artifact folder;
    ``models:/m-…`` registers that logged model.
    """
    # A further version of an existing model is the common case.
    with contextlib.suppress(ResourceAlreadyExists):
        client.create_registered_model(name)
    source, run_id, model_id = _source_of(client, model_uri)
    return client.create_model_version(
        name, source, run_id=run_id, tags=tags, model_id=model_id
    )


def _source_of(
    client: RegistryClient, model_uri: str
) -> tuple[str, str | None, str | None]:
    """``(source, run_id, model_id)`` for a model URI."""
    if not isinstance(model_uri, str) or not model_uri:
        raise InvalidParameterValue(
            f"A model URI must be a non-empty string, got {model_uri!r}."
        )
    parts = urlsplit(model_uri)
    scheme = parts.scheme.lower()
    segments = [s for s in f"{parts.netloc}/{parts.path}".split("/") if s]
    if (
        scheme == "models"
        and len(segments) == 1
        and segments[0].startswith(_LOGGED_MODEL_PREFIX)
    ):
        logged = client.store.get_logged_model(segments[0])
        return model_uri, logged.source_run_id, logged.model_id
    if scheme == "runs" and len(segments) >= 2:
        run_id, path = segments[0], "/".join(segments[1:])
        for output in client.store.get_run(run_id).outputs.model_outputs:
            try:
                logged = client.store.get_logged_model(output.model_id)
            except ResourceDoesNotExist:
                continue  # deleted since; the run still lists it
            if logged.name == path:
                return f"models:/{logged.model_id}", run_id, logged.model_id
        return model_uri, run_id, None
    return model_uri, None, None


def model_version_for_uri(client: RegistryClient, uri: str) -> ModelVersion:
    """The version a registry URI names: ``models:/<name>/<version>``,
    ``models:/<name>/<stage>`` (the newest version in it),
    ``models:/<name>/latest`` (the newest of all) or ``models:/<name>@<alias>``.
    """
    parts = urlsplit(uri)
    segments = [s for s in parts.path.split("/") if s]
    if parts.netloc:
        raise NotImplementedFeature(
            f"Model URI {uri!r} names another registry ({parts.netloc!r}); Kiln "
            "reads only the current tracking server's registry."
        )
    if len(segments) == 1 and "@" in segments[0]:
        name, _, alias = segments[0].rpartition("@")
        return client.get_model_version_by_alias(name, alias)
    if len(segments) != 2:
        raise InvalidParameterValue(
            f"Model URI {uri!r} must look like models:/<name>/<version>, "
            "models:/<name>/<stage>, models:/<name>/latest or models:/<name>@<alias>."
        )
    name, ref = segments
    if ref.isdigit():
        return client.get_model_version(name, ref)
    stages = [] if ref.lower() == "latest" else [ref]
    found = client.get_latest_versions(name, stages)
    if not found:
        raise ResourceDoesNotExist(
            f"Registered model {name!r} has no version in stage {ref!r}."
        )
    return max(found, key=lambda version: int(version.version))
