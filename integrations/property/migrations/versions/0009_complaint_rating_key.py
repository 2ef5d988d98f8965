"""complaint rating key: a rating retried after a lost connection finds the one it made

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("complaint") as table:
        table.add_column(sa.Column("rating_key", sa.String(length=64), nullable=True))
        table.create_unique_constraint("uq_complaint_rating_key", ["rating_key"])


def downgrade() -> None:
    with op.batch_alter_table("complaint") as table:
        table.drop_constraint("uq_complaint_rating_key", type_="unique")
        table.drop_column("rating_key")
