"""``kiln registry``: registered models, their versions, aliases and stages."""

from __future__ import annotations

from collections.abc import Sequence

import click

from kiln.cli.options import output_option, search_options
from kiln.cli.output import echo_json, echo_next_page, echo_table, format_time
from kiln.cli.rules import rule
from kiln.cli.state import CliState
from kiln.entities import (
    ModelVersion,
    RegisteredModel,
    RegistryHistoryEntry,
    RegistryHistoryKind,
)
from kiln.store.base import REGISTRY_HISTORY_DEFAULT, SEARCH_REGISTERED_MODELS_DEFAULT
from kiln.wire.history import history_entry_to_dict
from kiln.wire.registry import model_version_to_dict, registered_model_to_dict

# A page of versions for people; scripts may ask for up to MLflow's limit.
_VERSIONS_PAGE = 1000

name_option = click.option(
    "-n", "--name", required=True, metavar="NAME", help="Registered model name."
)
version_option = click.option(
    "-v", "--version", required=True, metavar="VERSION", help="Version number."
)
alias_option = click.option(
    "-a", "--alias", required=True, metavar="ALIAS", help="Alias, such as champion."
)
reason_option = click.option(
    "--reason", metavar="TEXT", help="Why, kept in the model's history."
)


@click.group()
def registry() -> None:
    """Register models, list them and their versions, set aliases and stages.

    \b
    Example:
        kiln registry register runs:/<run_id>/model -n churn
        kiln registry set-alias -n churn -a champion -v 3
    """


@registry.command()
@search_options(SEARCH_REGISTERED_MODELS_DEFAULT)
@output_option
@click.pass_obj
def models(
    state: CliState,
    max_results: int,
    filter_string: str | None,
    order_by: Sequence[str],
    page_token: str | None,
    output: str,
) -> None:
    """List registered models, by name unless --order-by says otherwise.

    \b
    Example:
        kiln registry models --filter "name LIKE 'churn%'"
    """
    found = state.client().search_registered_models(
        filter_string, max_results, list(order_by) or None, page_token
    )
    if output == "json":
        echo_json(
            {
                "registered_models": [registered_model_to_dict(m) for m in found],
                "next_page_token": found.token,
            }
        )
        return
    rows = [_model_row(model) for model in found]
    headers = ["NAME", "LATEST", "ALIASES", "UPDATED", "DESCRIPTION"]
    echo_table(headers, rows, empty="No registered models found.")
    echo_next_page(found.token)


def _model_row(model: RegisteredModel) -> list[object]:
    latest = max((int(v.version) for v in model.latest_versions), default=None)
    aliases = ", ".join(f"{a.alias}={a.version}" for a in model.aliases)
    return [
        model.name,
        latest,
        aliases or None,
        format_time(model.last_updated_timestamp),
        model.description,
    ]


@registry.command()
@click.option("-n", "--name", metavar="NAME", help="Only this model's versions.")
@search_options(_VERSIONS_PAGE)
@output_option
@click.pass_obj
def versions(
    state: CliState,
    name: str | None,
    max_results: int,
    filter_string: str | None,
    order_by: Sequence[str],
    page_token: str | None,
    output: str,
) -> None:
    """List model versions, most recently changed first.

    \b
    Example:
        kiln registry versions -n churn
    """
    if name is not None:
        quote = '"' if "'" in name else "'"
        named = f"name = {quote}{name}{quote}"
        filter_string = f"{named} AND {filter_string}" if filter_string else named
    found = state.client().search_model_versions(
        filter_string, max_results, list(order_by) or None, page_token
    )
    if output == "json":
        echo_json(
            {
                "model_versions": [model_version_to_dict(v) for v in found],
                "next_page_token": found.token,
            }
        )
        return
    rows = [_version_row(version) for version in found]
    headers = ["NAME", "VERSION", "STAGE", "ALIASES", "CREATED", "SOURCE"]
    echo_table(headers, rows, empty="No model versions found.")
    echo_next_page(found.token)


def _version_row(version: ModelVersion) -> list[object]:
    return [
        version.name,
        version.version,
        version.current_stage,
        ", ".join(version.aliases) or None,
        format_time(version.creation_timestamp),
        version.source,
    ]


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


def _echo_version(version: ModelVersion, output: str, message: str) -> None:
    if output == "json":
        echo_json(model_version_to_dict(version))
    else:
        click.echo(message)


@registry.command()
@click.argument("model_uri")
@name_option
@click.option(
    "-t",
    "--tag",
    "tags",
    multiple=True,
    metavar="KEY=VALUE",
    help="Version tag; repeat for more.",
)
@output_option
@click.pass_obj
def register(
    state: CliState, model_uri: str, name: str, tags: Sequence[str], output: str
) -> None:
    """Register MODEL_URI as the next version of a model, creating the model
    when needed.

    MODEL_URI is runs:/<run_id>/<name>, models:/<model_id> or an artifact URI.

    \b
    Example:
        kiln registry register runs:/4f1c.../model -n churn
    """
    from kiln.tracking.registry import register_model

    version = register_model(state.client(), model_uri, name, _parse_tags(tags))
    message = f"Registered {model_uri} as version {version.version} of {name!r}."
    _echo_version(version, output, message)


@registry.command("set-alias")
@name_option
@alias_option
@version_option
@reason_option
@click.pass_obj
def set_alias(
    state: CliState, name: str, alias: str, version: str, reason: str | None
) -> None:
    """Point an alias at a version, moving it from any other version.

    \b
    Example:
        kiln registry set-alias -n churn -a champion -v 3 --reason "Better AUC"
    """
    state.client().set_registered_model_alias(name, alias, version, reason)
    click.echo(f"Alias {alias!r} of {name!r} now points at version {version}.")


@registry.command("delete-alias")
@name_option
@alias_option
@click.pass_obj
def delete_alias(state: CliState, name: str, alias: str) -> None:
    """Remove an alias; removing one the model lacks is no error.

    \b
    Example:
        kiln registry delete-alias -n churn -a champion
    """
    state.client().delete_registered_model_alias(name, alias)
    click.echo(f"Alias {alias!r} of {name!r} is removed.")


@registry.command()
@name_option
@version_option
@click.option(
    "-s",
    "--stage",
    required=True,
    metavar="STAGE",
    help="None, Staging, Production or Archived (any case).",
)
@click.option(
    "--archive-existing",
    is_flag=True,
    help="Archive the versions already in the stage (Staging or Production).",
)
@reason_option
@output_option
@click.pass_obj
def transition(
    state: CliState,
    name: str,
    version: str,
    stage: str,
    archive_existing: bool,
    reason: str | None,
    output: str,
) -> None:
    """Move a version to another stage (stages are deprecated; prefer aliases).

    \b
    Example:
        kiln registry transition -n churn -v 3 -s Production --archive-existing
    """
    moved = state.client().transition_model_version_stage(
        name, version, stage, archive_existing, reason
    )
    message = f"Version {moved.version} of {name!r} is now in {moved.current_stage}."
    _echo_version(moved, output, message)


@registry.command()
@name_option
@alias_option
@reason_option
@output_option
@click.pass_obj
def rollback(
    state: CliState, name: str, alias: str, reason: str | None, output: str
) -> None:
    """Point an alias back at the version it held before its current one.

    Versions deleted since are passed over; rolling back twice returns to
    the first version. See the moves with `kiln registry history`.

    \b
    Example:
        kiln registry rollback -n churn -a champion --reason "Drift in v4"
    """
    version = state.client().rollback_alias(name, alias, reason)
    message = f"Alias {alias!r} of {name!r} now points at version {version.version}."
    _echo_version(version, output, message)


@registry.command()
@name_option
@click.option("-a", "--alias", metavar="ALIAS", help="Only this alias's moves.")
@click.option("--stages", is_flag=True, help="Only stage changes.")
@click.option(
    "--max-results",
    type=click.IntRange(min=1),
    default=REGISTRY_HISTORY_DEFAULT,
    show_default=True,
    help="Largest number of entries to return.",
)
@click.option(
    "--page-token", metavar="TOKEN", help="Continue from the token printed before."
)
@output_option
@click.pass_obj
def history(
    state: CliState,
    name: str,
    alias: str | None,
    stages: bool,
    max_results: int,
    page_token: str | None,
    output: str,
) -> None:
    """List a model's alias moves and stage changes, newest first, with who
    made them and why.

    \b
    Example:
        kiln registry history -n churn -a champion
    """
    kind = RegistryHistoryKind.STAGE if stages else None
    found = state.client().get_registry_history(
        name, alias, kind, max_results, page_token
    )
    if output == "json":
        echo_json(
            {
                "history": [history_entry_to_dict(entry) for entry in found],
                "next_page_token": found.token,
            }
        )
        return
    rows = [_history_row(entry) for entry in found]
    headers = ["TIME", "KIND", "WHAT", "FROM", "TO", "USER", "REASON"]
    echo_table(headers, rows, empty="No history entries found.")
    echo_next_page(found.token)


def _history_row(entry: RegistryHistoryEntry) -> list[object]:
    if entry.kind == RegistryHistoryKind.ALIAS:
        what, before, after = entry.alias, entry.previous_version, entry.version
    else:
        what = f"version {entry.version}"
        before, after = entry.previous_stage, entry.stage
    return [
        format_time(entry.timestamp),
        entry.kind,
        what,
        before,
        after,
        entry.user_id,
        entry.reason,
    ]


# Promotion rules live in their own module; they are a subgroup of this one.
registry.add_command(rule)
