from __future__ import annotations

from sqlalchemy import select

from integrations.property.interface import FacilityInfo
from integrations.property.models import Facility
from integrations.property.services._base import Service


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
