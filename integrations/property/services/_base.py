from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker
from sqlalchemy.orm.interfaces import LoaderOption

from integrations.property.interface import House, NotBound, NotFound, ResidentInfo
from integrations.property.models import Building, Resident, ResidentRoom, Room, Unit, utcnow

T = TypeVar("T")


def once(work: Callable[[], T], replay: Callable[[], T | None]) -> T:
    """`work`, which records an idempotency key; when a concurrent call with the same key
    won the race (the unique key refused this one), what that call made."""
    try:
        return work()
    except IntegrityError:
        made = replay()
        if made is None:
            raise
        return made


class Service:
    """A service owns one capability; each public method is one transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session


def with_houses() -> LoaderOption:
    """Load a resident's houses down to their buildings (for labels like 1栋1单元101)."""
    return (
        selectinload(Resident.houses)
        .selectinload(ResidentRoom.room)
        .selectinload(Room.unit)
        .selectinload(Unit.building)
    )


def load_resident(session: Session, openid: str) -> Resident | None:
    return session.scalar(
        select(Resident).where(Resident.wechat_openid == openid).options(with_houses())
    )


def ensure_resident(session: Session, openid: str) -> Resident:
    """The resident of this WeChat identity, recorded on first contact."""
    resident = load_resident(session, openid)
    if resident is None:
        resident = Resident(wechat_openid=openid, name="微信住户", created_at=utcnow())
        session.add(resident)
        session.flush()
    return resident


def require_resident(session: Session, openid: str) -> Resident:
    resident = load_resident(session, openid)
    if resident is None:
        raise NotFound("没有找到您的住户信息，请先绑定房屋。")
    return resident


def require_bound(session: Session, openid: str, message: str | None = None) -> Resident:
    resident = load_resident(session, openid)
    if resident is None or not resident.houses:
        raise NotBound(message) if message else NotBound()
    return resident


def resident_info(resident: Resident) -> ResidentInfo:
    return ResidentInfo(
        id=resident.id,
        name=resident.name,
        openid=resident.wechat_openid,
        houses=tuple(house_of(link) for link in resident.houses),
    )


def house_of(link: ResidentRoom) -> House:
    room = link.room
    return House(
        room_id=room.id,
        building=room.unit.building.number,
        unit=room.unit.number,
        room=room.number,
        role=link.role.value,
    )


def room_labels(session: Session, room_ids: set[int]) -> dict[int, str]:
    if not room_ids:
        return {}
    rows = session.execute(
        select(Room.id, Building.number, Unit.number, Room.number)
        .join(Unit, Room.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id)
        .where(Room.id.in_(room_ids))
    )
    return {rid: f"{b}栋{u}单元{r}" for rid, b, u, r in rows}


def find_room(session: Session, building: str, unit: str, room: str) -> Room | None:
    return session.scalar(
        select(Room)
        .join(Room.unit)
        .join(Unit.building)
        .where(Building.number == building, Unit.number == unit, Room.number == room)
    )
