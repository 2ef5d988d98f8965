"""The property system: one interface (`interface.PropertySystem`), our implementation here."""

from __future__ import annotations

from sqlalchemy import Engine, text

from integrations.property.db import make_engine, session_factory
from integrations.property.services.announcements import AnnouncementService
from integrations.property.services.attachments import AttachmentService
from integrations.property.services.bills import BillService
from integrations.property.services.bookings import BookingService
from integrations.property.services.complaints import ComplaintService
from integrations.property.services.facilities import FacilityService
from integrations.property.services.handoffs import HandoffService
from integrations.property.services.repairs import RepairService
from integrations.property.services.residents import ResidentService
from integrations.property.services.staff import StaffService


class LocalPropertySystem:
    """The built-in property system on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        sessions = session_factory(engine)
        self.residents = ResidentService(sessions)
        self.attachments = AttachmentService(sessions)
        self.bills = BillService(sessions)
        self.repairs = RepairService(sessions)
        self.facilities = FacilityService(sessions)
        self.bookings = BookingService(sessions)
        self.complaints = ComplaintService(sessions)
        self.handoffs = HandoffService(sessions)
        self.announcements = AnnouncementService(sessions)
        self.staff = StaffService(sessions)

    @classmethod
    def from_url(cls, url: str) -> LocalPropertySystem:
        return cls(make_engine(url))

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
