"""Key metric points by a compact integer per run instead of the run id.

``run_keys`` gives every run that logged a point a small integer, and
``metrics`` is rebuilt with that number in place of the 32-character run id:
each row is about half as long, so logging writes fewer pages. The points are
copied over; a run's key is made for every run that has points.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_POINT_COLUMNS = (
    "key, step, timestamp, value, is_nan, model_id, dataset_name, dataset_digest"
)


def _point_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float(53), nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.Column("model_id", sa.String(64)),
        sa.Column("dataset_name", sa.String(500)),
        sa.Column("dataset_digest", sa.String(36)),
    ]


def _set_aside(old_name: str) -> None:
    # The table keeps its rows under another name while the new one is made;
    # on PostgreSQL its primary key's name (an index name, unique in the
    # schema) moves aside too.
    op.rename_table("metrics", old_name)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE {old_name} RENAME CONSTRAINT pk_metrics TO pk_{old_name}"
        )


def upgrade() -> None:
    op.create_table(
        "run_keys",
        sa.Column("run_key", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.UniqueConstraint("run_id", name="uq_run_keys_run_id"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
        sqlite_autoincrement=True,
    )
    op.execute(
        "INSERT INTO run_keys (run_id) SELECT run_id FROM runs "
        "WHERE run_id IN (SELECT run_id FROM metrics) ORDER BY run_id"
    )
    _set_aside("metrics_by_run_id")
    op.create_table(
        "metrics",
        sa.Column("run_key", sa.Integer, nullable=False),
        *_point_columns(),
        sa.PrimaryKeyConstraint(
            "run_key", "key", "step", "timestamp", "value", "is_nan", name="pk_metrics"
        ),
        sa.ForeignKeyConstraint(["run_key"], ["run_keys.run_key"], ondelete="CASCADE"),
        sqlite_with_rowid=False,
    )
    op.execute(
        f"INSERT INTO metrics (run_key, {_POINT_COLUMNS}) "
        f"SELECT k.run_key, {_prefixed('m')} FROM metrics_by_run_id m "
        "JOIN run_keys k ON k.run_id = m.run_id"
    )
    op.drop_table("metrics_by_run_id")


def downgrade() -> None:
    _set_aside("metrics_by_run_key")
    op.create_table(
        "metrics",
        sa.Column("run_id", sa.String(32), nullable=False),
        *_point_columns(),
        sa.PrimaryKeyConstraint(
            "run_id", "key", "step", "timestamp", "value", "is_nan", name="pk_metrics"
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
        sqlite_with_rowid=False,
    )
    op.execute(
        f"INSERT INTO metrics (run_id, {_POINT_COLUMNS}) "
        f"SELECT k.run_id, {_prefixed('m')} FROM metrics_by_run_key m "
        "JOIN run_keys k ON k.run_key = m.run_key"
    )
    op.drop_table("metrics_by_run_key")
    op.drop_table("run_keys")


def _prefixed(alias: str) -> str:
    return ", ".join(f"{alias}.{name.strip()}" for name in _POINT_COLUMNS.split(","))
