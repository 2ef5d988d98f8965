from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from integrations.property.interface import (
    InvalidTransition,
    NotFound,
    PropertyError,
    RepairEventInfo,
    RepairInfo,
)
from integrations.property.models import RepairEvent, RepairOrder, RepairStatus, Resident, utcnow
from integrations.property.services import numbering
from integrations.property.services._base import (
    Service,
    ensure_resident,
    load_resident,
    once,
    require_bound,
    require_resident,
    room_labels,
)

S = RepairStatus
NEEDS_HOUSE = (
    "报修家里的问题需要先绑定房屋，这样师傅才知道去哪里。公共区域的问题可以直接告诉我位置。"
)
URGE_INTERVAL = timedelta(minutes=30)
TRANSITIONS: dict[RepairStatus, set[RepairStatus]] = {
    S.SUBMITTED: {S.ASSIGNED, S.IN_PROGRESS, S.CANCELLED},
    S.ASSIGNED: {S.ASSIGNED, S.IN_PROGRESS, S.CANCELLED},
    S.IN_PROGRESS: {S.COMPLETED},
    S.COMPLETED: set(),
    S.CANCELLED: set(),
}
OPEN_STATUSES = (S.SUBMITTED, S.ASSIGNED, S.IN_PROGRESS)
STATUS_LABELS = {
    S.SUBMITTED: "已受理",
    S.ASSIGNED: "已派单",
    S.IN_PROGRESS: "维修中",
    S.COMPLETED: "已完成",
    S.CANCELLED: "已取消",
}


class RepairService(Service):
    def create(
        self,
        openid: str,
        *,
        item: str,
        description: str = "",
        location: str | None = None,
        room_id: int | None = None,
        public_area: bool = False,
        emergency: bool = False,
        preferred_start: datetime | None = None,
        preferred_end: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> RepairInfo:
        """A new order. In-home repairs need a bound house; the common parts and
        emergencies are taken from anyone (an emergency never waits for binding).
        A call again with the same `idempotency_key` returns the order the first made."""
        return once(
            lambda: self._create(
                openid,
                item=item,
                description=description,
                location=location,
                room_id=room_id,
                public_area=public_area,
                emergency=emergency,
                preferred_start=preferred_start,
                preferred_end=preferred_end,
                idempotency_key=idempotency_key,
            ),
            lambda: self._replay(idempotency_key),
        )

    def _replay(self, key: str | None) -> RepairInfo | None:
        if key is None:
            return None
        with self._tx() as session:
            order = _keyed(session, key)
            return _info(session, order) if order else None

    def _create(
        self,
        openid: str,
        *,
        item: str,
        description: str,
        location: str | None,
        room_id: int | None,
        public_area: bool,
        emergency: bool,
        preferred_start: datetime | None,
        preferred_end: datetime | None,
        idempotency_key: str | None,
    ) -> RepairInfo:
        with self._tx() as session:
            made = _keyed(session, idempotency_key)
            if made is not None:
                return _info(session, made)
            if public_area or emergency:
                resident = ensure_resident(session, openid)
            else:
                resident = require_bound(session, openid, NEEDS_HOUSE)
            houses = {h.room_id for h in resident.houses}
            if room_id is None and not public_area and len(houses) == 1:
                room_id = next(iter(houses))
            if room_id is None and not public_area and not emergency:
                raise PropertyError("请告诉我是哪一套房屋需要维修。")
            if room_id is not None and room_id not in houses:
                raise PropertyError("您没有绑定这套房屋，不能为它报修。")
            order = RepairOrder(
                number=numbering.placeholder(),
                resident_id=resident.id,
                room_id=None if public_area else room_id,
                item=item,
                location=location,
                description=description,
                public_area=public_area,
                emergency=emergency,
                status=S.SUBMITTED,
                preferred_start=preferred_start,
                preferred_end=preferred_end,
                created_at=utcnow(),
                idempotency_key=idempotency_key,
            )
            session.add(order)
            session.flush()
            order.number = numbering.assign("BX", order.created_at, order.id)
            order.events.append(
                RepairEvent(
                    kind="created", status=S.SUBMITTED, actor=resident.name, note=description
                )
            )
            session.flush()
            return _info(session, order)

    def get(self, number: str, *, openid: str | None = None) -> RepairInfo:
        """One order; with `openid`, only if it is that resident's."""
        with self._tx() as session:
            order = _load(session, number)
            if openid is not None:
                resident = require_resident(session, openid)
                if order.resident_id != resident.id:
                    raise NotFound(f"没有找到单号为 {number} 的报修。")
            return _info(session, order)

    def for_resident(self, openid: str, *, open_only: bool = False) -> list[RepairInfo]:
        with self._tx() as session:
            resident = require_resident(session, openid)
            query = (
                select(RepairOrder)
                .where(RepairOrder.resident_id == resident.id)
                .options(selectinload(RepairOrder.events))
                .order_by(RepairOrder.id.desc())
            )
            if open_only:
                query = query.where(RepairOrder.status.in_(OPEN_STATUSES))
            return [_info(session, order) for order in session.scalars(query)]

    def urge(self, number: str, *, openid: str, idempotency_key: str | None = None) -> RepairInfo:
        """A resident's 催单: recorded on the order (staff see it), status unchanged. Again
        with the same `idempotency_key`: the order as that 催单 left it, nothing recorded."""
        with self._tx() as session:
            order = _own(session, number, openid, for_update=True)
            if _event_keyed(session, idempotency_key):
                return _info(session, order)
            if order.status not in OPEN_STATUSES:
                raise InvalidTransition(
                    f"报修单 {order.number} {STATUS_LABELS[order.status]}，不需要催办。"
                )
            last = max((e.at for e in order.events if e.kind == "urged"), default=None)
            if last is not None and utcnow() - last < URGE_INTERVAL:
                raise InvalidTransition(
                    f"报修单 {order.number} 刚刚已经帮您催过了，工作人员正在加紧处理，请稍候。"
                )
            order.events.append(
                RepairEvent(
                    kind="urged",
                    status=order.status,
                    actor=_name(session, order),
                    note="住户催单",
                    idempotency_key=idempotency_key,
                )
            )
            session.flush()
            return _info(session, order)

    def cancel(self, number: str, *, openid: str, idempotency_key: str | None = None) -> RepairInfo:
        with self._tx() as session:
            order = _own(session, number, openid, for_update=True)
            if _event_keyed(session, idempotency_key):
                return _info(session, order)
            if order.status not in (S.SUBMITTED, S.ASSIGNED):
                raise InvalidTransition(
                    f"报修单 {order.number} {STATUS_LABELS[order.status]}，不能取消了。"
                )
            order.status = S.CANCELLED
            order.events.append(
                RepairEvent(
                    kind="cancelled",
                    status=S.CANCELLED,
                    actor=_name(session, order),
                    note="住户取消",
                    idempotency_key=idempotency_key,
                )
            )
            session.flush()
            return _info(session, order)

    def rate(
        self,
        number: str,
        *,
        openid: str,
        score: int,
        comment: str = "",
        idempotency_key: str | None = None,
    ) -> RepairInfo:
        """The resident's rating of a completed order. Again with the same `idempotency_key`:
        the order as that rating left it (a later rating still finds it rated)."""
        if not 1 <= score <= 5:
            raise PropertyError("请打1到5分。")
        return once(
            lambda: self._rate(number, openid, score, comment, idempotency_key),
            lambda: self._rated(number, openid, idempotency_key),
        )

    def _rated(self, number: str, openid: str, key: str | None) -> RepairInfo | None:
        if key is None:
            return None
        with self._tx() as session:
            order = _own(session, number, openid, for_update=False)
            return _info(session, order) if _event_keyed(session, key) else None

    def _rate(
        self, number: str, openid: str, score: int, comment: str, key: str | None
    ) -> RepairInfo:
        with self._tx() as session:
            order = _own(session, number, openid, for_update=True)
            if _event_keyed(session, key):
                return _info(session, order)
            if order.status is not S.COMPLETED:
                raise InvalidTransition(f"报修单 {order.number} 还没有完成，完成后再来评价吧。")
            if order.rating is not None:
                raise InvalidTransition(f"报修单 {order.number} 已经评价过了，谢谢您！")
            order.rating, order.rating_comment = score, comment or None
            order.events.append(
                RepairEvent(
                    kind="rated",
                    status=order.status,
                    actor=_name(session, order),
                    note=f"{score}分 {comment}".strip(),
                    idempotency_key=key,
                )
            )
            session.flush()
            return _info(session, order)

    def awaiting_rating(self, openid: str) -> RepairInfo | None:
        """The resident's most recently completed order that is not rated yet."""
        with self._tx() as session:
            resident = load_resident(session, openid)
            if resident is None:
                return None
            order = session.scalar(
                select(RepairOrder)
                .where(
                    RepairOrder.resident_id == resident.id,
                    RepairOrder.status == S.COMPLETED,
                    RepairOrder.rating.is_(None),
                )
                .options(selectinload(RepairOrder.events))
                .order_by(RepairOrder.updated_at.desc(), RepairOrder.id.desc())
                .limit(1)
            )
            return _info(session, order) if order else None

    def list(self, *, status: str | None = None, limit: int = 100) -> list[RepairInfo]:
        """Orders for staff, newest first, optionally of one status."""
        with self._tx() as session:
            query = (
                select(RepairOrder)
                .options(selectinload(RepairOrder.events))
                .order_by(RepairOrder.id.desc())
                .limit(limit)
            )
            if status is not None:
                query = query.where(RepairOrder.status == RepairStatus(status))
            return [_info(session, order) for order in session.scalars(query)]

    def transition(
        self, number: str, status: str, *, actor: str, note: str = "", assignee: str | None = None
    ) -> RepairInfo:
        with self._tx() as session:
            order = _load(session, number, for_update=True)
            target = RepairStatus(status)
            if target not in TRANSITIONS[order.status]:
                raise InvalidTransition(
                    f"报修单 {number} 当前{STATUS_LABELS[order.status]}，"
                    f"不能改为{STATUS_LABELS[target]}。"
                )
            order.status = target
            if assignee is not None:
                order.assignee = assignee
            order.events.append(
                RepairEvent(kind=target.value, status=target, actor=actor, note=note)
            )
            session.flush()
            return _info(session, order)


def _load(session: Session, number: str, *, for_update: bool = False) -> RepairOrder:
    query = (
        select(RepairOrder)
        .where(RepairOrder.number == number.upper())
        .options(selectinload(RepairOrder.events))
    )
    if for_update:
        query = query.with_for_update()
    order = session.scalar(query)
    if order is None:
        raise NotFound(f"没有找到单号为 {number} 的报修。")
    return order


def _keyed(session: Session, key: str | None) -> RepairOrder | None:
    if key is None:
        return None
    return session.scalar(
        select(RepairOrder)
        .where(RepairOrder.idempotency_key == key)
        .options(selectinload(RepairOrder.events))
    )


def _event_keyed(session: Session, key: str | None) -> bool:
    if key is None:
        return False
    return (
        session.scalar(select(RepairEvent.id).where(RepairEvent.idempotency_key == key)) is not None
    )


def _own(session: Session, number: str, openid: str, *, for_update: bool) -> RepairOrder:
    """The order, only if it is this resident's (a stranger learns nothing about it)."""
    order = _load(session, number, for_update=for_update)
    resident = require_resident(session, openid)
    if order.resident_id != resident.id:
        raise NotFound(f"没有找到单号为 {number} 的报修。")
    return order


def _name(session: Session, order: RepairOrder) -> str:
    resident = session.get(Resident, order.resident_id) if order.resident_id else None
    return resident.name if resident else "住户"


def _info(session: Session, order: RepairOrder) -> RepairInfo:
    house = room_labels(session, {order.room_id}).get(order.room_id) if order.room_id else None
    resident = session.get(Resident, order.resident_id) if order.resident_id else None
    return RepairInfo(
        id=order.id,
        number=order.number,
        house=house,
        item=order.item,
        location=order.location,
        description=order.description,
        public_area=order.public_area,
        emergency=order.emergency,
        status=order.status.value,
        assignee=order.assignee,
        rating=order.rating,
        created_at=order.created_at,
        resident_openid=resident.wechat_openid if resident else None,
        resident_name=resident.name if resident else None,
        preferred_start=order.preferred_start,
        preferred_end=order.preferred_end,
        events=tuple(
            RepairEventInfo(kind=e.kind, status=e.status.value, actor=e.actor, note=e.note, at=e.at)
            for e in order.events
        ),
    )
