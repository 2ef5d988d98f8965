"""Database side of the conversation path: the inbound log and the outbox (synchronous)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.conversations.models import (
    STAFF_GROUP,
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    OutboundStatus,
    Priority,
)
from integrations.property.models import utcnow
from integrations.wechat.messages import Incoming

MAX_INBOUND_ATTEMPTS = 30
# A push to a resident is given up after this many attempts (about an hour and a half);
# staff alerts are kept until the robot accepts them, retried at most this far apart.
MAX_OUTBOUND_ATTEMPTS = 10
BACKOFF_CAP = timedelta(hours=1)
STAFF_ALERT_BACKOFF_CAP = timedelta(minutes=5)
KEPT_UNTIL_SENT = frozenset({STAFF_GROUP})
# How long a claimed push is left to its claimer. A rate-limited channel's message is
# claimed only once its send slot has come, so no claim waits out a queue.
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

    def enqueue(
        self,
        channel: str,
        recipient: str,
        text: str,
        title: str,
        *,
        priority: int = Priority.ROUTINE,
        dedupe_key: str | None = None,
        leased: bool = True,
    ) -> int | None:
        """Record a push; None when one with this `dedupe_key` is already recorded.

        `leased`: the caller sends it now, so the retry loop leaves it alone for a lease (a
        failed attempt reschedules it, a crash lets the lease run out). Otherwise it is due
        at once, for the channel's lane to claim when a send slot comes."""
        now = utcnow()
        try:
            with self._sessions.begin() as session:
                row = OutboundMessage(
                    channel=channel,
                    recipient=recipient,
                    text=text,
                    title=title,
                    priority=int(priority),
                    dedupe_key=dedupe_key,
                    created_at=now,
                    next_attempt_at=now + SEND_LEASE if leased else now,
                )
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:
            if dedupe_key is None:
                raise
            return None

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
        """Tried again after a backoff; a push to a resident is given up (`failed`) after
        MAX_OUTBOUND_ATTEMPTS, a staff alert never is (its backoff stops growing instead)."""
        with self._sessions.begin() as session:
            row = session.get(OutboundMessage, outbound_id)
            if row is None:
                return
            row.attempts += 1
            row.error = error[:500]
            kept = row.channel in KEPT_UNTIL_SENT
            cap = STAFF_ALERT_BACKOFF_CAP if kept else BACKOFF_CAP
            backoff = min(cap.total_seconds(), 5 * 2 ** min(row.attempts, 20))
            row.next_attempt_at = utcnow() + timedelta(seconds=backoff)
            if row.attempts >= MAX_OUTBOUND_ATTEMPTS and not kept:
                row.status = OutboundStatus.FAILED

    def has_due(self, channel: str) -> bool:
        with self._sessions() as session:
            return (
                session.scalar(
                    select(OutboundMessage.id)
                    .where(*_due(utcnow()), OutboundMessage.channel == channel)
                    .limit(1)
                )
                is not None
            )

    def claim_due_outbound(
        self,
        limit: int = 20,
        *,
        channel: str | None = None,
        skip_channels: Collection[str] = (),
    ) -> list[OutboundMessage]:
        """Due pushes, urgent before routine, then oldest first; each is leased to the
        caller, who sends it at once (others skip it until the lease runs out)."""
        now = utcnow()
        claimed: list[OutboundMessage] = []
        query = select(OutboundMessage).where(*_due(now))
        if channel is not None:
            query = query.where(OutboundMessage.channel == channel)
        if skip_channels:
            query = query.where(OutboundMessage.channel.not_in(list(skip_channels)))
        with self._sessions.begin() as session:
            rows = session.scalars(
                query.order_by(OutboundMessage.priority, OutboundMessage.id).limit(limit)
            ).all()
            for row in rows:
                lease = now + SEND_LEASE
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


def _due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        OutboundMessage.status == OutboundStatus.PENDING,
        OutboundMessage.next_attempt_at <= now,
    )
