from __future__ import annotations

from sqlalchemy import select

from integrations.property.interface import BookingInfo, FacilityInfo
from integrations.property.models import Booking, BookingStatus, Facility
from integrations.property.services._base import Service, require_resident


class FacilityService(Service):
    def list(self) -> list[FacilityInfo]:
        with self._tx() as session:
            return [
                FacilityInfo(
                    id=f.id,
                    name=f.name,
                    location=f.location,
                    opens_at=f.opens_at.strftime("%H:%M"),
                    closes_at=f.closes_at.strftime("%H:%M"),
                    slot_minutes=f.slot_minutes,
                    capacity=f.capacity,
                )
                for f in session.scalars(select(Facility).order_by(Facility.id))
            ]

    def bookings_for_resident(self, openid: str) -> list[BookingInfo]:
        with self._tx() as session:
            resident = require_resident(session, openid)
            rows = session.execute(
                select(Booking, Facility.name)
                .join(Facility, Booking.facility_id == Facility.id)
                .where(Booking.resident_id == resident.id)
                .where(Booking.status == BookingStatus.ACTIVE)
                .order_by(Booking.starts_at)
            )
            return [
                BookingInfo(
                    id=b.id,
                    facility=name,
                    starts_at=b.starts_at,
                    ends_at=b.ends_at,
                    status=b.status.value,
                )
                for b, name in rows
            ]
