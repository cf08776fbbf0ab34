"""``kiln experiments``: create, inspect, rename, delete and restore experiments."""

from __future__ import annotations

from collections.abc import Sequence

import click

from kiln.cli.options import (
    output_option,
    parse_view,
    search_options,
    view_option,
)
from kiln.cli.output import (
    echo_fields,
    echo_json,
    echo_next_page,
    echo_table,
    experiment_to_dict,
    format_time,
)
from kiln.cli.state import CliState
from kiln.entities import Experiment, LifecycleStage
from kiln.errors import ResourceDoesNotExist
from kiln.store.base import SEARCH_EXPERIMENTS_DEFAULT

experiment_id_option = click.option(
    "-x",
    "--experiment-id",
    required=True,
    metavar="ID",
    help="Id of the experiment.",
)


@click.group()
def experiments() -> None:
    """Create, search, rename, delete and restore experiments.

    \b
    Example:
        kiln experiments search --output json
    """


@experiments.command()
@click.option(
    "-n", "--experiment-name", required=True, metavar="NAME", help="Name to give it."
)
@click.option(
    "-l",
    "--artifact-location",
    metavar="URI",
    help="Where its runs store artifacts; defaults to the configured artifact root.",
)
@click.option(
    "-t",
    "--tag",
    "tags",
    multiple=True,
    metavar="KEY=VALUE",
    help="Experiment tag; repeat for more.",
)
@output_option
@click.pass_obj
def create(
    state: CliState,
    experiment_name: str,
    artifact_location: str | None,
    tags: Sequence[str],
    output: str,
) -> None:
    """Create an experiment and print its id.

    \b
    Example:
        kiln experiments create -n fraud-model -t team=risk
    """
    parsed_tags = _parse_tags(tags)
    experiment_id = state.client().create_experiment(
        experiment_name, artifact_location=artifact_location, tags=parsed_tags
    )
    if output == "json":
        echo_json({"experiment_id": experiment_id})
    else:
        click.echo(f"Created experiment {experiment_name!r} with id {experiment_id}.")


def _parse_tags(pairs: Sequence[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(
                f"{pair!r} is not KEY=VALUE.", param_hint="'-t' / '--tag'"
            )
        tags[key] = value
    return tags


@experiments.command()
@view_option
@search_options(SEARCH_EXPERIMENTS_DEFAULT)
@output_option
@click.pass_obj
def search(
    state: CliState,
    view: str,
    max_results: int,
    filter_string: str | None,
    order_by: Sequence[str],
    page_token: str | None,
    output: str,
) -> None:
    """Search experiments.

    Newest first unless --order-by says otherwise.

    \b
    Example:
        kiln experiments search --filter "name LIKE 'fraud%'" -v all
    """
    found = state.client().search_experiments(
        view_type=parse_view(view),
        max_results=max_results,
        filter_string=filter_string,
        order_by=list(order_by) or None,
        page_token=page_token,
    )
    if output == "json":
        echo_json(
            {
                "experiments": [experiment_to_dict(e) for e in found],
                "next_page_token": found.token,
            }
        )
        return
    show_stage = view.lower() != "active_only"
    headers = ["ID", "NAME", "CREATED", "ARTIFACT LOCATION"]
    if show_stage:
        headers.append("STAGE")
    rows = [_experiment_row(e, show_stage) for e in found]
    echo_table(headers, rows, empty="No experiments found.")
    echo_next_page(found.token)


def _experiment_row(experiment: Experiment, show_stage: bool) -> list[object]:
    row: list[object] = [
        experiment.experiment_id,
        experiment.name,
        format_time(experiment.creation_time),
        experiment.artifact_location,
    ]
    if show_stage:
        row.append(experiment.lifecycle_stage)
    return row


@experiments.command()
@click.option("-x", "--experiment-id", metavar="ID", help="Id of the experiment.")
@click.option("-n", "--experiment-name", metavar="NAME", help="Name of the experiment.")
@output_option
@click.pass_obj
def get(
    state: CliState,
    experiment_id: str | None,
    experiment_name: str | None,
    output: str,
) -> None:
    """Show one experiment, found by id or by name.

    \b
    Example:
        kiln experiments get -n fraud-model
    """
    experiment = _find_experiment(state, experiment_id, experiment_name)
    if output == "json":
        echo_json(experiment_to_dict(experiment))
        return
    echo_fields(
        [
            ("Experiment", experiment.experiment_id),
            ("Name", experiment.name),
            ("Stage", experiment.lifecycle_stage),
            ("Artifacts", experiment.artifact_location),
            ("Created", format_time(experiment.creation_time)),
            ("Updated", format_time(experiment.last_update_time)),
        ]
    )
    if experiment.tags:
        click.echo("Tags")
        echo_fields(sorted(experiment.tags.items()), indent="  ")


def _find_experiment(
    state: CliState, experiment_id: str | None, experiment_name: str | None
) -> Experiment:
    if experiment_id is not None and experiment_name is not None:
        raise click.UsageError("Give --experiment-id or --experiment-name, not both.")
    if experiment_id is None and experiment_name is None:
        raise click.UsageError("Give --experiment-id or --experiment-name.")
    client = state.client()
    if experiment_id is not None:
        return client.get_experiment(experiment_id)
    experiment = client.get_experiment_by_name(str(experiment_name))
    if experiment is None:
        raise ResourceDoesNotExist(f"No experiment is named {experiment_name!r}.")
    return experiment


@experiments.command()
@experiment_id_option
@click.option("--new-name", required=True, metavar="NAME", help="The new name.")
@output_option
@click.pass_obj
def rename(state: CliState, experiment_id: str, new_name: str, output: str) -> None:
    """Give an active experiment a new name.

    \b
    Example:
        kiln experiments rename -x 3 --new-name fraud-model-v2
    """
    state.client().rename_experiment(experiment_id, new_name)
    if output == "json":
        echo_json({"experiment_id": experiment_id, "name": new_name})
    else:
        click.echo(f"Renamed experiment {experiment_id} to {new_name!r}.")


@experiments.command()
@experiment_id_option
@output_option
@click.pass_obj
def delete(state: CliState, experiment_id: str, output: str) -> None:
    """Delete an experiment and its runs.

    They are only marked deleted: `kiln experiments restore` brings them
    back. The name stays taken meanwhile.

    \b
    Example:
        kiln experiments delete -x 3
    """
    state.client().delete_experiment(experiment_id)
    _echo_stage(experiment_id, LifecycleStage.DELETED, output)


@experiments.command()
@experiment_id_option
@output_option
@click.pass_obj
def restore(state: CliState, experiment_id: str, output: str) -> None:
    """Restore a deleted experiment and its runs.

    \b
    Example:
        kiln experiments restore -x 3
    """
    state.client().restore_experiment(experiment_id)
    _echo_stage(experiment_id, LifecycleStage.ACTIVE, output)


def _echo_stage(experiment_id: str, stage: str, output: str) -> None:
    if output == "json":
        echo_json({"experiment_id": experiment_id, "lifecycle_stage": stage})
    else:
        verb = "Deleted" if stage == LifecycleStage.DELETED else "Restored"
        click.echo(f"{verb} experiment {experiment_id}.")
