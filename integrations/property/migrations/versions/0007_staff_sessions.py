"""staff sessions: a row per signed-in token, checked on each request, revoked at sign-out

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import integrations.property.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_session",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", integrations.property.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "expires_at", integrations.property.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "revoked_at", integrations.property.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_user.id"], name=op.f("fk_staff_session_staff_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
    )
    with op.batch_alter_table("staff_session") as table:
        table.create_index(table.f("ix_staff_session_expires_at"), ["expires_at"], unique=False)
        table.create_index(table.f("ix_staff_session_staff_id"), ["staff_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_session") as table:
        table.drop_index(table.f("ix_staff_session_staff_id"))
        table.drop_index(table.f("ix_staff_session_expires_at"))
    op.drop_table("staff_session")
