"""booking slots: one row per seat and slot, unique, so no slot is ever booked twice

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 13:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import integrations.property.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "booking_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column(
            "starts_at", integrations.property.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("seat", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["facility_id"], ["facility.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("facility_id", "starts_at", "seat"),
    )
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancelled_by", sa.String(length=50), nullable=True))
        batch_op.add_column(
            sa.Column(
                "reminded_at",
                integrations.property.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("cancelled_by")
    op.drop_table("booking_slot")
