"""Tracking stores: SQL (SQLite, PostgreSQL) and REST (a Kiln or MLflow server)."""
