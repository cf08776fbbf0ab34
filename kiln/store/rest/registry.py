"""The model registry half of the REST store: one MLflow registry call per
method, under ``/api/2.0/mlflow/registered-models`` and ``/model-versions``.

The registry's history, rolling an alias back, and a reason for setting an
alias or changing a stage have no MLflow endpoint: they use Kiln's own,
under ``/api/2.0/kiln/``, which only a Kiln server answers. The server
records who made a change from the request, so no ``user_id`` is sent.

Calls that leave the same state when repeated (reads, searches, setting a
tag or alias, deleting a tag or alias, which MLflow answers 200 even when
missing) may be retried after a passing failure; creating, renaming and
deleting a model or version may not, nor may rolling an alias back.
"""

from __future__ import annotations

from collections.abc import Sequence

from kiln.entities import (
    ModelVersion,
    ModelVersionTag,
    PagedList,
    RegisteredModel,
    RegisteredModelTag,
    RegistryHistoryEntry,
)
from kiln.errors import KilnError, NotImplementedFeature
from kiln.store.base import (
    REGISTRY_HISTORY_DEFAULT,
    SEARCH_MODEL_VERSIONS_DEFAULT,
    SEARCH_REGISTERED_MODELS_DEFAULT,
)
from kiln.store.rest.http import RestClient
from kiln.wire import JSONObject, Message, tags_to_list
from kiln.wire.history import history_entry_from_dict
from kiln.wire.registry import model_version_from_dict, registered_model_from_dict

__all__ = ["RestRegistry"]

_MODELS = "/api/2.0/mlflow/registered-models"
_VERSIONS = "/api/2.0/mlflow/model-versions"
_KILN_MODELS = "/api/2.0/kiln/registered-models"
_KILN_VERSIONS = "/api/2.0/kiln/model-versions"


def _model(answer: JSONObject) -> RegisteredModel:
    msg = Message(answer).message("registered_model", required=True)
    return registered_model_from_dict(msg)


def _version(answer: JSONObject) -> ModelVersion:
    return model_version_from_dict(
        Message(answer).message("model_version", required=True)
    )


class RestRegistry:
    """The :class:`~kiln.store.base.RegistryStore` methods of the REST store."""

    http: RestClient

    def _call(
        self, method: str, path: str, fields: JSONObject, *, idempotent: bool
    ) -> JSONObject:
        return self.http.call(method, path, fields, idempotent=idempotent)

    def _kiln_call(
        self, method: str, path: str, fields: JSONObject, *, idempotent: bool
    ) -> JSONObject:
        try:
            return self.http.call(method, path, fields, idempotent=idempotent)
        except KilnError as error:
            if error.error_code != "ENDPOINT_NOT_FOUND":
                raise
            raise NotImplementedFeature(
                f"The tracking server at {self.http.base_url!r} has no {method} "
                f"{path}; registry history, rollback and reasons need a Kiln "
                "server."
            ) from error

    # -- registered models --------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] = (),
        description: str | None = None,
        *,
        user_id: str | None = None,
    ) -> RegisteredModel:
        fields = {
            "name": name,
            "tags": tags_to_list({t.key: t.value for t in tags}),
            "description": description,
        }
        return _model(self._call("POST", f"{_MODELS}/create", fields, idempotent=False))

    def get_registered_model(self, name: str) -> RegisteredModel:
        fields = {"name": name}
        return _model(self._call("GET", f"{_MODELS}/get", fields, idempotent=True))

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        fields = {"name": name, "new_name": new_name}
        return _model(self._call("POST", f"{_MODELS}/rename", fields, idempotent=False))

    def update_registered_model(
        self, name: str, description: str | None
    ) -> RegisteredModel:
        fields = {"name": name, "description": description}
        return _model(self._call("PATCH", f"{_MODELS}/update", fields, idempotent=True))

    def delete_registered_model(self, name: str) -> None:
        self._call("DELETE", f"{_MODELS}/delete", {"name": name}, idempotent=False)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODELS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        fields = {
            "filter": filter_string or None,
            "max_results": max_results,
            "order_by": list(order_by or ()),
            "page_token": page_token,
        }
        answer = self._call("GET", f"{_MODELS}/search", fields, idempotent=True)
        msg = Message(answer)
        models = [
            registered_model_from_dict(m) for m in msg.messages("registered_models")
        ]
        return PagedList(models, msg.string("next_page_token") or None)

    def set_registered_model_tag(self, name: str, tag: RegisteredModelTag) -> None:
        fields = {"name": name, "key": tag.key, "value": tag.value}
        self._call("POST", f"{_MODELS}/set-tag", fields, idempotent=True)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        fields = {"name": name, "key": key}
        self._call("DELETE", f"{_MODELS}/delete-tag", fields, idempotent=True)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] = ()
    ) -> list[ModelVersion]:
        fields = {"name": name, "stages": list(stages)}
        answer = self._call(
            "POST", f"{_MODELS}/get-latest-versions", fields, idempotent=True
        )
        return [
            model_version_from_dict(v)
            for v in Message(answer).messages("model_versions")
        ]

    # -- aliases ------------------------------------------------------------
    def set_registered_model_alias(
        self,
        name: str,
        alias: str,
        version: str,
        *,
        reason: str | None = None,
        user_id: str | None = None,
    ) -> None:
        fields = {"name": name, "alias": alias, "version": version}
        if reason is None:
            self._call("POST", f"{_MODELS}/alias", fields, idempotent=True)
            return
        fields["reason"] = reason
        self._kiln_call("POST", f"{_KILN_MODELS}/alias", fields, idempotent=True)

    def delete_registered_model_alias(
        self, name: str, alias: str, *, user_id: str | None = None
    ) -> None:
        fields = {"name": name, "alias": alias}
        self._call("DELETE", f"{_MODELS}/alias", fields, idempotent=True)

    def rollback_alias(
        self,
        name: str,
        alias: str,
        *,
        reason: str | None = None,
        user_id: str | None = None,
    ) -> ModelVersion:
        fields = {"name": name, "alias": alias, "reason": reason}
        # Not repeatable: a second roll back would move the alias again.
        path = f"{_KILN_MODELS}/alias/rollback"
        return _version(self._kiln_call("POST", path, fields, idempotent=False))

    def get_registry_history(
        self,
        name: str,
        alias: str | None = None,
        kind: str | None = None,
        max_results: int = REGISTRY_HISTORY_DEFAULT,
        page_token: str | None = None,
    ) -> PagedList[RegistryHistoryEntry]:
        fields = {
            "name": name,
            "alias": alias,
            "kind": kind,
            "max_results": max_results,
            "page_token": page_token,
        }
        path = f"{_KILN_MODELS}/history"
        msg = Message(self._kiln_call("GET", path, fields, idempotent=True))
        entries = [history_entry_from_dict(e) for e in msg.messages("history")]
        return PagedList(entries, msg.string("next_page_token") or None)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        fields = {"name": name, "alias": alias}
        return _version(self._call("GET", f"{_MODELS}/alias", fields, idempotent=True))

    # -- model versions -----------------------------------------------------
    def create_model_version(
        self,
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
        fields = {
            "name": name,
            "source": source,
            "run_id": run_id,
            "tags": tags_to_list({t.key: t.value for t in tags}),
            "run_link": run_link,
            "description": description,
            "model_id": model_id,
        }
        # Not repeatable: a second create makes a second version.
        return _version(
            self._call("POST", f"{_VERSIONS}/create", fields, idempotent=False)
        )

    def get_model_version(self, name: str, version: str) -> ModelVersion:
        fields = {"name": name, "version": version}
        return _version(self._call("GET", f"{_VERSIONS}/get", fields, idempotent=True))

    def update_model_version(
        self, name: str, version: str, description: str | None
    ) -> ModelVersion:
        fields = {"name": name, "version": version, "description": description}
        return _version(
            self._call("PATCH", f"{_VERSIONS}/update", fields, idempotent=True)
        )

    def delete_model_version(
        self, name: str, version: str, *, user_id: str | None = None
    ) -> None:
        fields = {"name": name, "version": version}
        self._call("DELETE", f"{_VERSIONS}/delete", fields, idempotent=False)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSIONS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        fields = {
            "filter": filter_string or None,
            "max_results": max_results,
            "order_by": list(order_by or ()),
            "page_token": page_token,
        }
        answer = self._call("GET", f"{_VERSIONS}/search", fields, idempotent=True)
        msg = Message(answer)
        versions = [model_version_from_dict(v) for v in msg.messages("model_versions")]
        return PagedList(versions, msg.string("next_page_token") or None)

    def set_model_version_tag(
        self, name: str, version: str, tag: ModelVersionTag
    ) -> None:
        fields = {"name": name, "version": version, "key": tag.key, "value": tag.value}
        self._call("POST", f"{_VERSIONS}/set-tag", fields, idempotent=True)

    def delete_model_version_tag(self, name: str, version: str, key: str) -> None:
        fields = {"name": name, "version": version, "key": key}
        self._call("DELETE", f"{_VERSIONS}/delete-tag", fields, idempotent=True)

    def get_model_version_download_uri(self, name: str, version: str) -> str:
        fields = {"name": name, "version": version}
        answer = self._call(
            "GET", f"{_VERSIONS}/get-download-uri", fields, idempotent=True
        )
        return Message(answer).string("artifact_uri", required=True)

    def transition_model_version_stage(
        self,
        name: str,
        version: str,
        stage: str,
        archive_existing_versions: bool = False,
        *,
        reason: str | None = None,
        user_id: str | None = None,
    ) -> ModelVersion:
        fields: JSONObject = {
            "name": name,
            "version": version,
            "stage": stage,
            "archive_existing_versions": archive_existing_versions,
        }
        if reason is None:
            path = f"{_VERSIONS}/transition-stage"
            return _version(self._call("POST", path, fields, idempotent=True))
        fields["reason"] = reason
        path = f"{_KILN_VERSIONS}/transition-stage"
        return _version(self._kiln_call("POST", path, fields, idempotent=True))
