"""Add the model registry: registered models, versions, tags, aliases and
the history of alias moves.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _cascade(columns: list[str], target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        columns,
        [f"{target}.{column}" for column in columns],
        ondelete="CASCADE",
        onupdate="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.String(256)),
        sa.Column("description", sa.Text),
    )
    op.create_table(
        "registered_model_tags",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("name", "key", name="pk_registered_model_tags"),
        _cascade(["name"], "registered_models"),
    )
    op.create_table(
        "model_versions",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.String(256)),
        sa.Column("current_stage", sa.String(20), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(32)),
        sa.Column("run_link", sa.Text),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_message", sa.Text),
        sa.Column("model_id", sa.String(64)),
        sa.Column("storage_location", sa.Text),
        sa.PrimaryKeyConstraint("name", "version", name="pk_model_versions"),
        _cascade(["name"], "registered_models"),
    )
    op.create_table(
        "model_version_tags",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("name", "version", "key", name="pk_model_version_tags"),
        _cascade(["name", "version"], "model_versions"),
    )
    op.create_table(
        "registered_model_aliases",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("alias", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("name", "alias", name="pk_registered_model_aliases"),
        _cascade(["name", "version"], "model_versions"),
    )
    op.create_table(
        "alias_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("alias", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer),
        sa.Column("previous_version", sa.Integer),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.String(256)),
        _cascade(["name"], "registered_models"),
    )
    op.create_index(
        "ix_alias_history_name_alias", "alias_history", ["name", "alias", "id"]
    )


def downgrade() -> None:
    for table in (
        "alias_history",
        "registered_model_aliases",
        "model_version_tags",
        "model_versions",
        "registered_model_tags",
        "registered_models",
    ):
        op.drop_table(table)
