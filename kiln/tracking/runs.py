"""Starting, resuming and searching runs for the fluent API.

``start`` decides between resuming a run and creating one (nested or not)
and pushes it on the active-run stack; ``search`` pages through a search
and shapes the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from kiln.entities import LifecycleStage, Run, RunStatus, RunTag, ViewType
from kiln.errors import InvalidParameterValue, InvalidState
from kiln.store.base import SEARCH_RUNS_MAX
from kiln.tracking import active
from kiln.tracking.active import ActiveRun
from kiln.tracking.client import KilnClient
from kiln.tracking.config import ENV_RUN_ID, read_env
from kiln.tracking.context import TAG_NOTE, TAG_PARENT_RUN_ID, default_run_tags
from kiln.tracking.experiments import resolve_experiment_id, search_experiments

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["search", "start"]


def start(
    client: KilnClient,
    run_id: str | None,
    experiment_id: str | None,
    run_name: str | None,
    nested: bool,
    parent_run_id: str | None,
    tags: Mapping[str, object] | None,
    description: str | None,
) -> ActiveRun:
    """Resume or create a run and make it the active one (see ``kiln.start_run``)."""
    with active.lock:
        current = active.top()
        _check_can_start(current, nested, parent_run_id)

        # A run id from the environment (set by ``kiln run``) is for the
        # top-level run; an explicit parent means the caller wants a new child.
        if run_id is None and current is None and parent_run_id is None:
            run_id = read_env(ENV_RUN_ID)
        extra = {str(key): str(value) for key, value in (tags or {}).items()}
        if description is not None:
            extra[TAG_NOTE] = description

        if run_id is not None:
            run = _resume(client, run_id, experiment_id, run_name, extra)
        else:
            parent = parent_run_id or (current.run_id if current else None)
            run = _create(client, experiment_id, run_name, parent, extra)
        return active.push(ActiveRun(run, client))


def _check_can_start(
    current: ActiveRun | None, nested: bool, parent_run_id: str | None
) -> None:
    if current is None:
        return
    if parent_run_id is not None and parent_run_id != current.run_id:
        raise InvalidParameterValue(
            f"Cannot start a child of run {parent_run_id!r} while run "
            f"{current.run_id!r} is active; end it first or use its id as parent."
        )
    if not nested and parent_run_id is None:
        raise InvalidState(
            f"Run {current.run_id!r} is already active; call kiln.end_run() "
            "first, or pass nested=True to start a run inside it."
        )


def _resume(
    client: KilnClient,
    run_id: str,
    experiment_id: str | None,
    run_name: str | None,
    tags: dict[str, str],
) -> Run:
    run = client.get_run(run_id)
    if run.info.lifecycle_stage == LifecycleStage.DELETED:
        raise InvalidState(
            f"Cannot resume the deleted run {run_id!r}; restore it with "
            "KilnClient().restore_run() first."
        )
    if experiment_id is not None and str(experiment_id) != run.info.experiment_id:
        raise InvalidParameterValue(
            f"Run {run_id!r} belongs to experiment {run.info.experiment_id!r}, "
            f"not to the requested experiment {experiment_id!r}."
        )
    client.update_run(run_id, RunStatus.RUNNING, run_name)
    if tags:
        client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
    return client.get_run(run_id)


def _create(
    client: KilnClient,
    experiment_id: str | None,
    run_name: str | None,
    parent_run_id: str | None,
    tags: dict[str, str],
) -> Run:
    if parent_run_id is not None:
        # Fails early, with the store's not-found error, on a mistyped parent.
        client.get_run(parent_run_id)
    if experiment_id is None:
        experiment_id = resolve_experiment_id(client)
    run_tags = {**default_run_tags(), **tags}
    if parent_run_id is not None:
        run_tags[TAG_PARENT_RUN_ID] = parent_run_id
    return client.create_run(str(experiment_id), tags=run_tags, run_name=run_name)


def search(
    client: KilnClient,
    experiment_ids: Sequence[str] | None,
    filter_string: str,
    run_view_type: ViewType | int | str,
    max_results: int,
    order_by: Sequence[str] | None,
    output_format: str,
    search_all_experiments: bool,
    experiment_names: Sequence[str] | None,
) -> pd.DataFrame | list[Run]:
    """Page through a run search (see ``kiln.search_runs``)."""
    if output_format not in ("pandas", "list"):
        raise InvalidParameterValue(
            f"Invalid output_format {output_format!r}; expected 'pandas' or 'list'."
        )
    ids = _experiment_ids(
        client, experiment_ids, experiment_names, search_all_experiments
    )
    found = _collect(client, ids, filter_string, run_view_type, max_results, order_by)
    if output_format == "list":
        return found
    from kiln.tracking.frames import runs_to_frame

    return runs_to_frame(found)


def _experiment_ids(
    client: KilnClient,
    experiment_ids: Sequence[str] | None,
    experiment_names: Sequence[str] | None,
    search_all: bool,
) -> list[str]:
    if experiment_ids and experiment_names:
        raise InvalidParameterValue(
            "Pass experiment_ids or experiment_names to search_runs, not both."
        )
    if experiment_ids:
        return (
            [experiment_ids]
            if isinstance(experiment_ids, str)
            else [str(experiment_id) for experiment_id in experiment_ids]
        )
    if experiment_names:
        found = (client.get_experiment_by_name(name) for name in experiment_names)
        return [experiment.experiment_id for experiment in found if experiment]
    if search_all:
        return [experiment.experiment_id for experiment in search_experiments()]
    current = resolve_experiment_id(client, create=False)
    return [] if current is None else [current]


def _collect(
    client: KilnClient,
    experiment_ids: list[str],
    filter_string: str,
    run_view_type: ViewType | int | str,
    max_results: int,
    order_by: Sequence[str] | None,
) -> list[Run]:
    found: list[Run] = []
    token: str | None = None
    while experiment_ids and len(found) < max_results:
        page = client.search_runs(
            experiment_ids,
            filter_string,
            run_view_type,
            min(SEARCH_RUNS_MAX, max_results - len(found)),
            order_by,
            token,
        )
        found.extend(page)
        token = page.token
        if not token:
            break
    return found
