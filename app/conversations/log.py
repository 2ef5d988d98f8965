"""Database side of the conversation path: the inbound log and the outbox (synchronous)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.conversations.models import (
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    OutboundStatus,
)
from integrations.property.models import utcnow
from integrations.wechat.messages import Incoming

MAX_INBOUND_ATTEMPTS = 30
MAX_OUTBOUND_ATTEMPTS = 10
SEND_LEASE = timedelta(seconds=60)


class MessageLog:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record(self, incoming: Incoming) -> int | None:
        """Persist before processing; None when this message was seen before."""
        payload = {k: v for k, v in asdict(incoming).items() if v not in (None, "", {})}
        try:
            with self._sessions.begin() as session:
                row = InboundMessage(
                    channel=incoming.channel,
                    dedupe_key=f"{incoming.channel}:{incoming.dedupe_key}",
                    sender=incoming.sender,
                    kind=incoming.kind,
                    text=incoming.text,
                    payload=payload,
                    received_at=utcnow(),
                )
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:
            return None

    def answered(self, message_id: int, replies: list[str], delivery: str) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(InboundMessage)
                .where(InboundMessage.id == message_id)
                .values(
                    status=InboundStatus.ANSWERED,
                    replies=replies,
                    delivery=delivery,
                    answered_at=utcnow(),
                    error=None,
                )
            )

    def postponed(self, message_id: int, error: str) -> bool:
        """Not answered yet (Rasa down…): the recovery loop takes it again later, up to
        MAX_INBOUND_ATTEMPTS times. True when that was the last attempt (now `failed`)."""
        with self._sessions.begin() as session:
            row = session.get(InboundMessage, message_id)
            if row is None:
                return False
            row.error = error[:500]
            if row.attempts >= MAX_INBOUND_ATTEMPTS:
                row.status = InboundStatus.FAILED
                return True
            return False

    def stored_answer(self, channel: str, dedupe_key: str) -> tuple[list[str], str] | None:
        with self._sessions() as session:
            row = session.scalar(
                select(InboundMessage).where(
                    InboundMessage.dedupe_key == f"{channel}:{dedupe_key}",
                    InboundMessage.status == InboundStatus.ANSWERED,
                )
            )
            return (list(row.replies), row.delivery or "push") if row else None

    def claim_unanswered(self, older_than: timedelta, limit: int = 20) -> list[InboundMessage]:
        """Messages whose processing never finished; each is claimed by one worker only."""
        cutoff = utcnow() - older_than
        claimed: list[InboundMessage] = []
        with self._sessions.begin() as session:
            rows = session.scalars(
                select(InboundMessage)
                .where(InboundMessage.status == InboundStatus.RECEIVED)
                .where(InboundMessage.received_at < cutoff)
                .order_by(InboundMessage.id)
                .limit(limit)
            ).all()
            for row in rows:
                won = session.execute(
                    update(InboundMessage)
                    .where(InboundMessage.id == row.id, InboundMessage.attempts == row.attempts)
                    .values(attempts=row.attempts + 1, received_at=utcnow())
                ).rowcount
                if won:
                    claimed.append(row)
        return claimed

    def last_inbound_at(self, channel: str, sender: str) -> datetime | None:
        with self._sessions() as session:
            return session.scalar(
                select(func.max(InboundMessage.received_at)).where(
                    InboundMessage.channel == channel, InboundMessage.sender == sender
                )
            )

    def enqueue(self, channel: str, recipient: str, text: str, title: str) -> int:
        """Record a push; the caller sends it now, so the retry loop leaves it alone for a
        lease (a failed attempt reschedules it, a crash lets the lease run out)."""
        with self._sessions.begin() as session:
            row = OutboundMessage(
                channel=channel,
                recipient=recipient,
                text=text,
                title=title,
                created_at=utcnow(),
                next_attempt_at=utcnow() + SEND_LEASE,
            )
            session.add(row)
            session.flush()
            return row.id

    def sent(self, outbound_id: int, via: str) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id == outbound_id)
                .values(
                    status=OutboundStatus.SENT,
                    via=via,
                    sent_at=utcnow(),
                    error=None,
                    attempts=OutboundMessage.attempts + 1,
                )
            )

    def send_failed(self, outbound_id: int, error: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(OutboundMessage, outbound_id)
            if row is None:
                return
            row.attempts += 1
            row.error = error[:500]
            row.next_attempt_at = utcnow() + timedelta(seconds=min(3600, 5 * 2**row.attempts))
            if row.attempts >= MAX_OUTBOUND_ATTEMPTS:
                row.status = OutboundStatus.FAILED

    def claim_due_outbound(self, limit: int = 20) -> list[OutboundMessage]:
        now = utcnow()
        claimed: list[OutboundMessage] = []
        with self._sessions.begin() as session:
            rows = session.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.status == OutboundStatus.PENDING)
                .where(OutboundMessage.next_attempt_at <= now)
                .order_by(OutboundMessage.id)
                .limit(limit)
            ).all()
            for row in rows:
                lease = now + SEND_LEASE  # others skip it while this worker sends
                won = session.execute(
                    update(OutboundMessage)
                    .where(
                        OutboundMessage.id == row.id,
                        OutboundMessage.next_attempt_at == row.next_attempt_at,
                    )
                    .values(next_attempt_at=lease)
                ).rowcount
                if won:
                    claimed.append(row)
        return claimed
