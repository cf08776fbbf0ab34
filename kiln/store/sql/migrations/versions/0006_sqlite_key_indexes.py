"""On SQLite, drop the (key, run_id) indexes of params and tags.

On SQLite each of these tables also has a covering (key, value, run_id)
index, which serves every search the narrower one served: a key's rows in
order are the same range of either. Keeping both meant every logged param
or tag updated two index pages where one does. PostgreSQL keeps its
(key, run_id) indexes: it has no covering index, as an index entry there may
not exceed about 2.7 kB and values may be longer.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_INDEXES = {
    "ix_params_key_value": ("params", ["key", "run_id"]),
    "ix_tags_key": ("tags", ["key", "run_id"]),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, (table, _) in _INDEXES.items():
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, (table, columns) in _INDEXES.items():
        op.create_index(name, table, columns)
