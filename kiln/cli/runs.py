"""``kiln runs``: list, describe, delete and restore runs."""

from __future__ import annotations

from collections.abc import Sequence

import click

from kiln.cli.options import output_option, parse_view, search_options, view_option
from kiln.cli.output import (
    echo_fields,
    echo_json,
    echo_next_page,
    echo_table,
    format_duration,
    format_time,
    run_to_dict,
)
from kiln.cli.state import CliState
from kiln.entities import LifecycleStage, Run
from kiln.store.base import SEARCH_RUNS_DEFAULT

run_id_option = click.option(
    "--run-id", required=True, metavar="RUN_ID", help="Id of the run."
)


@click.group()
def runs() -> None:
    """List, describe, delete and restore runs.

    \b
    Example:
        kiln runs list --experiment-id 1
    """


@runs.command("list")
@click.option(
    "--experiment-id",
    "experiment_ids",
    multiple=True,
    required=True,
    envvar=["KILN_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID"],
    metavar="ID",
    help="Experiment to list; repeat for several. Defaults to $KILN_EXPERIMENT_ID.",
)
@view_option
@search_options(SEARCH_RUNS_DEFAULT)
@output_option
@click.pass_obj
def list_runs(
    state: CliState,
    experiment_ids: Sequence[str],
    view: str,
    max_results: int,
    filter_string: str | None,
    order_by: Sequence[str],
    page_token: str | None,
    output: str,
) -> None:
    """List the runs of experiments.

    Newest first unless --order-by says otherwise.

    \b
    Example:
        kiln runs list --experiment-id 1 --filter "metrics.rmse < 0.8" \\
            --order-by "metrics.rmse ASC"
    """
    found = state.client().search_runs(
        experiment_ids=list(experiment_ids),
        filter_string=filter_string or "",
        run_view_type=parse_view(view),
        max_results=max_results,
        order_by=list(order_by) or None,
        page_token=page_token,
    )
    if output == "json":
        echo_json(
            {"runs": [run_to_dict(r) for r in found], "next_page_token": found.token}
        )
        return
    show_stage = view.lower() != "active_only"
    headers = ["RUN ID", "NAME", "STATUS", "STARTED", "DURATION"]
    if show_stage:
        headers.append("STAGE")
    rows = [_run_row(run, show_stage) for run in found]
    echo_table(headers, rows, empty="No runs found.")
    echo_next_page(found.token)


def _run_row(run: Run, show_stage: bool) -> list[object]:
    info = run.info
    row: list[object] = [
        info.run_id,
        info.run_name,
        info.status,
        format_time(info.start_time),
        format_duration(info.start_time, info.end_time),
    ]
    if show_stage:
        row.append(info.lifecycle_stage)
    return row


@runs.command()
@run_id_option
@output_option
@click.pass_obj
def describe(state: CliState, run_id: str, output: str) -> None:
    """Show a run's params, metrics and tags.

    \b
    Example:
        kiln runs describe --run-id 5c7a0e1f9d2b4c5e8f1a2b3c4d5e6f70
    """
    run = state.client().get_run(run_id)
    if output == "json":
        echo_json(run_to_dict(run))
        return
    _echo_run(run)


def _echo_run(run: Run) -> None:
    info = run.info
    echo_fields(
        [
            ("Run", info.run_id),
            ("Name", info.run_name),
            ("Experiment", info.experiment_id),
            ("Status", info.status),
            ("Stage", info.lifecycle_stage),
            ("User", info.user_id or None),
            ("Started", format_time(info.start_time)),
            ("Ended", format_time(info.end_time)),
            ("Duration", format_duration(info.start_time, info.end_time)),
            ("Artifacts", info.artifact_uri),
        ]
    )
    sections = [
        ("Params", sorted(run.data.params.items())),
        (
            "Metrics (latest)",
            [
                (m.key, _metric_text(m.value, m.step))
                for m in sorted(run.data.latest_metrics, key=lambda m: m.key)
            ],
        ),
        ("Tags", sorted(run.data.tags.items())),
    ]
    for title, pairs in sections:
        if pairs:
            click.echo(f"\n{title}")
            echo_fields(pairs, indent="  ")


def _metric_text(value: float, step: int) -> str:
    return f"{value:.6g}  (step {step})"


@runs.command()
@run_id_option
@output_option
@click.pass_obj
def delete(state: CliState, run_id: str, output: str) -> None:
    """Delete a run.

    It is only marked deleted: `kiln runs restore` brings it back.

    \b
    Example:
        kiln runs delete --run-id 5c7a0e1f9d2b4c5e8f1a2b3c4d5e6f70
    """
    state.client().delete_run(run_id)
    _echo_stage(run_id, LifecycleStage.DELETED, output)


@runs.command()
@run_id_option
@output_option
@click.pass_obj
def restore(state: CliState, run_id: str, output: str) -> None:
    """Restore a deleted run.

    \b
    Example:
        kiln runs restore --run-id 5c7a0e1f9d2b4c5e8f1a2b3c4d5e6f70
    """
    state.client().restore_run(run_id)
    _echo_stage(run_id, LifecycleStage.ACTIVE, output)


def _echo_stage(run_id: str, stage: str, output: str) -> None:
    if output == "json":
        echo_json({"run_id": run_id, "lifecycle_stage": stage})
    else:
        verb = "Deleted" if stage == LifecycleStage.DELETED else "Restored"
        click.echo(f"{verb} run {run_id}.")
