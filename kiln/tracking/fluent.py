"""The fluent API: ``kiln.start_run()``, ``kiln.log_metric()`` and friends.

Each function works on the active run (see :mod:`kiln.tracking.active`),
starting one in the current experiment when none is active, and goes through
the run's :class:`~kiln.tracking.client.KilnClient`. Logging a metric costs
one lookup of the active run and the store call itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from kiln.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    Metric,
    ModelVersion,
    Param,
    Run,
    RunStatus,
    RunTag,
    ViewType,
)
from kiln.errors import InvalidParameterValue
from kiln.tracking import active, registry, runs
from kiln.tracking.active import ActiveRun
from kiln.tracking.client import KilnClient, now_ms, to_metric_value
from kiln.tracking.config import get_tracking_uri, set_tracking_uri
from kiln.tracking.experiments import (
    create_experiment,
    get_experiment,
    get_experiment_by_name,
    search_experiments,
    set_experiment,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ActiveRun",
    "active_run",
    "create_experiment",
    "delete_tag",
    "end_run",
    "flush",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "register_model",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]

_CONTEXT_TAG = "mlflow.data.context"


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: Mapping[str, object] | None = None,
    description: str | None = None,
) -> ActiveRun:
    """Start a run, or resume ``run_id``, and make it the active run.

    Use it as a context manager to end the run when the block ends::

        with kiln.start_run(run_name="baseline"):
            kiln.log_metric("loss", 0.25)

    Without ``run_id``, ``KILN_RUN_ID``/``MLFLOW_RUN_ID`` name a run to resume
    unless a run is already active or ``parent_run_id`` is given. While a run
    is active a new one needs ``nested=True`` (or ``parent_run_id``), else
    InvalidState is raised.
    """
    return runs.start(
        KilnClient(),
        run_id=run_id,
        experiment_id=experiment_id,
        run_name=run_name,
        nested=nested,
        parent_run_id=parent_run_id,
        tags=tags,
        description=description,
    )


def end_run(status: str = RunStatus.FINISHED) -> None:
    """End the innermost active run with ``status``; nothing if none is active."""
    current = active.top()
    if current is not None:
        active.end(current, status)


def active_run() -> ActiveRun | None:
    """The innermost active run, or None."""
    return active.top()


def last_active_run() -> Run | None:
    """The active run, else the run that was active last, as stored now."""
    current = active.top()
    if current is not None:
        return current.client.get_run(current.run_id)
    last = active.last_run()
    return None if last is None else last.client.get_run(last.run_id)


def get_run(run_id: str) -> Run:
    """Fetch any run by id from the current tracking store."""
    return KilnClient().get_run(run_id)


def register_model(
    model_uri: str, name: str, tags: Mapping[str, object] | None = None
) -> ModelVersion:
    """Register the model at ``model_uri`` (``runs:/<run_id>/<name>``,
    ``models:/m-…`` or an artifact URI) as the next version of the
    registered model ``name``, creating it when needed."""
    return registry.register_model(KilnClient(), model_uri, name, tags)


def flush() -> None:
    """Wait until logging queued for background delivery has reached the store.

    Embedded stores write synchronously, so this returns at once; with
    background batching to a server it blocks until the queue is empty, and
    raises the Kiln error of any batch the server refused since the last
    flush (naming the run and the keys).
    """
    active.flush_pending_logging()


def _current() -> ActiveRun:
    current = active.top()
    return current if current is not None else start_run()


def _target(run_id: str | None) -> tuple[KilnClient, str]:
    if run_id is None:
        current = _current()
        return current.client, current.run_id
    return KilnClient(), run_id


# -- logging ----------------------------------------------------------------
def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
) -> None:
    """Log one point of a metric to the active run (or ``run_id``).

    ``step`` defaults to 0 and ``timestamp`` (ms) to now. Called in training
    loops, so it costs one look at the active-run stack and the store call.
    """
    stack = active.stack()
    if stack and run_id is None:
        current = stack[-1]
        current.client.log_metric(current.run_id, key, value, timestamp, step)
    else:
        client, run_id = _target(run_id)
        client.log_metric(run_id, key, value, timestamp, step)


def log_metrics(
    metrics: Mapping[str, float],
    step: int | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
) -> None:
    """Log several metrics at the same step and time, in one batch."""
    client, run_id = _target(run_id)
    when = now_ms() if timestamp is None else int(timestamp)
    at = 0 if step is None else int(step)
    points = [
        Metric(key, to_metric_value(key, value), when, at)
        for key, value in metrics.items()
    ]
    client.log_batch(run_id, metrics=points)


def log_param(key: str, value: object, run_id: str | None = None) -> Any:
    """Log a param (stored as ``str(value)``) and return ``value``."""
    client, run_id = _target(run_id)
    return client.log_param(run_id, key, value)


def log_params(params: Mapping[str, object], run_id: str | None = None) -> None:
    """Log several params in one batch."""
    client, run_id = _target(run_id)
    items = [Param(key, str(value)) for key, value in params.items()]
    client.log_batch(run_id, params=items)


def set_tag(key: str, value: object, run_id: str | None = None) -> None:
    client, run_id = _target(run_id)
    client.set_tag(run_id, key, value)


def set_tags(tags: Mapping[str, object], run_id: str | None = None) -> None:
    """Set several tags in one batch."""
    client, run_id = _target(run_id)
    items = [RunTag(key, str(value)) for key, value in tags.items()]
    client.log_batch(run_id, tags=items)


def delete_tag(key: str, run_id: str | None = None) -> None:
    client, run_id = _target(run_id)
    client.delete_tag(run_id, key)


class DatasetLike(Protocol):
    """Anything that describes itself as a dataset record, such as the
    datasets of :mod:`kiln.data`."""

    def to_entity(self) -> Dataset: ...


def log_input(
    dataset: DatasetLike | Dataset,
    context: str | None = None,
    tags: Mapping[str, object] | None = None,
    run_id: str | None = None,
) -> None:
    """Record that the run used ``dataset`` (from :mod:`kiln.data`, or a
    :class:`kiln.entities.Dataset`); ``context`` says how, e.g. ``"training"``."""
    to_entity = getattr(dataset, "to_entity", None)
    entity = to_entity() if callable(to_entity) else dataset
    if not isinstance(entity, Dataset):
        raise InvalidParameterValue(
            f"Cannot log {type(dataset).__name__!r} as an input; expected a dataset "
            "from kiln.data (e.g. kiln.data.from_pandas) or a kiln.entities.Dataset."
        )
    input_tags = [InputTag(key, str(value)) for key, value in (tags or {}).items()]
    if context is not None:
        input_tags.insert(0, InputTag(_CONTEXT_TAG, context))
    client, run_id = _target(run_id)
    client.log_inputs(run_id, [DatasetInput(entity, tuple(input_tags))])


# -- artifacts --------------------------------------------------------------
def log_artifact(
    local_path: str | Path, artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Copy a local file into the active run's artifacts."""
    client, run_id = _target(run_id)
    client.log_artifact(run_id, local_path, artifact_path)


def log_artifacts(
    local_dir: str | Path, artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Copy a local folder's contents into the active run's artifacts."""
    client, run_id = _target(run_id)
    client.log_artifacts(run_id, local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    """Save ``text`` as the artifact ``artifact_file``."""
    client, run_id = _target(run_id)
    client.log_text(run_id, text, artifact_file)


def log_dict(
    dictionary: Mapping[str, Any], artifact_file: str, run_id: str | None = None
) -> None:
    """Save a dictionary as JSON, or YAML for a ``.yaml``/``.yml`` name."""
    client, run_id = _target(run_id)
    client.log_dict(run_id, dictionary, artifact_file)


def log_figure(figure: object, artifact_file: str, run_id: str | None = None) -> None:
    """Save a matplotlib (or plotly) figure as the artifact ``artifact_file``."""
    client, run_id = _target(run_id)
    client.log_figure(run_id, figure, artifact_file)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The artifact URI of the active run, or of a path under it."""
    current = _current()
    return current.client.get_artifact_uri(current.run_id, artifact_path)


# -- search -----------------------------------------------------------------
def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: ViewType | int | str = ViewType.ACTIVE_ONLY,
    max_results: int = 100_000,
    order_by: Sequence[str] | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> pd.DataFrame | list[Run]:
    """Find runs; a pandas DataFrame like MLflow's, or a list of Run.

    Searches ``experiment_ids``, or the experiments named in
    ``experiment_names`` (unknown names are skipped), or every active
    experiment with ``search_all_experiments``, or else the current one.
    """
    return runs.search(
        KilnClient(),
        experiment_ids=experiment_ids,
        filter_string=filter_string,
        run_view_type=run_view_type,
        max_results=max_results,
        order_by=order_by,
        output_format=output_format,
        search_all_experiments=search_all_experiments,
        experiment_names=experiment_names,
    )
