from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from integrations.property.interface import House, PropertyError, ResidentInfo, ServiceContacts
from integrations.property.models import (
    Building,
    Community,
    HouseRole,
    Resident,
    ResidentRoom,
    Room,
    Unit,
    utcnow,
)
from integrations.property.services._base import (
    Service,
    ensure_resident,
    find_room,
    house_of,
    load_resident,
    resident_info,
)

MAX_BIND_FAILURES = 5
BIND_LOCK = timedelta(minutes=30)
LOCKED = "验证失败次数过多，请30分钟后再试，或带证件到物业服务中心办理。"
ROLE_LABELS = {HouseRole.OWNER: "业主", HouseRole.TENANT: "租户", HouseRole.FAMILY: "家属"}


class ResidentService(Service):
    def by_openid(self, openid: str) -> ResidentInfo | None:
        with self._tx() as session:
            resident = load_resident(session, openid)
            return resident_info(resident) if resident else None

    def contacts(self, openid: str) -> ServiceContacts:
        """The community of the resident's first house; the only community if unbound."""
        with self._tx() as session:
            resident = load_resident(session, openid)
            community = None
            if resident is not None and resident.houses:
                community = session.scalar(
                    select(Community)
                    .join(Building)
                    .join(Unit)
                    .join(Room)
                    .where(Room.id == resident.houses[0].room_id)
                )
            if community is None:
                only = session.scalars(select(Community).limit(2)).all()
                community = only[0] if len(only) == 1 else None
            if community is None:
                return ServiceContacts("", "", "")
            return ServiceContacts(
                community.name,
                community.service_phone,
                community.emergency_phone,
                community.office_opens,
                community.office_closes,
            )

    def bind(
        self, openid: str, *, building: str, unit: str, room: str, phone_last4: str, role: str
    ) -> House:
        """Bind a WeChat identity to a room, proven by the last four digits of the phone
        registered for it. Five wrong answers lock binding for half an hour."""
        now = utcnow()
        label = f"{building}栋{unit}单元{room}"
        with self._tx() as session:  # committed even when refused: failed attempts count
            resident = ensure_resident(session, openid)
            target = find_room(session, building, unit, room)
            refusal = _refusal(resident, target, phone_last4, label, now)
            if refusal is None:
                assert target is not None
                resident.bind_failures = 0
                link = next((h for h in resident.houses if h.room_id == target.id), None)
                if link is None:
                    link = ResidentRoom(
                        resident_id=resident.id,
                        room_id=target.id,
                        role=HouseRole(role),
                        bound_at=now,
                    )
                    session.add(link)
                link.role = HouseRole(role)
                session.flush()
                session.refresh(link, ["room"])
                house = house_of(link)
        if refusal is not None:
            raise PropertyError(refusal)
        return house


def _refusal(
    resident: Resident, target: Room | None, phone_last4: str, label: str, now: datetime
) -> str | None:
    if resident.bind_locked_until and resident.bind_locked_until > now:
        return LOCKED
    if target is None:
        return f"没有找到{label}，请核对楼栋、单元和房号。"
    if phone_last4 and target.registered_phone.endswith(phone_last4):
        return None
    resident.bind_failures += 1
    left = MAX_BIND_FAILURES - resident.bind_failures
    if left > 0:
        return f"手机号后四位与{label}登记的不一致，还可以再试{left}次。"
    resident.bind_failures = 0
    resident.bind_locked_until = now + BIND_LOCK
    return LOCKED
