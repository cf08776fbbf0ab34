"""The interface every tracking store offers.

The SQL store (SQLite or PostgreSQL) and the REST store (HTTP to a Kiln or
MLflow server) both implement :class:`TrackingStore`, so the client above
them runs unchanged embedded or remote. Methods raise Kiln's errors
(:mod:`kiln.errors`), never a driver's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from kiln.entities import (
    DatasetInput,
    DatasetSummary,
    Experiment,
    LoggedModel,
    LoggedModelDataset,
    LoggedModelInput,
    LoggedModelOrderBy,
    LoggedModelOutput,
    LoggedModelParam,
    LoggedModelTag,
    Metric,
    ModelVersion,
    ModelVersionTag,
    PagedList,
    Param,
    PromotionRule,
    RegisteredModel,
    RegisteredModelTag,
    RegistryHistoryEntry,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)

# MLflow's page limits, shared by every store so they refuse the same input.
SEARCH_RUNS_DEFAULT = 1000
SEARCH_RUNS_MAX = 50_000
SEARCH_EXPERIMENTS_DEFAULT = 1000
SEARCH_EXPERIMENTS_MAX = 50_000
METRIC_HISTORY_BULK_MAX_RUNS = 100
METRIC_HISTORY_BULK_MAX_RESULTS = 2500
SEARCH_LOGGED_MODELS_DEFAULT = 100
SEARCH_LOGGED_MODELS_MAX = 50_000
SEARCH_REGISTERED_MODELS_DEFAULT = 100
SEARCH_REGISTERED_MODELS_MAX = 1000
SEARCH_MODEL_VERSIONS_DEFAULT = 10_000
SEARCH_MODEL_VERSIONS_MAX = 200_000
REGISTRY_HISTORY_DEFAULT = 100
REGISTRY_HISTORY_MAX = 1000


@runtime_checkable
class TrackingStore(Protocol):
    """Experiments, runs and what is logged to them."""

    # -- experiments --------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[RunTag] = (),
    ) -> str:
        """Create an experiment and return its id.

        Raises ResourceAlreadyExists when the name is taken, even by a
        deleted experiment.
        """
        ...

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return the experiment, deleted or not; ResourceDoesNotExist if none."""
        ...

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """Return the experiment with this name, deleted or not, or None."""
        ...

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_EXPERIMENTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]: ...

    def rename_experiment(self, experiment_id: str, new_name: str) -> None: ...

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete the experiment and its runs."""
        ...

    def restore_experiment(self, experiment_id: str) -> None:
        """Restore a deleted experiment and the runs deleted with it."""
        ...

    def set_experiment_tag(self, experiment_id: str, tag: RunTag) -> None: ...

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None: ...

    # -- runs ---------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int | None,
        tags: Sequence[RunTag],
        run_name: str | None,
    ) -> Run:
        """Create a RUNNING run; a readable random name is chosen when none is given."""
        ...

    def get_run(self, run_id: str) -> Run: ...

    def update_run_info(
        self,
        run_id: str,
        run_status: str | None,
        end_time: int | None,
        run_name: str | None,
    ) -> RunInfo: ...

    def delete_run(self, run_id: str) -> None: ...

    def restore_run(self, run_id: str) -> None: ...

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_RUNS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]: ...

    # -- logging ------------------------------------------------------------
    def log_metric(self, run_id: str, metric: Metric) -> None: ...

    def log_param(self, run_id: str, param: Param) -> None: ...

    def set_tag(self, run_id: str, tag: RunTag) -> None: ...

    def delete_tag(self, run_id: str, key: str) -> None: ...

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Log everything in one transaction: all of it is stored, or none."""
        ...

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[LoggedModelInput] = (),
    ) -> None: ...

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None: ...

    def record_logged_model(self, run_id: str, model_json: str) -> None:
        """Append the MLmodel ``model_json`` (a JSON object) to the run's
        ``mlflow.log-model.history`` tag, as MLflow 2.x clients log models.

        The append is atomic: models logged to one run at the same time all
        stay in the list. Raises InvalidParameterValue for a ``model_json``
        that is not an MLmodel, and InvalidState when the tag holds something
        other than a JSON list.
        """
        ...

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        """Every point of one metric ordered by step then timestamp; all when
        ``max_results`` is None."""
        ...

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        """At most ``max_results`` points per run, sampled by row, first and
        last kept; each Metric carries its ``run_id``."""
        ...

    def search_datasets(
        self, experiment_ids: Sequence[str]
    ) -> list[DatasetSummary]: ...

    # -- logged models ------------------------------------------------------
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] = (),
        params: Sequence[LoggedModelParam] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a PENDING model whose artifacts go under
        ``<experiment artifact location>/models/<model_id>/artifacts``; a
        readable random name is chosen when none is given."""
        ...

    def get_logged_model(
        self, model_id: str, allow_deleted: bool = False
    ) -> LoggedModel:
        """Return the model; ResourceDoesNotExist if none (or deleted, unless
        ``allow_deleted``)."""
        ...

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        """Set the model's status (a :class:`LoggedModelStatus` name)."""
        ...

    def delete_logged_model(self, model_id: str) -> None:
        """Soft-delete the model; its files stay where they are."""
        ...

    def set_logged_model_tags(
        self, model_id: str, tags: Sequence[LoggedModelTag]
    ) -> None: ...

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove a tag; ResourceDoesNotExist when the model lacks it."""
        ...

    def log_logged_model_params(
        self, model_id: str, params: Sequence[LoggedModelParam]
    ) -> None: ...

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[LoggedModelDataset] = (),
        max_results: int = SEARCH_LOGGED_MODELS_DEFAULT,
        order_by: Sequence[LoggedModelOrderBy] = (),
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """A page of the active models of these experiments matching
        ``filter_string``; newest first unless ``order_by`` says otherwise."""
        ...


@runtime_checkable
class RunJsonSearch(Protocol):
    """A store that can answer a run search in MLflow's JSON shape directly.

    The server uses it when the store offers it: building each run's JSON
    from the database rows skips the entities in between.
    """

    def search_runs_json(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_RUNS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[dict[str, Any]]:
        """``search_runs``, each run as ``kiln.wire.run_to_dict`` writes it."""
        ...


@runtime_checkable
class MetricBatchJson(Protocol):
    """A store that can log a batch of metric points given as JSON objects.

    The server offers a ``runs/log-batch`` request's points to it first:
    points in the common shape go from the parsed body to the database
    without Metric objects in between.
    """

    def log_metrics_json(self, run_id: str, metrics: object) -> bool:
        """Log ``metrics`` (the request's list of point objects) to the run
        if every point has exactly ``key``, a float ``value``, and integer
        ``timestamp`` and ``step``, all valid; True when done. False when any
        point needs the full reading and checks: then nothing was done."""
        ...


@runtime_checkable
class MetricHistoryJson(Protocol):
    """A store that can answer a metric history in MLflow's JSON shape directly.

    The server uses it when the store offers it: a long history's points go
    from database rows to JSON objects without Metric objects in between.
    """

    def get_metric_history_json(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[dict[str, Any]]:
        """``get_metric_history``, each point as MLflow's server writes it:
        ``kiln.wire.metric_to_dict`` without the run id."""
        ...


@runtime_checkable
class RegistryStore(Protocol):
    """Registered models, their versions, stages and aliases.

    Model versions are strings of positive integers (``"1"``), numbered per
    model from 1. Unknown models and versions raise ResourceDoesNotExist;
    an unknown alias raises InvalidParameterValue, as MLflow answers.

    Every alias move and stage change is kept in the model's history with
    who made it (``user_id``) and why (``reason``), when given. A store that
    keeps the registry itself records the ``user_id`` it is passed; a store
    in front of a server sends none, as the server records the user that
    the request came from.
    """

    # -- registered models --------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] = (),
        description: str | None = None,
        *,
        user_id: str | None = None,
    ) -> RegisteredModel:
        """Create a model; ResourceAlreadyExists when the name is taken."""
        ...

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model with its latest version per stage, tags and aliases."""
        ...

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename the model; versions, tags and aliases follow."""
        ...

    def update_registered_model(
        self, name: str, description: str | None
    ) -> RegisteredModel: ...

    def delete_registered_model(self, name: str) -> None:
        """Delete the model and all its versions for good."""
        ...

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODELS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]: ...

    def set_registered_model_tag(self, name: str, tag: RegisteredModelTag) -> None: ...

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove a tag; a key the model lacks is no error."""
        ...

    def get_latest_versions(
        self, name: str, stages: Sequence[str] = ()
    ) -> list[ModelVersion]:
        """The highest version in each of ``stages`` (every stage when empty)."""
        ...

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
        """Point ``alias`` at ``version``, moving it from any other version.

        ``latest`` and ``v<digits>`` (any case) are reserved.
        """
        ...

    def delete_registered_model_alias(
        self, name: str, alias: str, *, user_id: str | None = None
    ) -> None:
        """Remove the alias; an alias the model lacks is no error."""
        ...

    def rollback_alias(
        self,
        name: str,
        alias: str,
        *,
        reason: str | None = None,
        user_id: str | None = None,
    ) -> ModelVersion:
        """Point ``alias`` back at the version it held before its current one
        and return that version; moves from versions deleted since are passed
        over. Rolling back twice returns to the first version.

        InvalidParameterValue when the history holds no such version.
        """
        ...

    def get_registry_history(
        self,
        name: str,
        alias: str | None = None,
        kind: str | None = None,
        max_results: int = REGISTRY_HISTORY_DEFAULT,
        page_token: str | None = None,
    ) -> PagedList[RegistryHistoryEntry]:
        """A page of the model's alias moves and stage changes, newest first.

        ``kind`` (``alias`` or ``stage``) keeps one kind of entry; ``alias``
        keeps that alias's moves. The history of an unknown model is
        ResourceDoesNotExist.
        """
        ...

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...

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
        """Add version highest + 1, READY.

        A local, ``file:``, ``mlflow-artifacts:`` or ``runs:/`` source must
        lie under the artifact root of ``run_id`` or ``model_id``;
        ``models:/m-…`` must name ``model_id``.
        """
        ...

    def get_model_version(self, name: str, version: str) -> ModelVersion: ...

    def update_model_version(
        self, name: str, version: str, description: str | None
    ) -> ModelVersion: ...

    def delete_model_version(
        self, name: str, version: str, *, user_id: str | None = None
    ) -> None:
        """Delete the version; the aliases pointing at it go too, and the
        history records them as removed."""
        ...

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSIONS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]: ...

    def set_model_version_tag(
        self, name: str, version: str, tag: ModelVersionTag
    ) -> None: ...

    def delete_model_version_tag(self, name: str, version: str, key: str) -> None:
        """Remove a tag; a key the version lacks is no error."""
        ...

    def get_model_version_download_uri(self, name: str, version: str) -> str:
        """Where the version's files are stored."""
        ...

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
        """Move the version to ``stage`` (case-insensitive); with
        ``archive_existing_versions`` (Staging and Production only) the others
        in that stage become Archived."""
        ...


@runtime_checkable
class PromotionRuleStore(Protocol):
    """Promotion rules: the condition guarding an alias of a registered model.

    A rule is a run filter (``metrics.val_auc >= 0.9 AND tags.validated =
    'true'``) that the source run of a version must meet before the alias
    points at it; ``current.metrics.<key>`` and the like on the right of a
    comparison name the values of the version the alias points at now. Every
    move of a guarded alias (set, move, roll back) is refused with
    InvalidParameterValue, naming each failing condition, unless the rule
    holds; removing the alias is not guarded.
    """

    def set_promotion_rule(
        self, name: str, alias: str, rule: str, *, user_id: str | None = None
    ) -> PromotionRule:
        """Guard ``alias`` with ``rule``, replacing any rule it had.

        InvalidParameterValue when the rule does not parse (naming the
        token) or the alias is malformed; ResourceDoesNotExist for an
        unknown model.
        """
        ...

    def get_promotion_rule(self, name: str, alias: str) -> PromotionRule:
        """The alias's rule; ResourceDoesNotExist when it has none."""
        ...

    def delete_promotion_rule(self, name: str, alias: str) -> None:
        """Remove the alias's rule; a rule the alias lacks is no error."""
        ...

    def list_promotion_rules(self, name: str) -> list[PromotionRule]:
        """Every rule of the model, by alias."""
        ...
