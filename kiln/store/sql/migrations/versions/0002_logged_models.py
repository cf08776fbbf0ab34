"""Add logged models, their tags and params, and index metrics by model.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _model_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_id"], ["logged_models.model_id"], ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(64), primary_key=True),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.String(2200), nullable=False),
        sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_message", sa.Text),
        sa.Column("creator_id", sa.BigInteger),
        sa.Column("model_type", sa.String(500)),
        sa.Column("source_run_id", sa.String(32)),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.experiment_id"], ondelete="CASCADE"
        ),
    )
    op.create_index(
        "ix_logged_models_experiment_created",
        "logged_models",
        ["experiment_id", "lifecycle_stage", "creation_timestamp"],
    )
    for table, pk in (
        ("logged_model_tags", "pk_logged_model_tags"),
        ("logged_model_params", "pk_logged_model_params"),
    ):
        op.create_table(
            table,
            sa.Column("model_id", sa.String(64), nullable=False),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.Text, nullable=False),
            sa.PrimaryKeyConstraint("model_id", "key", name=pk),
            _model_fk(),
        )
    has_model = sa.text("model_id IS NOT NULL")
    op.create_index(
        "ix_metrics_model_id",
        "metrics",
        ["model_id"],
        sqlite_where=has_model,
        postgresql_where=has_model,
    )


def downgrade() -> None:
    op.drop_index("ix_metrics_model_id", table_name="metrics")
    for table in ("logged_model_params", "logged_model_tags", "logged_models"):
        op.drop_table(table)
