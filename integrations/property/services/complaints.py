from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from integrations.property.interface import (
    ComplaintInfo,
    InvalidTransition,
    NotFound,
    PropertyError,
)
from integrations.property.models import (
    Complaint,
    ComplaintStatus,
    Resident,
    utcnow,
)
from integrations.property.services import numbering
from integrations.property.services._base import (
    Service,
    house_of,
    load_resident,
    once,
    require_resident,
    with_houses,
)

S = ComplaintStatus
TRANSITIONS: dict[ComplaintStatus, set[ComplaintStatus]] = {
    S.OPEN: {S.PROCESSING, S.RESOLVED, S.CLOSED},
    S.PROCESSING: {S.PROCESSING, S.RESOLVED, S.CLOSED},
    S.RESOLVED: {S.CLOSED, S.PROCESSING},
    S.CLOSED: set(),
}
OPEN_STATUSES = (S.OPEN, S.PROCESSING, S.RESOLVED)
STATUS_LABELS = {S.OPEN: "待处理", S.PROCESSING: "处理中", S.RESOLVED: "已解决", S.CLOSED: "已办结"}
# Hours within which staff must respond, by complaint_type (DESIGN.md names).
SLA_HOURS = {"安全": 2, "消防通道": 2, "噪音": 12, "电动车充电": 12, "油烟": 24}
DEFAULT_SLA_HOURS = 48
# A complaint about danger is a person's job at once, not a queue's.
URGENT_TYPES = frozenset(kind for kind, hours in SLA_HOURS.items() if hours <= 2)
RATING_WINDOW = timedelta(days=7)


def sla_state(complaint: ComplaintInfo, now: datetime) -> str:
    """`met` / `missed` once answered; `overdue` / `due` while waiting."""
    if complaint.responded_at is not None:
        return "met" if complaint.responded_at <= complaint.sla_due_at else "missed"
    return "overdue" if now > complaint.sla_due_at else "due"


class ComplaintService(Service):
    def create(
        self,
        openid: str,
        *,
        complaint_type: str,
        description: str,
        location: str | None = None,
        anonymous: bool = False,
        idempotency_key: str | None = None,
    ) -> ComplaintInfo:
        """A new complaint; again with the same `idempotency_key`, the one the first made."""
        return once(
            lambda: self._create(
                openid,
                complaint_type=complaint_type,
                description=description,
                location=location,
                anonymous=anonymous,
                idempotency_key=idempotency_key,
            ),
            lambda: self._replay(idempotency_key),
        )

    def _replay(self, key: str | None) -> ComplaintInfo | None:
        if key is None:
            return None
        with self._tx() as session:
            made = session.scalar(_query().where(Complaint.idempotency_key == key))
            return _info(made) if made else None

    def _create(
        self,
        openid: str,
        *,
        complaint_type: str,
        description: str,
        location: str | None,
        anonymous: bool,
        idempotency_key: str | None,
    ) -> ComplaintInfo:
        with self._tx() as session:
            if idempotency_key is not None:
                made = session.scalar(_query().where(Complaint.idempotency_key == idempotency_key))
                if made is not None:
                    return _info(made)
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
                idempotency_key=idempotency_key,
            )
            session.add(complaint)
            session.flush()
            complaint.number = numbering.assign("TS", now, complaint.id)
            return _info(complaint, resident)

    def get(self, number: str, *, openid: str | None = None) -> ComplaintInfo:
        with self._tx() as session:
            complaint = _load(session, number)
            if openid is not None and complaint.resident_id != require_resident(session, openid).id:
                raise NotFound(f"没有找到编号为 {number} 的投诉。")
            return _info(complaint)

    def for_resident(self, openid: str, *, open_only: bool = False) -> list[ComplaintInfo]:
        with self._tx() as session:
            resident = load_resident(session, openid)
            if resident is None:
                return []
            query = _query().where(Complaint.resident_id == resident.id)
            if open_only:
                query = query.where(Complaint.status.in_(OPEN_STATUSES))
            return [_info(c) for c in session.scalars(query.order_by(Complaint.id.desc()))]

    def list(
        self, *, status: str | None = None, complaint_type: str | None = None, limit: int = 200
    ) -> list[ComplaintInfo]:
        """For staff: the open ones by deadline, or those of one status, newest first."""
        with self._tx() as session:
            query = _query().limit(limit)
            if status is None:
                query = query.where(Complaint.status.in_(OPEN_STATUSES))
                query = query.order_by(Complaint.sla_due_at, Complaint.id)
            else:
                query = query.where(Complaint.status == ComplaintStatus(status))
                query = query.order_by(Complaint.id.desc())
            if complaint_type:
                query = query.where(Complaint.complaint_type == complaint_type)
            return [_info(c) for c in session.scalars(query)]

    def transition(
        self, number: str, status: str, *, actor: str, response: str | None = None
    ) -> ComplaintInfo:
        with self._tx() as session:
            complaint = _load(session, number, for_update=True)
            target = ComplaintStatus(status)
            if target not in TRANSITIONS[complaint.status]:
                raise InvalidTransition(f"投诉 {complaint.number} 已办结，不能再更改。")
            complaint.status = target
            if response:
                complaint.response = response
                complaint.responded_at = complaint.responded_at or utcnow()
            if target is S.CLOSED:
                complaint.closed_at = utcnow()
                complaint.responded_at = complaint.responded_at or complaint.closed_at
            return _info(complaint)

    def rate(
        self,
        number: str,
        *,
        openid: str,
        score: int,
        comment: str = "",
        idempotency_key: str | None = None,
    ) -> ComplaintInfo:
        """The resident's rating of a closed complaint. Again with the same `idempotency_key`:
        the complaint as that rating left it (a later rating still finds it rated)."""
        if not 1 <= score <= 5:
            raise PropertyError("请打1到5分。")
        return once(
            lambda: self._rate(number, openid, score, comment, idempotency_key),
            lambda: self._rated(number, openid, idempotency_key),
        )

    def _rated(self, number: str, openid: str, key: str | None) -> ComplaintInfo | None:
        if key is None:
            return None
        with self._tx() as session:
            complaint = _own(session, number, openid, for_update=False)
            return _info(complaint) if complaint.rating_key == key else None

    def _rate(
        self, number: str, openid: str, score: int, comment: str, key: str | None
    ) -> ComplaintInfo:
        with self._tx() as session:
            complaint = _own(session, number, openid, for_update=True)
            if key is not None and complaint.rating_key == key:
                return _info(complaint)
            if complaint.status is not S.CLOSED:
                raise InvalidTransition(f"投诉 {complaint.number} 还在处理中，办结后再来评价吧。")
            if complaint.rating is not None:
                raise InvalidTransition(f"投诉 {complaint.number} 已经评价过了，谢谢您！")
            complaint.rating, complaint.rating_comment = score, comment or None
            complaint.rating_key = key
            return _info(complaint)

    def awaiting_rating(self, openid: str) -> ComplaintInfo | None:
        """The resident's most recently closed complaint of the last week, not rated yet."""
        with self._tx() as session:
            resident = load_resident(session, openid)
            if resident is None:
                return None
            complaint = session.scalar(
                _query()
                .where(
                    Complaint.resident_id == resident.id,
                    Complaint.status == S.CLOSED,
                    Complaint.rating.is_(None),
                    Complaint.closed_at >= utcnow() - RATING_WINDOW,
                )
                .order_by(Complaint.closed_at.desc(), Complaint.id.desc())
                .limit(1)
            )
            return _info(complaint) if complaint else None


def _query() -> Select[tuple[Complaint]]:
    return select(Complaint).options(
        selectinload(Complaint.attachments),
        selectinload(Complaint.resident).options(with_houses()),
    )


def _load(session: Session, number: str, *, for_update: bool = False) -> Complaint:
    query = _query().where(Complaint.number == number.upper())
    complaint = session.scalar(query.with_for_update(of=Complaint) if for_update else query)
    if complaint is None:
        raise NotFound(f"没有找到编号为 {number} 的投诉。")
    return complaint


def _own(session: Session, number: str, openid: str, *, for_update: bool) -> Complaint:
    """The complaint, only if it is this resident's (a stranger learns nothing about it)."""
    complaint = _load(session, number, for_update=for_update)
    if complaint.resident_id != require_resident(session, openid).id:
        raise NotFound(f"没有找到编号为 {number} 的投诉。")
    return complaint


def _info(c: Complaint, resident: Resident | None = None) -> ComplaintInfo:
    resident = resident or c.resident
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
        responded_at=c.responded_at,
        closed_at=c.closed_at,
        rating=c.rating,
        resident_name=resident.name,
        resident_openid=resident.wechat_openid,
        houses="、".join(house_of(link).label for link in resident.houses),
        photos=len(c.attachments),
    )
