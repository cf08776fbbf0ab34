"""``kiln registry rule``: the promotion rules guarding a model's aliases."""

from __future__ import annotations

import click

from kiln.cli.options import output_option
from kiln.cli.output import echo_fields, echo_json, echo_table, format_time
from kiln.cli.state import CliState
from kiln.entities import PromotionRule
from kiln.wire.promotion_rules import promotion_rule_to_dict

# The same options as the other ``kiln registry`` commands.
_name_option = click.option(
    "-n", "--name", required=True, metavar="NAME", help="Registered model name."
)
_alias_option = click.option(
    "-a", "--alias", required=True, metavar="ALIAS", help="Alias, such as champion."
)


@click.group()
def rule() -> None:
    """Guard an alias with a rule its versions' source runs must meet.

    A rule is a run search filter; on the right of a comparison,
    current.metrics.<key>, current.params.<key> and current.tags.<key> name
    the values of the version the alias points at now. Moving the alias to
    a version whose run fails the rule is refused, naming each failing
    condition.

    \b
    Example:
        kiln registry rule set -n churn -a champion \\
            "metrics.val_auc >= 0.9 AND metrics.val_auc >= current.metrics.val_auc"
    """


@rule.command("set")
@_name_option
@_alias_option
@click.argument("rule_text", metavar="RULE")
@output_option
@click.pass_obj
def set_rule(
    state: CliState, name: str, alias: str, rule_text: str, output: str
) -> None:
    """Guard the alias of a model with RULE, replacing any rule it had.

    \b
    Example:
        kiln registry rule set -n churn -a champion "tags.validated = 'true'"
    """
    stored = state.client().set_promotion_rule(name, alias, rule_text)
    if output == "json":
        echo_json(promotion_rule_to_dict(stored))
        return
    click.echo(f"Alias {alias!r} of {name!r} is now guarded by: {stored.rule}")


@rule.command("get")
@_name_option
@_alias_option
@output_option
@click.pass_obj
def get_rule(state: CliState, name: str, alias: str, output: str) -> None:
    """Show the rule guarding an alias of a model.

    \b
    Example:
        kiln registry rule get -n churn -a champion
    """
    found = state.client().get_promotion_rule(name, alias)
    if output == "json":
        echo_json(promotion_rule_to_dict(found))
        return
    echo_fields(
        [
            ("Model", found.name),
            ("Alias", found.alias),
            ("Rule", found.rule),
            ("Created", format_time(found.creation_timestamp)),
            ("Updated", format_time(found.last_updated_timestamp)),
            ("User", found.user_id),
        ]
    )


@rule.command("delete")
@_name_option
@_alias_option
@click.pass_obj
def delete_rule(state: CliState, name: str, alias: str) -> None:
    """Remove the rule guarding an alias of a model; removing a rule the
    alias lacks is no error.

    \b
    Example:
        kiln registry rule delete -n churn -a champion
    """
    state.client().delete_promotion_rule(name, alias)
    click.echo(f"Alias {alias!r} of {name!r} has no promotion rule now.")


@rule.command("list")
@_name_option
@output_option
@click.pass_obj
def list_rules(state: CliState, name: str, output: str) -> None:
    """List the rules guarding the aliases of a model, by alias.

    \b
    Example:
        kiln registry rule list -n churn --output json
    """
    found = state.client().list_promotion_rules(name)
    if output == "json":
        echo_json({"promotion_rules": [promotion_rule_to_dict(r) for r in found]})
        return
    rows = [_rule_row(r) for r in found]
    headers = ["ALIAS", "RULE", "UPDATED", "USER"]
    echo_table(headers, rows, empty=f"No promotion rules for {name!r}.")


def _rule_row(found: PromotionRule) -> list[object]:
    return [
        found.alias,
        found.rule,
        format_time(found.last_updated_timestamp),
        found.user_id,
    ]
