"""The message log: every incoming message is written before it is processed; every
proactive message before it is sent. Same database and migrations as the property system."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from integrations.property.models import Base, str_enum, utcnow

# The staff WeCom group: the recipient (and channel) of staff alerts.
STAFF_GROUP = "staff-group"


class InboundStatus(enum.StrEnum):
    RECEIVED = "received"
    ANSWERED = "answered"
    FAILED = "failed"


class Priority(enum.IntEnum):
    """An outbound message's lane: urgent ones go out before any routine one waiting."""

    URGENT = 0
    ROUTINE = 1


class OutboundStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class InboundMessage(Base):
    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    sender: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[InboundStatus] = mapped_column(
        str_enum(InboundStatus), default=InboundStatus.RECEIVED, index=True
    )
    replies: Mapped[list[str]] = mapped_column(JSON, default=list)
    delivery: Mapped[str | None] = mapped_column(
        String(10), comment="reply: passive reply; push: sent through the push channel"
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]


class OutboundMessage(Base):
    __tablename__ = "outbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(50), default="")
    # Lower goes first (Priority); a retry of the work that queued it finds the row by its key.
    priority: Mapped[int] = mapped_column(Integer, default=Priority.ROUTINE, server_default="1")
    dedupe_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[OutboundStatus] = mapped_column(
        str_enum(OutboundStatus), default=OutboundStatus.PENDING, index=True
    )
    via: Mapped[str | None] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
