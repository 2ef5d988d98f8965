"""The demo community `make run` seeds: 幸福家园, with residents, bills, facilities and tickets.

Dates are relative to the day it is seeded, so "这个月" always has bills.
"""

from __future__ import annotations

import calendar
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrations.property.models import (
    Announcement,
    Bill,
    BillType,
    Building,
    Community,
    Complaint,
    ComplaintStatus,
    Facility,
    HouseRole,
    RepairEvent,
    RepairOrder,
    RepairStatus,
    Resident,
    ResidentRoom,
    Room,
    StaffRole,
    StaffUser,
    Unit,
)
from integrations.property.services.numbering import LOCAL_TZ, assign, placeholder
from integrations.property.services.staff import check_password, hasher

COMMUNITY = "幸福家园"
BUILDINGS, UNITS, FLOORS, ROOMS_PER_FLOOR = 3, 2, 6, 2
MONTHS_OF_BILLS = 6


@dataclass(frozen=True)
class DemoResident:
    openid: str
    name: str
    phone: str
    house: tuple[str, str, str] | None
    role: HouseRole = HouseRole.OWNER


DEMO_RESIDENTS = (
    DemoResident("demo-resident-1", "张伟", "13800000001", ("1", "1", "101")),
    DemoResident("demo-resident-2", "李娜", "13800000002", ("2", "1", "202")),
    DemoResident("demo-resident-3", "王芳", "13800000003", ("3", "2", "301"), HouseRole.TENANT),
    DemoResident("demo-resident-4", "陈静", "13800000004", ("1", "1", "101"), HouseRole.FAMILY),
    DemoResident("demo-resident-unbound", "刘洋", "13800000005", None),
)

FACILITIES = (
    # name, location, opens, closes, slot minutes, capacity, closed ISO weekdays
    ("羽毛球场", "会所二楼", time(8), time(21), 60, 1, ""),
    ("篮球场", "小区北门", time(7), time(21), 60, 1, ""),
    ("乒乓球室", "会所一楼", time(8), time(21), 60, 2, ""),
    ("活动室", "2栋架空层", time(9), time(21), 60, 1, "1"),
    ("会议室", "物业服务中心", time(9), time(18), 60, 1, "6,7"),
    ("健身房", "会所地下一层", time(6), time(22), 60, 10, ""),
    ("棋牌室", "会所一楼", time(9), time(22), 120, 4, ""),
    ("游泳池", "会所西侧", time(9), time(20), 60, 20, "1"),
)

# Monthly usage ranges and unit prices for the metered bills.
METERED = {
    BillType.WATER: ((6, 18), Decimal("4.10")),
    BillType.ELECTRICITY: ((120, 420), Decimal("0.58")),
    BillType.GAS: ((8, 30), Decimal("2.98")),
}
PROPERTY_FEE_PER_SQM = Decimal("2.80")
HEATING_FEE_PER_SQM = Decimal("22.00")
PARKING_FEE = Decimal("300.00")


def seed_demo(session: Session, *, today: date | None = None, admin_password: str) -> bool:
    """Create the demo community unless it exists; True when it was created. The admin's
    password must pass the password rules (PropertyError says why not)."""
    if session.scalar(select(Community).where(Community.name == COMMUNITY)) is not None:
        return False
    check_password("admin", admin_password)
    today = today or datetime.now(LOCAL_TZ).date()
    now = datetime.now(UTC)
    community = Community(
        name=COMMUNITY,
        address="示例市示例区幸福路88号",
        service_phone="0571-88880000",
        emergency_phone="0571-88889999",
        office_opens=time(8, 30),
        office_closes=time(17, 30),
    )
    session.add(community)
    rooms = _rooms(community)
    session.flush()

    residents: dict[str, Resident] = {}
    for demo in DEMO_RESIDENTS:
        resident = Resident(wechat_openid=demo.openid, name=demo.name, phone=demo.phone)
        session.add(resident)
        residents[demo.openid] = resident
        if demo.house is not None:
            room = rooms[demo.house]
            if demo.role is HouseRole.OWNER:
                room.registered_phone = demo.phone
            session.add(ResidentRoom(resident=resident, room=room, role=demo.role))
    session.flush()

    months = _last_months(today, MONTHS_OF_BILLS)
    _bills(session, rooms[("1", "1", "101")], months, arrears=False, parking=True)
    _bills(session, rooms[("2", "1", "202")], months, arrears=True, parking=False)
    _bills(session, rooms[("3", "2", "301")], months, arrears=False, parking=False)

    for name, location, opens, closes, slot, capacity, closed in FACILITIES:
        session.add(
            Facility(
                community_id=community.id,
                name=name,
                location=location,
                opens_at=opens,
                closes_at=closes,
                slot_minutes=slot,
                capacity=capacity,
                closed_weekdays=closed,
            )
        )

    _repairs(session, residents, rooms, now)
    _complaints(session, residents, now)
    session.add_all(
        [
            Announcement(
                community_id=community.id,
                title="二次供水水箱清洗停水通知",
                body="本周六 9:00-13:00 清洗二次供水水箱，1-3栋停水，请提前储水。",
                published_at=now - timedelta(days=1),
                expires_at=now + timedelta(days=6),
            ),
            Announcement(
                community_id=community.id,
                title="冬季供暖开始",
                body="本小区今年供暖已开始，室内温度不达标请联系物业服务中心。",
                published_at=now - timedelta(days=6),
                expires_at=None,
            ),
        ]
    )
    session.add_all(
        [
            StaffUser(
                username="admin",
                display_name="物业管理员",
                password_hash=hasher.hash(admin_password),
                role=StaffRole.ADMIN,
            ),
            StaffUser(
                username="xiaowang",
                display_name="客服小王",
                password_hash=hasher.hash(secrets.token_urlsafe(12)),
                role=StaffRole.STAFF,
            ),
        ]
    )
    return True


def _rooms(community: Community) -> dict[tuple[str, str, str], Room]:
    rooms: dict[tuple[str, str, str], Room] = {}
    serial = 0
    for b in range(1, BUILDINGS + 1):
        building = Building(number=str(b))
        community.buildings.append(building)
        for u in range(1, UNITS + 1):
            unit = Unit(number=str(u))
            building.units.append(unit)
            for floor in range(1, FLOORS + 1):
                for r in range(1, ROOMS_PER_FLOOR + 1):
                    serial += 1
                    number = f"{floor}{r:02d}"
                    area = Decimal("89.50") if r == 1 else Decimal("118.20")
                    room = Room(number=number, area_sqm=area, registered_phone=f"139{serial:08d}")
                    unit.rooms.append(room)
                    rooms[(str(b), str(u), number)] = room
    return rooms


def _last_months(today: date, count: int) -> list[date]:
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def _month_end(first: date) -> date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _bills(
    session: Session, room: Room, months: list[date], *, arrears: bool, parking: bool
) -> None:
    current = months[0]
    for index, period in enumerate(months):
        usage = random.Random(f"{room.number}-{period}")
        amounts = {BillType.PROPERTY: room.area_sqm * PROPERTY_FEE_PER_SQM}
        for bill_type, ((low, high), price) in METERED.items():
            amounts[bill_type] = usage.randint(low, high) * price
        if parking:
            amounts[BillType.PARKING] = PARKING_FEE
        if period.month == 11:
            amounts[BillType.HEATING] = room.area_sqm * HEATING_FEE_PER_SQM
        for bill_type, amount in amounts.items():
            unpaid = period == current or (
                arrears and index <= 3 and bill_type is BillType.PROPERTY
            )
            due = _month_end(period) + timedelta(days=15)
            session.add(
                Bill(
                    room_id=room.id,
                    bill_type=bill_type,
                    period=period,
                    amount=amount.quantize(Decimal("0.01")),
                    due_date=due,
                    paid_at=None
                    if unpaid
                    else datetime.combine(due - timedelta(days=10), time(10), LOCAL_TZ),
                    payment_method=None if unpaid else "微信支付",
                )
            )


def _repairs(
    session: Session,
    residents: dict[str, Resident],
    rooms: dict[tuple[str, str, str], Room],
    now: datetime,
) -> None:
    S = RepairStatus
    plans = [
        # openid, room, item, location, description, public, path of statuses, days ago
        (
            "demo-resident-1",
            ("1", "1", "101"),
            "水管",
            "厨房",
            "厨房水槽下面的水管滴水",
            False,
            [S.SUBMITTED, S.ASSIGNED],
            1,
        ),
        (
            "demo-resident-1",
            ("1", "1", "101"),
            "灯",
            "客厅",
            "客厅吸顶灯不亮",
            False,
            [S.SUBMITTED, S.ASSIGNED, S.IN_PROGRESS, S.COMPLETED],
            12,
        ),
        (
            "demo-resident-2",
            None,
            "电梯",
            "电梯",
            "2栋1单元电梯按钮失灵",
            True,
            [S.SUBMITTED, S.ASSIGNED, S.IN_PROGRESS],
            2,
        ),
        (
            "demo-resident-3",
            ("3", "2", "301"),
            "马桶",
            "卫生间",
            "马桶一直漏水",
            False,
            [S.SUBMITTED],
            0,
        ),
    ]
    for openid, house, item, location, description, public, path, days in plans:
        created = now - timedelta(days=days, hours=3)
        order = RepairOrder(
            number=placeholder(),
            resident_id=residents[openid].id,
            room_id=rooms[house].id if house else None,
            item=item,
            location=location,
            description=description,
            public_area=public,
            status=path[-1],
            assignee="维修师傅老赵" if len(path) > 1 else None,
            rating=5 if path[-1] is S.COMPLETED else None,
            created_at=created,
            updated_at=created,
        )
        session.add(order)
        session.flush()
        order.number = assign("BX", created, order.id)
        for step, status in enumerate(path):
            order.events.append(
                RepairEvent(
                    kind="created" if step == 0 else status.value,
                    status=status,
                    actor=residents[openid].name if step == 0 else "客服小王",
                    note=description if step == 0 else "",
                    at=created + timedelta(hours=step * 2),
                )
            )


def _complaints(session: Session, residents: dict[str, Resident], now: datetime) -> None:
    C = ComplaintStatus
    plans = [
        ("demo-resident-1", "噪音", "1栋", "楼上每天晚上十一点后还在拖椅子", C.OPEN, 0, None),
        (
            "demo-resident-2",
            "停车",
            "地下车库",
            "有车长期占用我的车位",
            C.PROCESSING,
            1,
            "已联系车主，今天内挪车。",
        ),
        (
            "demo-resident-3",
            "卫生",
            "3栋楼道",
            "楼道垃圾两天没人清理",
            C.CLOSED,
            5,
            "已安排保洁清理，并加强巡查。",
        ),
    ]
    for openid, kind, location, description, status, days, response in plans:
        created = now - timedelta(days=days, hours=1)
        complaint = Complaint(
            number=placeholder(),
            resident_id=residents[openid].id,
            complaint_type=kind,
            location=location,
            description=description,
            status=status,
            sla_due_at=created + timedelta(hours=24),
            response=response,
            created_at=created,
            closed_at=created + timedelta(days=1) if status is C.CLOSED else None,
        )
        session.add(complaint)
        session.flush()
        complaint.number = assign("TS", created, complaint.id)
