"""The ``kiln`` command: a group that loads each subcommand only when used.

Importing every subcommand up front would pull in SQLAlchemy, the server's web
stack and more before even ``kiln --help`` could answer, so the group keeps a
table of where each command lives and imports one module on demand.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import click

from kiln.cli.state import CliState
from kiln.errors import KilnError

# name -> (module, attribute, one-line help shown by ``kiln --help``).
# The help lines live here so listing the commands imports none of them.
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "artifacts": (
        "kiln.cli.artifacts",
        "artifacts",
        "List, download and log artifacts.",
    ),
    "db": ("kiln.cli.db", "db", "Create or upgrade a tracking database."),
    "experiments": (
        "kiln.cli.experiments",
        "experiments",
        "Create, search, rename, delete and restore experiments.",
    ),
    "registry": (
        "kiln.cli.registry",
        "registry",
        "Register models; list versions; set aliases and stages.",
    ),
    "runs": ("kiln.cli.runs", "runs", "List, describe, delete and restore runs."),
    "server": ("kiln.cli.server", "server", "Run the tracking server."),
}

# The extra of kiln-ml that installs each optional top-level package.
_EXTRA_OF_PACKAGE = {
    "fastapi": "server",
    "starlette": "server",
    "uvicorn": "server",
    "jinja2": "server",
    "psycopg": "postgres",
    "pandas": "pandas",
    "numpy": "pandas",
    "boto3": "s3",
}


class CliError(click.ClickException):
    """An error shown to the user as one line on stderr: ``kiln: <message>``."""

    def show(self, file: Any = None) -> None:
        click.echo(f"kiln: {self.format_message()}", err=True)


class UsageLineError(CliError):
    """A usage mistake, reported in one line with a pointer to ``--help``."""

    exit_code = 2


def _usage_error(exc: click.UsageError) -> UsageLineError:
    message = exc.format_message().rstrip()
    if exc.ctx is not None:
        message = f"{message} See '{exc.ctx.command_path} --help'."
    return UsageLineError(message)


def _is_help_request(exc: click.UsageError) -> bool:
    # Click 8.2+ signals "no arguments, show the help" with a UsageError
    # subclass; that one must keep printing the help page.
    help_error = getattr(click.exceptions, "NoArgsIsHelpError", None)
    return help_error is not None and isinstance(exc, help_error)


class KilnGroup(click.Group):
    """The top-level group: lazy subcommands and one-line errors."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in _COMMANDS if _module_exists(name))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS or not _module_exists(cmd_name):
            return None
        module_name, attribute, _ = _COMMANDS[cmd_name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            raise _missing_package(exc) from exc
        command = getattr(module, attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{module_name}.{attribute} is not a click command.")
        return command

    def format_commands(
        self, ctx: click.Context, formatter: click.HelpFormatter
    ) -> None:
        rows = [(name, _COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.ClickException as exc:
            converted = _one_line(exc)
            if converted is exc:
                raise
            raise converted from exc

    def invoke(self, ctx: click.Context) -> Any:
        # Subcommands parse and run inside this call, so this is the one place
        # where Kiln's errors and click's usage errors become one line each.
        try:
            return super().invoke(ctx)
        except KilnError as exc:
            raise CliError(exc.message) from exc
        except ModuleNotFoundError as exc:
            raise _missing_package(exc) from exc
        except click.ClickException as exc:
            converted = _one_line(exc)
            if converted is exc:
                raise
            raise converted from exc


def _missing_package(exc: ModuleNotFoundError) -> CliError:
    """One line naming the missing package and the extra that installs it."""
    package = (exc.name or "").partition(".")[0]
    if package == "kiln":
        # A module of Kiln itself is missing: a broken install, not an extra.
        raise exc
    extra = _EXTRA_OF_PACKAGE.get(package)
    hint = f" Install it with: pip install 'kiln-ml[{extra}]'." if extra else ""
    return CliError(f"A package this command needs is not installed ({exc}).{hint}")


def _one_line(exc: click.ClickException) -> click.ClickException:
    """Re-dress click's own errors so each prints as one ``kiln:`` line."""
    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, click.UsageError):
        return exc if _is_help_request(exc) else _usage_error(exc)
    return CliError(exc.format_message())


def _module_exists(cmd_name: str) -> bool:
    return importlib.util.find_spec(_COMMANDS[cmd_name][0]) is not None


@click.group(name="kiln", cls=KilnGroup)
@click.option(
    "--tracking-uri",
    envvar=["KILN_TRACKING_URI", "MLFLOW_TRACKING_URI"],
    metavar="URI",
    help=(
        "Where runs are tracked: sqlite:///path.db, postgresql://..., or a "
        "server's http(s):// address. Defaults to $KILN_TRACKING_URI, then "
        "$MLFLOW_TRACKING_URI, then sqlite:///kiln-data/kiln.db."
    ),
)
@click.version_option(
    package_name="kiln-ml", prog_name="kiln", message="%(prog)s %(version)s"
)
@click.pass_context
def cli(ctx: click.Context, tracking_uri: str | None) -> None:
    """Kiln: track experiments and runs, compatible with MLflow.

    \b
    Example:
        kiln experiments search
        kiln runs list --experiment-id 1
    """
    ctx.obj = CliState(tracking_uri=tracking_uri)


def main() -> None:
    """Entry point of the ``kiln`` executable."""
    cli(prog_name="kiln")
