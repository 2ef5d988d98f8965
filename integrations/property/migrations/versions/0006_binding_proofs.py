"""binding proofs: every attempt counted per room and resident, SMS codes, staff review

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import integrations.property.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = integrations.property.types.UTCDateTime(timezone=True)
PROOFS = ("phone_last4", "sms", "review")


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    op.create_table(
        "bind_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("proof", _enum("bindingproof", PROOFS), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"]),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bind_attempt_room_at", "bind_attempt", ["room_id", "at"])
    op.create_index("ix_bind_attempt_resident_at", "bind_attempt", ["resident_id", "at"])
    op.create_table(
        "bind_sms_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.Column("wrong_tries", sa.Integer(), nullable=False),
        sa.Column("used_at", UTC_DATETIME, nullable=True),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"]),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bind_sms_code_resident_at", "bind_sms_code", ["resident_id", "created_at"])
    op.create_index("ix_bind_sms_code_room_at", "bind_sms_code", ["room_id", "created_at"])
    op.create_table(
        "binding_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("role", _enum("houserole", ("owner", "tenant", "family")), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=True),
        sa.Column("verified_by", _enum("bindingproof", PROOFS), nullable=True),
        sa.Column(
            "status",
            _enum("bindingrequeststatus", ("pending", "approved", "rejected")),
            nullable=False,
        ),
        sa.Column("remark", sa.Text(), nullable=True),
        sa.Column("reviewer", sa.String(length=50), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("reviewed_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"]),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_binding_request_resident_id", "binding_request", ["resident_id"])
    op.create_index(
        "ix_binding_request_status_created", "binding_request", ["status", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("binding_request")
    op.drop_table("bind_sms_code")
    op.drop_table("bind_attempt")
