"""Alembic's entry point: run the migrations on the connection Kiln passes in.

Kiln never calls Alembic's command line; :func:`kiln.store.sql.migrate.upgrade`
opens the connection, takes the cross-process lock and hands the connection
over in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from kiln.errors import KilnError
from kiln.store.sql.migrate import VERSION_TABLE


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise KilnError(
            "Kiln's migrations run only through kiln.store.sql.migrate.upgrade."
        )
    context.configure(
        connection=connection,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


_run()
