"""Facility bookings. The rules of each facility are checked here; that a slot is never
held twice is enforced by the database (`booking_slot`'s unique key), not by a check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from integrations.property.interface import (
    BookingInfo,
    FacilityDay,
    NotFound,
    PropertyError,
    SlotTaken,
)
from integrations.property.models import (
    Booking,
    BookingSlot,
    BookingStatus,
    Facility,
    Resident,
    utcnow,
)
from integrations.property.services import numbering
from integrations.property.services._base import Service, once, require_bound
from integrations.property.services.numbering import LOCAL_TZ

ACTIVE = BookingStatus.ACTIVE
ALTERNATIVES = 3
NEEDS_HOUSE = "预约小区场地需要先绑定房屋。"
WEEKDAYS = "一二三四五六日"


class BookingService(Service):
    def availability(self, facility: str, day: date, *, now: datetime | None = None) -> FacilityDay:
        now = now or utcnow()
        with self._tx() as session:
            place = _facility(session, facility)
            if _closed_on(place, day):
                return FacilityDay(place.name, day, place.slot_minutes, (), closed=True)
            taken = _taken_seats(session, place, day)
            free = tuple(
                start
                for start in _slot_starts(place, day)
                if start > now and taken.get(start, 0) < place.capacity
            )
            return FacilityDay(place.name, day, place.slot_minutes, free)

    def book(
        self,
        openid: str,
        facility: str,
        starts_at: datetime,
        ends_at: datetime | None = None,
        *,
        now: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> BookingInfo:
        """A new booking; again with the same `idempotency_key`, the one the first made."""
        return once(
            lambda: self._book(openid, facility, starts_at, ends_at, now, idempotency_key),
            lambda: self._replay(idempotency_key),
        )

    def _replay(self, key: str | None) -> BookingInfo | None:
        if key is None:
            return None
        with self._tx() as session:
            made = session.scalar(_keyed(key))
            return _info(session, made) if made else None

    def _book(
        self,
        openid: str,
        facility: str,
        starts_at: datetime,
        ends_at: datetime | None,
        now: datetime | None,
        idempotency_key: str | None,
    ) -> BookingInfo:
        now = now or utcnow()
        with self._tx() as session:
            if idempotency_key is not None:
                made = session.scalar(_keyed(idempotency_key))
                if made is not None:
                    return _info(session, made)
            resident = _resident_locked(session, openid)
            place = _facility(session, facility)
            booking = Booking(
                facility=place,
                resident_id=resident.id,
                created_at=now,
                idempotency_key=idempotency_key,
            )
            _place(session, booking, resident, starts_at, ends_at, now)
            return _info(session, booking)

    def change(
        self,
        openid: str,
        booking_id: int,
        starts_at: datetime,
        ends_at: datetime | None = None,
        *,
        now: datetime | None = None,
    ) -> BookingInfo:
        """Move a booking; if the new time cannot be had, the old booking stays as it was."""
        now = now or utcnow()
        with self._tx() as session:
            resident = _resident_locked(session, openid)
            booking = _own(session, booking_id, resident)
            booking.slots.clear()
            booking.status = BookingStatus.CANCELLED  # not counted against the limits
            session.flush()
            _place(session, booking, resident, starts_at, ends_at, now)
            return _info(session, booking)

    def cancel(self, openid: str, booking_id: int) -> BookingInfo:
        with self._tx() as session:
            resident = _resident_locked(session, openid)
            booking = _own(session, booking_id, resident)
            return _cancel(session, booking, resident.name)

    def cancel_by_staff(self, booking_id: int, *, staff: str) -> BookingInfo:
        with self._tx() as session:
            booking = session.get(Booking, booking_id, with_for_update=True)
            if booking is None or booking.status is not ACTIVE:
                raise NotFound(f"没有找到有效的预约 {booking_id}。")
            return _cancel(session, booking, staff)

    def for_resident(self, openid: str, *, now: datetime | None = None) -> list[BookingInfo]:
        """The resident's active bookings that have not ended, soonest first."""
        now = now or utcnow()
        with self._tx() as session:
            resident = require_bound(session, openid, NEEDS_HOUSE)
            rows = session.scalars(
                _active()
                .where(Booking.resident_id == resident.id, Booking.ends_at > now)
                .order_by(Booking.starts_at)
            )
            return [_info(session, b) for b in rows]

    def list(self, *, facility: str | None = None, day: date | None = None) -> list[BookingInfo]:
        """Active bookings for staff, by start."""
        with self._tx() as session:
            query = _active().order_by(Booking.starts_at)
            if facility is not None:
                query = query.where(Booking.facility_id == _facility(session, facility).id)
            if day is not None:
                first, last = _day_bounds(day)
                query = query.where(Booking.starts_at >= first, Booking.starts_at < last)
            return [_info(session, b) for b in session.scalars(query)]

    def claim_reminders(
        self, *, ahead: timedelta, now: datetime | None = None
    ) -> list[BookingInfo]:
        """Bookings starting within `ahead` not reminded yet, marked reminded as they are
        handed out (a conditional update: two workers never take the same one)."""
        now = now or utcnow()
        claimed = []
        with self._tx() as session:
            due = session.scalars(
                _active().where(
                    Booking.reminded_at.is_(None),
                    Booking.starts_at > now,
                    Booking.starts_at <= now + ahead,
                )
            ).all()
            for booking in due:
                won = session.execute(
                    update(Booking)
                    .where(Booking.id == booking.id, Booking.reminded_at.is_(None))
                    .values(reminded_at=now)
                ).rowcount
                if won:
                    claimed.append(_info(session, booking))
        return claimed

    def due_reminders(self, *, ahead: timedelta, now: datetime | None = None) -> list[BookingInfo]:
        """Bookings starting within `ahead` not reminded yet. The caller queues each
        reminder (under a key of the booking's own) before `mark_reminded`, so a crash
        in between leaves it due, and queueing it again finds it queued."""
        now = now or utcnow()
        with self._tx() as session:
            due = session.scalars(
                _active()
                .where(
                    Booking.reminded_at.is_(None),
                    Booking.starts_at > now,
                    Booking.starts_at <= now + ahead,
                )
                .order_by(Booking.starts_at, Booking.id)
            ).all()
            return [_info(session, booking) for booking in due]

    def mark_reminded(self, booking_id: int, *, now: datetime | None = None) -> None:
        with self._tx() as session:
            session.execute(
                update(Booking)
                .where(Booking.id == booking_id, Booking.reminded_at.is_(None))
                .values(reminded_at=now or utcnow())
            )


def _keyed(key: str) -> Select[tuple[Booking]]:
    return (
        select(Booking)
        .where(Booking.idempotency_key == key)
        .options(selectinload(Booking.facility))
    )


def _active() -> Select[tuple[Booking]]:
    return select(Booking).where(Booking.status == ACTIVE).options(selectinload(Booking.facility))


def _facility(session: Session, name: str) -> Facility:
    place = session.scalar(select(Facility).where(Facility.name == name))
    if place is None:
        names = "、".join(session.scalars(select(Facility.name).order_by(Facility.id)))
        raise NotFound(f"没有“{name}”这个场地。可以预约的有：{names}。")
    return place


def _resident_locked(session: Session, openid: str) -> Resident:
    """The resident, row-locked so that their own concurrent requests respect the limits."""
    resident = require_bound(session, openid, NEEDS_HOUSE)
    session.execute(select(Resident.id).where(Resident.id == resident.id).with_for_update())
    return resident


def _own(session: Session, booking_id: int, resident: Resident) -> Booking:
    booking = session.get(Booking, booking_id, with_for_update=True)
    if booking is None or booking.resident_id != resident.id or booking.status is not ACTIVE:
        raise NotFound("没有找到这个预约。")
    return booking


def _cancel(session: Session, booking: Booking, by: str) -> BookingInfo:
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_by = by
    booking.slots.clear()  # the slots are free again
    session.flush()
    return _info(session, booking)


def _local(moment: datetime) -> datetime:
    return moment.astimezone(LOCAL_TZ)


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    first = datetime.combine(day, datetime.min.time(), LOCAL_TZ)
    return first, first + timedelta(days=1)


def _closed_on(place: Facility, day: date) -> bool:
    return str(day.isoweekday()) in place.closed_weekdays.split(",")


def _slot_starts(place: Facility, day: date) -> Iterator[datetime]:
    start = datetime.combine(day, place.opens_at, LOCAL_TZ)
    closes = datetime.combine(day, place.closes_at, LOCAL_TZ)
    step = timedelta(minutes=place.slot_minutes)
    while start + step <= closes:
        yield start
        start += step


def _taken_seats(session: Session, place: Facility, day: date) -> dict[datetime, int]:
    first, last = _day_bounds(day)
    rows = session.execute(
        select(BookingSlot.starts_at, func.count())
        .where(
            BookingSlot.facility_id == place.id,
            BookingSlot.starts_at >= first,
            BookingSlot.starts_at < last,
        )
        .group_by(BookingSlot.starts_at)
    )
    return {_local(start): count for start, count in rows}


def _check_rules(
    session: Session,
    place: Facility,
    resident: Resident,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
) -> None:
    start, end = _local(starts_at), _local(ends_at)
    day = start.date()
    minutes = (end - start).total_seconds() / 60
    if start <= now:
        raise PropertyError("这个时间已经过去了，请选一个之后的时间。")
    if day > _local(now).date() + timedelta(days=place.advance_days):
        raise PropertyError(f"{place.name}最多提前{place.advance_days}天预约。")
    if _closed_on(place, day):
        raise PropertyError(f"{place.name}每周{WEEKDAYS[day.isoweekday() - 1]}不开放，请换一天。")
    if start not in set(_slot_starts(place, day)) or minutes % place.slot_minutes or end <= start:
        raise PropertyError(
            f"{place.name}开放时间 {place.opens_at:%H:%M}–{place.closes_at:%H:%M}，"
            f"每{place.slot_minutes}分钟一场，请选整点场次。"
        )
    if end > datetime.combine(day, place.closes_at, LOCAL_TZ):
        raise PropertyError(f"{place.name} {place.closes_at:%H:%M} 关门，请缩短时间或提前。")
    active = session.scalars(
        _active().where(Booking.resident_id == resident.id, Booking.ends_at > now)
    ).all()
    if len(active) >= place.max_active_per_resident:
        raise PropertyError(
            f"每户最多同时有{place.max_active_per_resident}个有效预约，请先取消一个再订。"
        )
    same_day = sum(
        (b.ends_at - b.starts_at).total_seconds() / 60
        for b in active
        if b.facility_id == place.id and _local(b.starts_at).date() == day
    )
    if same_day + minutes > place.max_minutes_per_day:
        raise PropertyError(
            f"{place.name}每户每天最多预约{place.max_minutes_per_day // 60}小时，"
            f"您当天已订{int(same_day) // 60}小时。"
        )


def _place(
    session: Session,
    booking: Booking,
    resident: Resident,
    starts_at: datetime,
    ends_at: datetime | None,
    now: datetime,
) -> None:
    """Give the booking its time, if the rules allow it and its seats can be had."""
    place = booking.facility
    ends_at = ends_at or starts_at + timedelta(minutes=place.slot_minutes)
    _check_rules(session, place, resident, starts_at, ends_at, now)
    booking.status, booking.starts_at, booking.ends_at = ACTIVE, starts_at, ends_at
    booking.reminded_at = None
    session.add(booking)  # a new booking joins the session only now, complete
    session.flush()
    _hold_slots(session, place, booking, now)


def _hold_slots(session: Session, place: Facility, booking: Booking, now: datetime) -> None:
    """Take a seat in every slot the booking covers, or raise `SlotTaken`."""
    step = timedelta(minutes=place.slot_minutes)
    start = _local(booking.starts_at)
    starts = []
    while start < _local(booking.ends_at):
        starts.append(start)
        start += step
    for slot in starts:
        for seat in range(1, place.capacity + 1):
            try:
                with session.begin_nested():
                    session.add(
                        BookingSlot(
                            booking_id=booking.id, facility_id=place.id, starts_at=slot, seat=seat
                        )
                    )
                break
            except IntegrityError:
                continue  # this seat is someone else's: the next one, or none left
        else:
            raise SlotTaken(
                f"{place.name} {span_label(booking.starts_at, booking.ends_at)} 已经被订了。",
                _alternatives(session, place, booking, now),
            )


def _alternatives(
    session: Session, place: Facility, wanted: Booking, now: datetime
) -> tuple[datetime, ...]:
    """The free starts nearest to the wanted one (same length), that day and the next."""
    length = wanted.ends_at - wanted.starts_at
    slots = int(length / timedelta(minutes=place.slot_minutes))
    start = _local(wanted.starts_at)
    candidates: list[datetime] = []
    for day in (start.date(), start.date() + timedelta(days=1)):
        if _closed_on(place, day):
            continue
        taken = _taken_seats(session, place, day)
        starts = list(_slot_starts(place, day))
        for i, first in enumerate(starts[: len(starts) - slots + 1]):
            covered = starts[i : i + slots]
            if first > now and all(taken.get(s, 0) < place.capacity for s in covered):
                candidates.append(first)
    candidates.sort(key=lambda s: (abs(s - start), s))
    return tuple(sorted(candidates[:ALTERNATIVES]))


def day_label(day: date) -> str:
    """ "11月22日（周日）", as residents read a day."""
    return f"{day.month}月{day.day}日（周{WEEKDAYS[day.isoweekday() - 1]}）"


def span_label(starts_at: datetime, ends_at: datetime) -> str:
    """ "11月22日（周日）15:00–16:00"."""
    start, end = _local(starts_at), _local(ends_at)
    return f"{day_label(start.date())}{start:%H:%M}–{end:%H:%M}"


def _info(session: Session, booking: Booking) -> BookingInfo:
    resident = session.get(Resident, booking.resident_id)
    return BookingInfo(
        id=booking.id,
        facility=booking.facility.name,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        status=booking.status.value,
        number=numbering.assign("YY", booking.created_at, booking.id),
        location=booking.facility.location,
        resident_openid=resident.wechat_openid if resident else None,
        resident_name=resident.name if resident else None,
    )
