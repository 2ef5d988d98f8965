from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrations.property.interface import AttachmentInfo
from integrations.property.models import (
    Attachment,
    Complaint,
    ComplaintStatus,
    RepairOrder,
    Resident,
    utcnow,
)
from integrations.property.services._base import Service, load_resident
from integrations.property.services.repairs import OPEN_STATUSES

OPEN_COMPLAINTS = (ComplaintStatus.OPEN, ComplaintStatus.PROCESSING)


class AttachmentService(Service):
    def attach(
        self,
        openid: str,
        *,
        kind: str,
        media_id: str | None = None,
        url: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        label: str | None = None,
    ) -> AttachmentInfo:
        """Keep it; on the resident's most recent open repair or complaint, if any."""
        with self._tx() as session:
            resident = load_resident(session, openid)
            attachment = Attachment(
                resident_openid=openid,
                kind=kind,
                media_id=media_id,
                url=url,
                latitude=latitude,
                longitude=longitude,
                label=label,
                created_at=utcnow(),
            )
            target: tuple[str, str] | None = None
            if resident is not None:
                repair = _latest_open_repair(session, resident)
                complaint = _latest_open_complaint(session, resident)
                if complaint is not None and (
                    repair is None or complaint.created_at > repair.created_at
                ):
                    attachment.complaint_id, target = complaint.id, ("complaint", complaint.number)
                elif repair is not None:
                    attachment.repair_id, target = repair.id, ("repair", repair.number)
            session.add(attachment)
            session.flush()
            return AttachmentInfo(
                id=attachment.id,
                kind=kind,
                target=target[0] if target else None,
                number=target[1] if target else None,
            )


def _latest_open_repair(session: Session, resident: Resident) -> RepairOrder | None:
    return session.scalar(
        select(RepairOrder)
        .where(RepairOrder.resident_id == resident.id, RepairOrder.status.in_(OPEN_STATUSES))
        .order_by(RepairOrder.created_at.desc(), RepairOrder.id.desc())
        .limit(1)
    )


def _latest_open_complaint(session: Session, resident: Resident) -> Complaint | None:
    return session.scalar(
        select(Complaint)
        .where(Complaint.resident_id == resident.id, Complaint.status.in_(OPEN_COMPLAINTS))
        .order_by(Complaint.created_at.desc(), Complaint.id.desc())
        .limit(1)
    )
