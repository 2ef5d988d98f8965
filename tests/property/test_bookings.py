from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from integrations.property import LocalPropertySystem
from integrations.property.db import make_engine, migrate, session_factory
from integrations.property.interface import NotBound, NotFound, PropertyError, SlotTaken
from integrations.property.models import Booking, BookingSlot
from integrations.property.seed import seed_demo
from integrations.property.services.numbering import LOCAL_TZ
from tests.services import postgres_schema

# A fixed "now": Saturday 2026-11-21 10:00 in Shanghai; 活动室 is closed on Mondays.
NOW = datetime(2026, 11, 21, 10, tzinfo=LOCAL_TZ)
SUNDAY = date(2026, 11, 22)
MONDAY = date(2026, 11, 23)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TZ)


def neighbour(system: LocalPropertySystem) -> str:
    """Another resident of 1栋1单元101 (bound as family)."""
    openid = f"o-{uuid.uuid4().hex[:10]}"
    system.residents.bind(
        openid, building="1", unit="1", room="101", phone_last4="0001", role="family"
    )
    return openid


def test_a_free_slot_is_booked_and_leaves_the_availability(system: LocalPropertySystem) -> None:
    before = system.bookings.availability("羽毛球场", SUNDAY, now=NOW)
    booking = system.bookings.book("demo-resident-1", "羽毛球场", at(SUNDAY, 15), now=NOW)

    after = system.bookings.availability("羽毛球场", SUNDAY, now=NOW)
    assert booking.ends_at == at(SUNDAY, 16) and booking.number.startswith("YY")
    assert at(SUNDAY, 15) in before.free and at(SUNDAY, 15) not in after.free
    assert len(after.free) == len(before.free) - 1
    assert [b.id for b in system.bookings.for_resident("demo-resident-1", now=NOW)] == [booking.id]


def test_a_taken_slot_is_refused_with_the_nearest_free_ones(system: LocalPropertySystem) -> None:
    system.bookings.book("demo-resident-1", "羽毛球场", at(SUNDAY, 15), now=NOW)

    with pytest.raises(SlotTaken, match="已经被订了") as taken:
        system.bookings.book("demo-resident-2", "羽毛球场", at(SUNDAY, 15), now=NOW)

    assert taken.value.alternatives == (at(SUNDAY, 13), at(SUNDAY, 14), at(SUNDAY, 16))
    assert system.bookings.for_resident("demo-resident-2", now=NOW) == []


def test_a_facility_with_capacity_takes_that_many_then_refuses(
    system: LocalPropertySystem,
) -> None:
    for openid in ("demo-resident-1", "demo-resident-2"):  # 乒乓球室 has two tables
        system.bookings.book(openid, "乒乓球室", at(SUNDAY, 9), now=NOW)

    with pytest.raises(SlotTaken):
        system.bookings.book("demo-resident-3", "乒乓球室", at(SUNDAY, 9), now=NOW)


def test_a_booking_over_two_slots_holds_both(system: LocalPropertySystem) -> None:
    system.bookings.book("demo-resident-1", "羽毛球场", at(SUNDAY, 15), at(SUNDAY, 17), now=NOW)

    with pytest.raises(SlotTaken):
        system.bookings.book("demo-resident-2", "羽毛球场", at(SUNDAY, 16), now=NOW)


@pytest.mark.parametrize(
    ("facility", "start", "end", "refusal"),
    [
        ("羽毛球场", at(NOW.date(), 9), None, "已经过去了"),
        ("羽毛球场", at(NOW.date() + timedelta(days=8), 15), None, "最多提前7天"),
        ("活动室", at(MONDAY, 15), None, "每周一不开放"),
        ("羽毛球场", at(SUNDAY, 7), None, "开放时间 08:00–21:00"),
        ("羽毛球场", at(SUNDAY, 15, 30), None, "整点场次"),
        ("羽毛球场", at(SUNDAY, 20), at(SUNDAY, 22), "21:00 关门"),
        ("羽毛球场", at(SUNDAY, 9), at(SUNDAY, 12), "每天最多预约2小时"),
        ("天文台", at(SUNDAY, 9), None, "没有“天文台”这个场地"),
    ],
)
def test_the_rules_of_each_facility(
    system: LocalPropertySystem,
    facility: str,
    start: datetime,
    end: datetime | None,
    refusal: str,
) -> None:
    with pytest.raises(PropertyError, match=refusal):
        system.bookings.book("demo-resident-1", facility, start, end, now=NOW)
    assert system.bookings.for_resident("demo-resident-1", now=NOW) == []


def test_at_most_three_active_bookings_per_resident(system: LocalPropertySystem) -> None:
    for offset in range(3):
        system.bookings.book(
            "demo-resident-1", "健身房", at(SUNDAY + timedelta(offset), 9), now=NOW
        )

    with pytest.raises(PropertyError, match="最多同时有3个有效预约"):
        system.bookings.book("demo-resident-1", "篮球场", at(SUNDAY, 9), now=NOW)


def test_only_bound_residents_book(system: LocalPropertySystem) -> None:
    with pytest.raises(NotBound, match="先绑定房屋"):
        system.bookings.book("demo-resident-unbound", "羽毛球场", at(SUNDAY, 15), now=NOW)


def test_cancelling_frees_the_slot_and_only_the_owner_may(system: LocalPropertySystem) -> None:
    booking = system.bookings.book("demo-resident-1", "羽毛球场", at(SUNDAY, 15), now=NOW)

    with pytest.raises(NotFound):
        system.bookings.cancel("demo-resident-2", booking.id)
    assert system.bookings.cancel("demo-resident-1", booking.id).status == "cancelled"

    system.bookings.book("demo-resident-2", "羽毛球场", at(SUNDAY, 15), now=NOW)


def test_changing_moves_the_booking_or_keeps_it_as_it_was(system: LocalPropertySystem) -> None:
    mine = system.bookings.book("demo-resident-1", "羽毛球场", at(SUNDAY, 15), now=NOW)
    system.bookings.book("demo-resident-2", "羽毛球场", at(SUNDAY, 18), now=NOW)

    moved = system.bookings.change("demo-resident-1", mine.id, at(SUNDAY, 16), now=NOW)
    assert (moved.id, moved.starts_at) == (mine.id, at(SUNDAY, 16))
    with pytest.raises(SlotTaken):
        system.bookings.change("demo-resident-1", mine.id, at(SUNDAY, 18), now=NOW)

    [kept] = system.bookings.for_resident("demo-resident-1", now=NOW)
    assert kept.starts_at == at(SUNDAY, 16)
    assert at(SUNDAY, 15) in system.bookings.availability("羽毛球场", SUNDAY, now=NOW).free


def test_staff_list_and_cancel_bookings(system: LocalPropertySystem) -> None:
    booking = system.bookings.book("demo-resident-1", "羽毛球场", at(SUNDAY, 15), now=NOW)

    listed = system.bookings.list(facility="羽毛球场", day=SUNDAY)
    assert [(b.id, b.resident_name) for b in listed] == [(booking.id, "张伟")]
    cancelled = system.bookings.cancel_by_staff(booking.id, staff="客服小王")

    assert cancelled.status == "cancelled" and system.bookings.list(day=SUNDAY) == []


def test_each_reminder_is_claimed_once(system: LocalPropertySystem) -> None:
    soon = system.bookings.book("demo-resident-1", "羽毛球场", at(NOW.date(), 11), now=NOW)
    system.bookings.book("demo-resident-2", "羽毛球场", at(SUNDAY, 15), now=NOW)

    due = system.bookings.claim_reminders(ahead=timedelta(hours=2), now=NOW)

    assert [b.id for b in due] == [soon.id] and due[0].resident_openid == "demo-resident-1"
    assert system.bookings.claim_reminders(ahead=timedelta(hours=2), now=NOW) == []


@pytest.fixture
def postgres_system() -> Iterator[LocalPropertySystem]:
    """Seeded PostgreSQL with a pool as large as the crowd that is about to hit it."""
    with postgres_schema() as url:
        engine = make_engine(url, pool_size=60, max_overflow=0)
        migrate(engine)
        with session_factory(engine).begin() as session:
            seed_demo(session, admin_password="seed-admin-password")
        yield LocalPropertySystem(engine)
        engine.dispose()


def test_fifty_residents_at_once_for_one_slot_get_exactly_one_booking(
    postgres_system: LocalPropertySystem,
) -> None:
    residents = [neighbour(postgres_system) for _ in range(50)]
    start = threading.Barrier(50)

    def attempt(openid: str) -> str:
        start.wait()
        try:
            postgres_system.bookings.book(openid, "羽毛球场", at(SUNDAY, 15), now=NOW)
        except SlotTaken as taken:
            assert taken.alternatives, "a refused resident is offered other times"
            return taken.message
        return "booked"

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(attempt, residents))

    assert outcomes.count("booked") == 1
    assert set(outcomes) - {"booked"} == {"羽毛球场 11月22日（周日）15:00–16:00 已经被订了。"}
    with Session(postgres_system.engine) as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 1
        assert session.scalar(select(func.count()).select_from(BookingSlot)) == 1
