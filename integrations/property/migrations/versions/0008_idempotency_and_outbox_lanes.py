"""work done once: idempotency keys on what actions create, outbox dedupe keys and lanes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYED = ("repair_order", "repair_event", "complaint", "handoff", "booking")


def upgrade() -> None:
    for table_name in KEYED:
        with op.batch_alter_table(table_name) as table:
            table.add_column(sa.Column("idempotency_key", sa.String(length=64), nullable=True))
            table.create_unique_constraint(f"uq_{table_name}_idempotency_key", ["idempotency_key"])
    with op.batch_alter_table("outbound_message") as table:
        table.add_column(sa.Column("priority", sa.Integer(), server_default="1", nullable=False))
        table.add_column(sa.Column("dedupe_key", sa.String(length=64), nullable=True))
        table.create_unique_constraint("uq_outbound_message_dedupe_key", ["dedupe_key"])


def downgrade() -> None:
    with op.batch_alter_table("outbound_message") as table:
        table.drop_constraint("uq_outbound_message_dedupe_key", type_="unique")
        table.drop_column("dedupe_key")
        table.drop_column("priority")
    for table_name in reversed(KEYED):
        with op.batch_alter_table(table_name) as table:
            table.drop_constraint(f"uq_{table_name}_idempotency_key", type_="unique")
            table.drop_column("idempotency_key")
