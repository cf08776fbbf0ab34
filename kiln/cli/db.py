"""``kiln db``: bring a tracking database's schema up to date."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import click

from kiln.cli.options import output_option
from kiln.cli.output import echo_json


@click.group()
def db() -> None:
    """Create or upgrade a tracking database.

    \b
    Example:
        kiln db upgrade sqlite:///kiln-data/kiln.db
    """


@db.command()
@click.argument("uri", metavar="URI")
@output_option
def upgrade(uri: str, output: str) -> None:
    """Create or upgrade the tables of a database.

    Creates the tables of an empty database or applies pending migrations.
    URI is a database URI such as sqlite:///kiln-data/kiln.db or
    postgresql://user@host:5432/kiln. Back the database up first: upgrades
    cannot be undone. Running it on an up-to-date database changes nothing.

    \b
    Example:
        kiln db upgrade postgresql://kiln@db.internal:5432/kiln
    """
    from kiln.store.sql.migrate import upgrade as upgrade_schema

    upgrade_schema(uri)
    if output == "json":
        echo_json({"uri": redact(uri), "upgraded": True})
    else:
        click.echo(f"The database at {redact(uri)} is up to date.")


def redact(uri: str) -> str:
    """The URI with any password replaced by ``***``, safe to print."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit(parts._replace(netloc=netloc))
