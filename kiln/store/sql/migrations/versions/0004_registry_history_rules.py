"""Record every move in the registry and let a model protect its aliases.

``alias_history`` never held a row; it gives way to ``registry_history``,
which records alias moves and stage transitions alike, with the reason given
for them, and ``promotion_rules`` holds the rule that guards an alias.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _model_key() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["name"], ["registered_models.name"], ondelete="CASCADE", onupdate="CASCADE"
    )


def upgrade() -> None:
    op.drop_index("ix_alias_history_name_alias", table_name="alias_history")
    op.drop_table("alias_history")
    op.create_table(
        "registry_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("alias", sa.String(256)),
        sa.Column("version", sa.Integer),
        sa.Column("previous_version", sa.Integer),
        sa.Column("stage", sa.String(20)),
        sa.Column("previous_stage", sa.String(20)),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.String(256)),
        sa.Column("reason", sa.Text),
        _model_key(),
    )
    op.create_index(
        "ix_registry_history_name_kind_alias",
        "registry_history",
        ["name", "kind", "alias", "id"],
    )
    op.create_table(
        "promotion_rules",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("alias", sa.String(256), nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.String(256)),
        sa.PrimaryKeyConstraint("name", "alias", name="pk_promotion_rules"),
        _model_key(),
    )


def downgrade() -> None:
    op.drop_table("promotion_rules")
    op.drop_index("ix_registry_history_name_kind_alias", table_name="registry_history")
    op.drop_table("registry_history")
    op.create_table(
        "alias_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("alias", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer),
        sa.Column("previous_version", sa.Integer),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.String(256)),
        _model_key(),
    )
    op.create_index(
        "ix_alias_history_name_alias", "alias_history", ["name", "alias", "id"]
    )
