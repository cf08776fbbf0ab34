"""Choosing the experiment fluent runs go to, and finding experiments.

The experiment of a new run is, in order: the ``experiment_id`` passed to
``start_run``, the one chosen with :func:`set_experiment`, the
``KILN_EXPERIMENT_ID``/``KILN_EXPERIMENT_NAME`` variables, then
``MLFLOW_EXPERIMENT_ID``/``MLFLOW_EXPERIMENT_NAME``, and finally the
``Default`` experiment (id ``"0"``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from kiln.entities import Experiment, LifecycleStage, ViewType
from kiln.errors import InvalidParameterValue, ResourceAlreadyExists
from kiln.store.base import SEARCH_EXPERIMENTS_MAX
from kiln.tracking import active
from kiln.tracking.client import KilnClient

__all__ = [
    "DEFAULT_EXPERIMENT_ID",
    "create_experiment",
    "get_experiment",
    "get_experiment_by_name",
    "resolve_experiment_id",
    "search_experiments",
    "set_experiment",
]

DEFAULT_EXPERIMENT_ID = "0"

# Kiln's variables are consulted before MLflow's; within each, the id wins
# over the name because set_experiment always exports both consistently.
_ENV_ORDER = (
    ("KILN_EXPERIMENT_ID", "KILN_EXPERIMENT_NAME"),
    ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME"),
)


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment the current one, creating it by name if missing.

    Also exports ``KILN_EXPERIMENT_ID``/``_NAME`` and their ``MLFLOW_`` twins so
    subprocesses log to the same experiment. Raises InvalidParameterValue for
    a deleted experiment (restore it first) or when neither or both of
    name and id are given; ResourceDoesNotExist for an unknown id.
    """
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidParameterValue(
            "Pass exactly one of experiment_name and experiment_id to "
            f"set_experiment, got {experiment_name!r} and {experiment_id!r}."
        )
    client = KilnClient()
    if experiment_id is not None:
        experiment = client.get_experiment(str(experiment_id))
    else:
        experiment = _get_or_create(client, str(experiment_name))
    if experiment.lifecycle_stage == LifecycleStage.DELETED:
        raise InvalidParameterValue(
            f"Cannot use the deleted experiment {experiment.name!r} (id "
            f"{experiment.experiment_id!r}); restore it with "
            "KilnClient().restore_experiment() or choose another name."
        )

    active.set_active_experiment(client.tracking_uri, experiment.experiment_id)
    for prefix in ("KILN", "MLFLOW"):
        os.environ[f"{prefix}_EXPERIMENT_ID"] = experiment.experiment_id
        os.environ[f"{prefix}_EXPERIMENT_NAME"] = experiment.name
    return experiment


def _get_or_create(client: KilnClient, name: str) -> Experiment:
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment
    try:
        return client.get_experiment(client.create_experiment(name))
    except ResourceAlreadyExists:
        # Another process created it between our lookup and our insert.
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found


def resolve_experiment_id(client: KilnClient, create: bool = True) -> str | None:
    """The id of the current experiment for ``client``'s store.

    An experiment named by environment variable is created when missing if
    ``create``; otherwise None is returned for it.
    """
    chosen = active.active_experiment(client.tracking_uri)
    if chosen is not None:
        return chosen
    for id_variable, name_variable in _ENV_ORDER:
        experiment_id = os.environ.get(id_variable)
        if experiment_id:
            return experiment_id
        name = os.environ.get(name_variable)
        if name:
            experiment = client.get_experiment_by_name(name)
            if experiment is not None:
                return experiment.experiment_id
            return client.create_experiment(name) if create else None
    return DEFAULT_EXPERIMENT_ID


def create_experiment(
    name: str,
    artifact_location: str | None = None,
    tags: Mapping[str, object] | None = None,
) -> str:
    """Create an experiment in the current tracking store and return its id."""
    return KilnClient().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    return KilnClient().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    return KilnClient().get_experiment_by_name(name)


def search_experiments(
    view_type: ViewType | int | str = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """Every matching experiment (at most ``max_results``), across pages."""
    client = KilnClient()
    found: list[Experiment] = []
    token: str | None = None
    while max_results is None or len(found) < max_results:
        wanted = SEARCH_EXPERIMENTS_MAX
        if max_results is not None:
            wanted = min(wanted, max_results - len(found))
        page = client.search_experiments(
            view_type, wanted, filter_string, order_by, token
        )
        found.extend(page)
        token = page.token
        if not token:
            break
    return found
