"""Options shared by several commands, spelled as MLflow's CLI spells them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from kiln.entities import ViewType

F = TypeVar("F", bound=Callable[..., object])

VIEW_CHOICES = ("active_only", "deleted_only", "all")


def output_option(func: F) -> F:
    """``--output table|json``: a table for people or JSON for scripts."""
    return click.option(
        "--output",
        type=click.Choice(["table", "json"], case_sensitive=False),
        default="table",
        show_default=True,
        help="Print an aligned table, or JSON for scripts.",
    )(func)


def view_option(func: F) -> F:
    """``-v/--view``: which lifecycle stages to include."""
    return click.option(
        "-v",
        "--view",
        type=click.Choice(VIEW_CHOICES, case_sensitive=False),
        default="active_only",
        show_default=True,
        help="Show active items, deleted ones, or all.",
    )(func)


def search_options(default_max: int) -> Callable[[F], F]:
    """``--max-results``, ``--filter``, ``--order-by`` and ``--page-token``."""

    def decorate(func: F) -> F:
        func = click.option(
            "--page-token",
            metavar="TOKEN",
            help="Continue a previous search from the token it printed.",
        )(func)
        func = click.option(
            "--order-by",
            multiple=True,
            metavar="CLAUSE",
            help="Sort clause such as 'metrics.loss ASC'; repeat to add more.",
        )(func)
        func = click.option(
            "--filter",
            "filter_string",
            metavar="FILTER",
            help="Search filter, such as \"params.lr = '0.01' AND metrics.loss < 1\".",
        )(func)
        return click.option(
            "--max-results",
            type=click.IntRange(min=1),
            default=default_max,
            show_default=True,
            help="Largest number of results to return.",
        )(func)

    return decorate


def parse_view(view: str) -> ViewType:
    """Turn a ``--view`` choice into the library's ViewType."""
    return ViewType.parse(view)
