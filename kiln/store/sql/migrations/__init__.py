"""Alembic migrations of the tracking schema, run by :mod:`kiln.store.sql.migrate`."""
