"""The explicit tracking API: every operation takes the ids it works on.

:class:`KilnClient` is what the fluent API (``kiln.log_metric`` …) calls
underneath, and what programs use when they juggle several runs or
experiments at once. It converts Python values the way MLflow's client does
(param and tag values ``str()``-ed, metric values made ``float``, times in
ms since the epoch) and leaves validation to the store, so each value is
checked exactly once.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kiln.artifacts.base import Repository
from kiln.entities import (
    DatasetInput,
    Experiment,
    FileInfo,
    Metric,
    PagedList,
    Param,
    Run,
    RunStatus,
    RunTag,
    ViewType,
)
from kiln.errors import InvalidParameterValue
from kiln.store.base import (
    SEARCH_EXPERIMENTS_DEFAULT,
    SEARCH_RUNS_DEFAULT,
    TrackingStore,
)
from kiln.tracking import artifact_files, batching
from kiln.tracking.batches import split_batch
from kiln.tracking.config import get_tracking_uri
from kiln.tracking.context import TAG_RUN_NAME, TAG_USER, current_user
from kiln.tracking.promotion_rules import PromotionRuleClient
from kiln.tracking.registry import RegistryClient
from kiln.tracking.stores import get_store

__all__ = ["KilnClient", "now_ms", "to_metric_value"]


def now_ms() -> int:
    """The current time in milliseconds since the epoch."""
    return int(time.time() * 1000)


def to_metric_value(key: str, value: object) -> float:
    """Convert a number-like value (int, numpy scalar, 0-d tensor) to float.

    Float subclasses such as ``numpy.float64`` become plain floats too, so
    stores and drivers only ever see the built-in type.
    """
    if type(value) is float:
        return value
    if isinstance(value, bool | str | bytes) or value is None:
        raise InvalidParameterValue(
            f"The value of metric {key!r} must be a number, got {value!r}."
        )
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidParameterValue(
            f"The value of metric {key!r} must be a number, got {value!r}."
        ) from exc


def _tags(tags: Mapping[str, object] | None) -> list[RunTag]:
    return [RunTag(key, str(value)) for key, value in (tags or {}).items()]


def _experiment_ids(experiment_ids: str | Iterable[str]) -> list[str]:
    if isinstance(experiment_ids, str):
        return [experiment_ids]
    return [str(experiment_id) for experiment_id in experiment_ids]


class KilnClient(RegistryClient, PromotionRuleClient):
    """Talk to one tracking store: the one ``tracking_uri`` names, or the
    current tracking URI (see :func:`kiln.get_tracking_uri`) when omitted.

    Errors are Kiln's (:mod:`kiln.errors`): ResourceDoesNotExist for an
    unknown id, InvalidParameterValue for refused input, and so on.
    """

    def __init__(
        self, tracking_uri: str | None = None, store: TrackingStore | None = None
    ) -> None:
        self.tracking_uri = tracking_uri or get_tracking_uri()
        store = store if store is not None else get_store(self.tracking_uri)
        # Against a server, metrics, params and tags are sent in the background.
        self.store = batching.wrap(store)
        self._artifact_uris: dict[str, str] = {}

    # -- experiments --------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> str:
        """Create an experiment and return its id; ResourceAlreadyExists if the
        name is taken, even by a deleted experiment."""
        return self.store.create_experiment(name, artifact_location, _tags(tags))

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name, deleted or not, or None."""
        return self.store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: ViewType | int | str = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_EXPERIMENTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """One page of experiments; pass ``token`` of a page to get the next."""
        return self.store.search_experiments(
            ViewType.parse(view_type), max_results, filter_string, order_by, page_token
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.store.rename_experiment(str(experiment_id), new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete an experiment and its runs; restore_experiment undoes it."""
        self.store.delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        self.store.restore_experiment(str(experiment_id))

    def set_experiment_tag(self, experiment_id: str, key: str, value: object) -> None:
        self.store.set_experiment_tag(str(experiment_id), RunTag(key, str(value)))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self.store.delete_experiment_tag(str(experiment_id), key)

    # -- runs ---------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, object] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Start a RUNNING run in the experiment and return it.

        The user is the ``mlflow.user`` tag when given, else the login name.
        Without a name the store picks a readable random one.
        """
        run_tags = _tags(tags)
        given = {tag.key: tag.value for tag in run_tags}
        if run_name is None:
            run_name = given.get(TAG_RUN_NAME)
        elif TAG_RUN_NAME not in given:
            run_tags.append(RunTag(TAG_RUN_NAME, run_name))
        return self.store.create_run(
            str(experiment_id),
            given.get(TAG_USER) or current_user(),
            now_ms() if start_time is None else int(start_time),
            run_tags,
            run_name,
        )

    def get_run(self, run_id: str) -> Run:
        """The run with its latest metrics, params, tags and inputs."""
        return self.store.get_run(run_id)

    def update_run(
        self, run_id: str, status: str | None = None, name: str | None = None
    ) -> None:
        """Change a run's status or name (the ``mlflow.runName`` tag follows)."""
        self.store.update_run_info(run_id, status, None, name)

    def set_terminated(
        self, run_id: str, status: str = RunStatus.FINISHED, end_time: int | None = None
    ) -> None:
        """End a run with ``status`` (FINISHED, FAILED or KILLED) at ``end_time``.

        Against a server, logging still queued for the run is sent first, and
        what the server refused is raised once the run has ended.
        """
        end = now_ms() if end_time is None else int(end_time)
        self.store.update_run_info(run_id, status, end, None)

    def delete_run(self, run_id: str) -> None:
        self.store.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self.store.restore_run(run_id)

    def search_runs(
        self,
        experiment_ids: str | Iterable[str],
        filter_string: str = "",
        run_view_type: ViewType | int | str = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_RUNS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """One page of runs matching an MLflow filter such as
        ``"metrics.loss < 0.1 and params.model = 'cnn'"``."""
        return self.store.search_runs(
            _experiment_ids(experiment_ids),
            filter_string,
            ViewType.parse(run_view_type),
            max_results,
            order_by,
            page_token,
        )

    # -- logging ------------------------------------------------------------
    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
    ) -> None:
        """Log one point of a metric; ``step`` defaults to 0, ``timestamp`` to now."""
        metric = Metric(
            key,
            value if type(value) is float else to_metric_value(key, value),
            now_ms() if timestamp is None else int(timestamp),
            0 if step is None else int(step),
        )
        self.store.log_metric(run_id, metric)

    def log_param(self, run_id: str, key: str, value: object) -> Any:
        """Log a param (stored as ``str(value)``) and return ``value``.

        Logging the same value again is fine; a different one is refused.
        """
        self.store.log_param(run_id, Param(key, str(value)))
        return value

    def set_tag(self, run_id: str, key: str, value: object) -> None:
        self.store.set_tag(run_id, RunTag(key, str(value)))

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag; ResourceDoesNotExist when the run has no such tag."""
        self.store.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Log many items at once, in as many requests as the limits need.

        Each request is all-or-nothing; a call split into several is not.
        """
        for batch in split_batch(metrics, params, tags):
            self.store.log_batch(run_id, batch.metrics, batch.params, batch.tags)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of a metric, ordered by step then timestamp."""
        # A SQL store answers in one query; a server store in pages of its own.
        return list(self.store.get_metric_history(run_id, key, None))

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Record datasets the run used (see :func:`kiln.log_input`)."""
        self.store.log_inputs(run_id, datasets)

    # -- artifacts ----------------------------------------------------------
    def _artifact_root(self, run_id: str) -> str:
        # A run's artifact URI never changes, so it is fetched once.
        uri = self._artifact_uris.get(run_id)
        if uri is None:
            uri = self.store.get_run(run_id).info.artifact_uri
            self._artifact_uris[run_id] = uri
        return uri

    def _repository(self, run_id: str) -> Repository:
        from kiln.artifacts import get_repository

        # A REST store lends its server connection, so mlflow-artifacts:/
        # roots resolve against the server the run came from.
        http = getattr(self.store, "http", None)
        return get_repository(
            self._artifact_root(run_id), tracking_uri=self.tracking_uri, http=http
        )

    def get_artifact_uri(self, run_id: str, artifact_path: str | None = None) -> str:
        """The URI of the run's artifact root, or of a path under it."""
        root = self._artifact_root(run_id).rstrip("/")
        return f"{root}/{artifact_path.lstrip('/')}" if artifact_path else root

    def log_artifact(
        self, run_id: str, local_path: str | Path, artifact_path: str | None = None
    ) -> None:
        """Copy a local file into the run's artifacts, under ``artifact_path``."""
        self._repository(run_id).log_artifact(local_path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | Path, artifact_path: str | None = None
    ) -> None:
        """Copy a local folder's contents into the run's artifacts."""
        self._repository(run_id).log_artifacts(local_dir, artifact_path)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """The files and folders directly under ``path`` (the root by default)."""
        return self._repository(run_id).list_artifacts(path)

    def download_artifacts(
        self, run_id: str, path: str, dst_path: str | Path | None = None
    ) -> str:
        """Download an artifact file or folder; return the local path."""
        return self._repository(run_id).download_artifacts(path, dst_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Save ``text`` as the artifact ``artifact_file`` (e.g. ``notes/a.txt``)."""
        folder, name = artifact_files.split_artifact_file(artifact_file)
        with tempfile.TemporaryDirectory() as tmp:
            path = artifact_files.write_text(Path(tmp), name, text)
            self.log_artifact(run_id, path, folder)

    def log_dict(
        self, run_id: str, dictionary: Mapping[str, Any], artifact_file: str
    ) -> None:
        """Save a dictionary as JSON, or YAML when the name ends in .yaml/.yml."""
        folder, name = artifact_files.split_artifact_file(artifact_file)
        with tempfile.TemporaryDirectory() as tmp:
            path = artifact_files.write_dict(Path(tmp), name, dictionary)
            self.log_artifact(run_id, path, folder)

    def log_figure(self, run_id: str, figure: object, artifact_file: str) -> None:
        """Save a matplotlib (or plotly) figure in the format the name implies."""
        folder, name = artifact_files.split_artifact_file(artifact_file)
        with tempfile.TemporaryDirectory() as tmp:
            path = artifact_files.write_figure(Path(tmp), name, figure)
            self.log_artifact(run_id, path, folder)
