from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from integrations.property.interface import HandoffInfo, InvalidTransition, NotFound
from integrations.property.models import Handoff, HandoffStatus, utcnow
from integrations.property.services._base import Service, once

ACTIVE = (HandoffStatus.OPEN, HandoffStatus.CLAIMED)


class HandoffService(Service):
    def open(
        self,
        sender_id: str,
        *,
        channel: str,
        reason: str,
        transcript: list[dict[str, str]] | None = None,
        idempotency_key: str | None = None,
    ) -> HandoffInfo:
        """Open a handoff with the conversation so far, or return the one this sender
        already has (or the one an earlier call with this `idempotency_key` opened)."""
        return once(
            lambda: self._open(sender_id, channel, reason, transcript, idempotency_key),
            lambda: self._replay(idempotency_key),
        )

    def _replay(self, key: str | None) -> HandoffInfo | None:
        if key is None:
            return None
        with self._tx() as session:
            made = session.scalar(select(Handoff).where(Handoff.idempotency_key == key))
            return _info(made) if made else None

    def _open(
        self,
        sender_id: str,
        channel: str,
        reason: str,
        transcript: list[dict[str, str]] | None,
        idempotency_key: str | None,
    ) -> HandoffInfo:
        with self._tx() as session:
            if idempotency_key is not None:
                made = session.scalar(
                    select(Handoff).where(Handoff.idempotency_key == idempotency_key)
                )
                if made is not None:
                    return _info(made)
            existing = session.scalar(
                select(Handoff).where(Handoff.sender_id == sender_id, Handoff.status.in_(ACTIVE))
            )
            if existing is not None:
                return _info(existing)
            handoff = Handoff(
                sender_id=sender_id,
                channel=channel,
                reason=reason,
                transcript=list(transcript or []),
                created_at=utcnow(),
                idempotency_key=idempotency_key,
            )
            session.add(handoff)
            session.flush()
            return _info(handoff)

    def active_for(self, sender_id: str) -> HandoffInfo | None:
        with self._tx() as session:
            handoff = session.scalar(
                select(Handoff).where(Handoff.sender_id == sender_id, Handoff.status.in_(ACTIVE))
            )
            return _info(handoff) if handoff else None

    def get(self, handoff_id: int) -> HandoffInfo:
        with self._tx() as session:
            return _info(_load(session, handoff_id))

    def active(self) -> list[HandoffInfo]:
        """Open and claimed handoffs, the longest waiting first."""
        with self._tx() as session:
            rows = session.scalars(
                select(Handoff).where(Handoff.status.in_(ACTIVE)).order_by(Handoff.created_at)
            )
            return [_info(h) for h in rows]

    def append(self, handoff_id: int, *, speaker: str, text: str) -> HandoffInfo:
        """One more line of the conversation (`speaker`: resident, staff name, bot)."""
        with self._tx() as session:
            handoff = _load(session, handoff_id, for_update=True)
            line = {"from": speaker, "text": text, "at": utcnow().isoformat()}
            handoff.transcript = [*handoff.transcript, line]  # a new list: JSON is not tracked
            return _info(handoff)

    def claim(self, handoff_id: int, *, staff: str) -> HandoffInfo:
        """Exactly one of several staff claiming at once wins (a conditional UPDATE)."""
        with self._tx() as session:
            claimed = session.execute(
                update(Handoff)
                .where(Handoff.id == handoff_id, Handoff.status == HandoffStatus.OPEN)
                .values(status=HandoffStatus.CLAIMED, claimed_by=staff, claimed_at=utcnow())
            ).rowcount
            handoff = session.get(Handoff, handoff_id)
            if handoff is None:
                raise NotFound(f"没有找到会话 {handoff_id}。")
            if not claimed:
                session.refresh(handoff)
                if handoff.status is HandoffStatus.CLAIMED:
                    raise InvalidTransition(f"该会话已由 {handoff.claimed_by} 接手。")
                raise InvalidTransition("该会话已结束。")
            session.refresh(handoff)
            return _info(handoff)

    def take_over(self, handoff_id: int, *, staff: str) -> HandoffInfo:
        """An admin takes a conversation whoever holds it (app/staff/desk.py checks the role)."""
        with self._tx() as session:
            handoff = _load(session, handoff_id, for_update=True)
            if handoff.status is HandoffStatus.CLOSED:
                raise InvalidTransition("该会话已结束。")
            handoff.status = HandoffStatus.CLAIMED
            handoff.claimed_by = staff
            handoff.claimed_at = utcnow()
            return _info(handoff)

    def close(self, handoff_id: int, *, staff: str) -> HandoffInfo:
        with self._tx() as session:
            handoff = _load(session, handoff_id, for_update=True)
            if handoff.status is HandoffStatus.CLOSED:
                raise InvalidTransition("该会话已结束。")
            handoff.status = HandoffStatus.CLOSED
            handoff.closed_at = utcnow()
            handoff.claimed_by = handoff.claimed_by or staff
            return _info(handoff)


def _load(session: Session, handoff_id: int, *, for_update: bool = False) -> Handoff:
    handoff = session.get(Handoff, handoff_id, with_for_update=for_update)
    if handoff is None:
        raise NotFound(f"没有找到会话 {handoff_id}。")
    return handoff


def _info(h: Handoff) -> HandoffInfo:
    return HandoffInfo(
        id=h.id,
        sender_id=h.sender_id,
        channel=h.channel,
        reason=h.reason,
        status=h.status.value,
        claimed_by=h.claimed_by,
        created_at=h.created_at,
        transcript=tuple(h.transcript or ()),
    )
