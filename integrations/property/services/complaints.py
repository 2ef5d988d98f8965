from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrations.property.interface import ComplaintInfo, InvalidTransition, NotFound
from integrations.property.models import Complaint, ComplaintStatus, utcnow
from integrations.property.services import numbering
from integrations.property.services._base import Service, require_resident

S = ComplaintStatus
TRANSITIONS: dict[ComplaintStatus, set[ComplaintStatus]] = {
    S.OPEN: {S.PROCESSING, S.RESOLVED, S.CLOSED},
    S.PROCESSING: {S.RESOLVED, S.CLOSED},
    S.RESOLVED: {S.CLOSED, S.PROCESSING},
    S.CLOSED: set(),
}
# Hours within which staff must respond, by complaint_type (DESIGN.md names).
SLA_HOURS = {"安全": 2, "消防通道": 2, "噪音": 12, "电动车充电": 12, "油烟": 24}
DEFAULT_SLA_HOURS = 48


class ComplaintService(Service):
    def create(
        self,
        openid: str,
        *,
        complaint_type: str,
        description: str,
        location: str | None = None,
        anonymous: bool = False,
    ) -> ComplaintInfo:
        with self._tx() as session:
            resident = require_resident(session, openid)
            now = utcnow()
            complaint = Complaint(
                number=numbering.placeholder(),
                resident_id=resident.id,
                complaint_type=complaint_type,
                location=location,
                description=description,
                anonymous=anonymous,
                status=S.OPEN,
                sla_due_at=now + timedelta(hours=SLA_HOURS.get(complaint_type, DEFAULT_SLA_HOURS)),
                created_at=now,
            )
            session.add(complaint)
            session.flush()
            complaint.number = numbering.assign("TS", now, complaint.id)
            return _info(complaint)

    def get(self, number: str, *, openid: str | None = None) -> ComplaintInfo:
        with self._tx() as session:
            complaint = _load(session, number)
            if openid is not None and complaint.resident_id != require_resident(session, openid).id:
                raise NotFound(f"没有找到编号为 {number} 的投诉。")
            return _info(complaint)

    def transition(
        self, number: str, status: str, *, actor: str, response: str | None = None
    ) -> ComplaintInfo:
        with self._tx() as session:
            complaint = _load(session, number, for_update=True)
            target = ComplaintStatus(status)
            if target not in TRANSITIONS[complaint.status]:
                raise InvalidTransition(f"投诉 {number} 已关闭，不能再更改。")
            complaint.status = target
            if response is not None:
                complaint.response = response
            if target is S.CLOSED:
                complaint.closed_at = utcnow()
            return _info(complaint)


def _load(session: Session, number: str, *, for_update: bool = False) -> Complaint:
    query = select(Complaint).where(Complaint.number == number.upper())
    complaint = session.scalar(query.with_for_update() if for_update else query)
    if complaint is None:
        raise NotFound(f"没有找到编号为 {number} 的投诉。")
    return complaint


def _info(c: Complaint) -> ComplaintInfo:
    return ComplaintInfo(
        id=c.id,
        number=c.number,
        complaint_type=c.complaint_type,
        location=c.location,
        description=c.description,
        anonymous=c.anonymous,
        status=c.status.value,
        sla_due_at=c.sla_due_at,
        response=c.response,
        created_at=c.created_at,
    )
