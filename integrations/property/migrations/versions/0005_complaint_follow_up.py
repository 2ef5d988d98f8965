"""complaint follow-up: when staff first responded (the SLA is met or not) and the rating's comment

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import integrations.property.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("complaint") as table:
        table.add_column(
            sa.Column(
                "responded_at",
                integrations.property.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        table.add_column(sa.Column("rating_comment", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("complaint") as table:
        table.drop_column("rating_comment")
        table.drop_column("responded_at")
