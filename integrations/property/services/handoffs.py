from __future__ import annotations

from sqlalchemy import select, update

from integrations.property.interface import HandoffInfo, InvalidTransition, NotFound
from integrations.property.models import Handoff, HandoffStatus, utcnow
from integrations.property.services._base import Service

ACTIVE = (HandoffStatus.OPEN, HandoffStatus.CLAIMED)


class HandoffService(Service):
    def open(self, sender_id: str, *, channel: str, reason: str) -> HandoffInfo:
        """Open a handoff, or return the one this sender already has."""
        with self._tx() as session:
            existing = session.scalar(
                select(Handoff).where(Handoff.sender_id == sender_id, Handoff.status.in_(ACTIVE))
            )
            if existing is not None:
                return _info(existing)
            handoff = Handoff(
                sender_id=sender_id, channel=channel, reason=reason, created_at=utcnow()
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

    def close(self, handoff_id: int, *, staff: str) -> HandoffInfo:
        with self._tx() as session:
            handoff = session.get(Handoff, handoff_id, with_for_update=True)
            if handoff is None:
                raise NotFound(f"没有找到会话 {handoff_id}。")
            if handoff.status is HandoffStatus.CLOSED:
                raise InvalidTransition("该会话已结束。")
            handoff.status = HandoffStatus.CLOSED
            handoff.closed_at = utcnow()
            handoff.claimed_by = handoff.claimed_by or staff
            return _info(handoff)


def _info(h: Handoff) -> HandoffInfo:
    return HandoffInfo(
        id=h.id,
        sender_id=h.sender_id,
        channel=h.channel,
        reason=h.reason,
        status=h.status.value,
        claimed_by=h.claimed_by,
        created_at=h.created_at,
    )
