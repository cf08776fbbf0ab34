"""Create the tracking tables.

Revision ID: 0001
Revises: none
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _run_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE")


def _experiment_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["experiment_id"], ["experiments.experiment_id"], ondelete="CASCADE"
    )


def _create_experiment_tables() -> None:
    op.create_table(
        "experiments",
        sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.String(2048), nullable=False),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False),
        sa.Column("creation_time", sa.BigInteger),
        sa.Column("last_update_time", sa.BigInteger),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
    )
    op.create_table(
        "experiment_tags",
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("experiment_id", "key", name="pk_experiment_tags"),
        _experiment_fk(),
    )


def _create_run_tables() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("run_name", sa.String(250), nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("start_time", sa.BigInteger),
        sa.Column("end_time", sa.BigInteger),
        sa.Column("artifact_uri", sa.String(2200), nullable=False),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False),
        sa.Column("deleted_time", sa.BigInteger),
        _experiment_fk(),
    )
    op.create_index(
        "ix_runs_experiment_start",
        "runs",
        ["experiment_id", "lifecycle_stage", "start_time"],
    )
    for table, pk in (("params", "pk_params"), ("tags", "pk_tags")):
        op.create_table(
            table,
            sa.Column("run_id", sa.String(32), nullable=False),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.Text, nullable=False),
            sa.PrimaryKeyConstraint("run_id", "key", name=pk),
            _run_fk(),
            sqlite_with_rowid=False,
        )
    op.create_index("ix_params_key_value", "params", ["key", "run_id"])
    op.create_index("ix_tags_key", "tags", ["key", "run_id"])
    if op.get_bind().dialect.name == "sqlite":
        # Covering indexes for searches; PostgreSQL refuses index entries
        # over about 2.7 kB, and values may be longer.
        op.create_index("ix_params_key_value_run", "params", ["key", "value", "run_id"])
        op.create_index("ix_tags_key_value_run", "tags", ["key", "value", "run_id"])


def _create_metric_tables() -> None:
    op.create_table(
        "metrics",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float(53), nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.Column("model_id", sa.String(64)),
        sa.Column("dataset_name", sa.String(500)),
        sa.Column("dataset_digest", sa.String(36)),
        sa.PrimaryKeyConstraint(
            "run_id", "key", "step", "timestamp", "value", "is_nan", name="pk_metrics"
        ),
        _run_fk(),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "latest_metrics",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float(53), nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_latest_metrics"),
        _run_fk(),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_latest_metrics_key_value",
        "latest_metrics",
        ["key", "value", "is_nan", "run_id"],
    )


def _create_input_tables() -> None:
    op.create_table(
        "datasets",
        sa.Column("dataset_id", sa.String(32), primary_key=True),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("digest", sa.String(36), nullable=False),
        sa.Column("source_type", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("schema", sa.Text),
        sa.Column("profile", sa.Text),
        sa.UniqueConstraint(
            "experiment_id", "name", "digest", name="uq_datasets_identity"
        ),
        _experiment_fk(),
    )
    op.create_table(
        "run_inputs",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("dataset_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "dataset_id", name="pk_run_inputs"),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.dataset_id"], ondelete="CASCADE"
        ),
        _run_fk(),
    )
    op.create_index("ix_run_inputs_dataset", "run_inputs", ["dataset_id"])
    op.create_table(
        "input_tags",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("dataset_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "dataset_id", "key", name="pk_input_tags"),
        sa.ForeignKeyConstraint(
            ["run_id", "dataset_id"],
            ["run_inputs.run_id", "run_inputs.dataset_id"],
            ondelete="CASCADE",
        ),
    )


def _create_model_link_tables() -> None:
    op.create_table(
        "run_model_inputs",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "model_id", name="pk_run_model_inputs"),
        _run_fk(),
    )
    op.create_table(
        "run_model_outputs",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "model_id", name="pk_run_model_outputs"),
        _run_fk(),
    )


def upgrade() -> None:
    _create_experiment_tables()
    _create_run_tables()
    _create_metric_tables()
    _create_input_tables()
    _create_model_link_tables()


def downgrade() -> None:
    for table in (
        "run_model_outputs",
        "run_model_inputs",
        "input_tags",
        "run_inputs",
        "datasets",
        "latest_metrics",
        "metrics",
        "tags",
        "params",
        "runs",
        "experiment_tags",
        "experiments",
    ):
        op.drop_table(table)
