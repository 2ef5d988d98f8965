"""The one interface the bot and the app use to reach a property system.

`LocalPropertySystem` (our own database) implements it; an adapter for an external
property system implements the same protocols and returns the same records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Protocol


class PropertyError(Exception):
    """A rule of the property system was not met; `message` is shown to people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotBound(PropertyError):
    def __init__(self, message: str = "您还没有绑定房屋，请先绑定房屋后再查询。") -> None:
        super().__init__(message)


class NotFound(PropertyError):
    pass


class InvalidTransition(PropertyError):
    pass


class SlotTaken(PropertyError):
    """The slot is booked; `alternatives` are the nearest free starts of the same length."""

    def __init__(self, message: str, alternatives: tuple[datetime, ...]) -> None:
        super().__init__(message)
        self.alternatives = alternatives


@dataclass(frozen=True)
class House:
    room_id: int
    building: str
    unit: str
    room: str
    role: str

    @property
    def label(self) -> str:
        return f"{self.building}栋{self.unit}单元{self.room}"


@dataclass(frozen=True)
class ResidentInfo:
    id: int
    name: str
    openid: str | None
    houses: tuple[House, ...]


@dataclass(frozen=True)
class ServiceContacts:
    """The numbers a resident should call; empty strings when no community is known."""

    community: str
    service_phone: str
    emergency_phone: str
    office_opens: time | None = None
    office_closes: time | None = None


@dataclass(frozen=True)
class BillLine:
    id: int
    house: str
    bill_type: str
    period: date
    amount: Decimal
    due_date: date
    paid_at: datetime | None

    @property
    def paid(self) -> bool:
        return self.paid_at is not None


@dataclass(frozen=True)
class BillStatement:
    lines: tuple[BillLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def unpaid_total(self) -> Decimal:
        return sum((line.amount for line in self.lines if not line.paid), Decimal("0.00"))


@dataclass(frozen=True)
class RepairEventInfo:
    kind: str
    status: str
    actor: str
    note: str
    at: datetime


@dataclass(frozen=True)
class RepairInfo:
    id: int
    number: str
    house: str | None
    item: str
    location: str | None
    description: str
    public_area: bool
    emergency: bool
    status: str
    assignee: str | None
    rating: int | None
    created_at: datetime
    events: tuple[RepairEventInfo, ...]
    resident_openid: str | None = None
    resident_name: str | None = None
    preferred_start: datetime | None = None
    preferred_end: datetime | None = None


@dataclass(frozen=True)
class FacilityInfo:
    id: int
    name: str
    location: str
    opens_at: str
    closes_at: str
    slot_minutes: int
    capacity: int


@dataclass(frozen=True)
class BookingInfo:
    id: int
    facility: str
    starts_at: datetime
    ends_at: datetime
    status: str
    number: str = ""
    location: str = ""
    resident_openid: str | None = None
    resident_name: str | None = None


@dataclass(frozen=True)
class FacilityDay:
    """The free slots of one facility on one day (`closed` when it does not open)."""

    facility: str
    day: date
    slot_minutes: int
    free: tuple[datetime, ...]
    closed: bool = False


@dataclass(frozen=True)
class ComplaintInfo:
    id: int
    number: str
    complaint_type: str
    location: str | None
    description: str
    anonymous: bool
    status: str
    sla_due_at: datetime
    response: str | None
    created_at: datetime
    responded_at: datetime | None = None
    closed_at: datetime | None = None
    rating: int | None = None
    resident_name: str = ""
    resident_openid: str | None = None
    houses: str = ""
    photos: int = 0


@dataclass(frozen=True)
class HandoffInfo:
    id: int
    sender_id: str
    channel: str
    reason: str
    status: str
    claimed_by: str | None
    created_at: datetime
    transcript: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class AnnouncementInfo:
    id: int
    title: str
    body: str
    published_at: datetime


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    kind: str
    target: str | None
    number: str | None


class ReviewPending(PropertyError):
    """The resident already has a binding request waiting for staff."""


@dataclass(frozen=True)
class BindingRequestInfo:
    """A claim on a room for staff review (status pending, approved or rejected)."""

    id: int
    resident_openid: str | None
    resident_name: str
    name: str | None
    house: str
    role: str
    verified_by: str | None
    status: str
    remark: str | None
    reviewer: str | None
    created_at: datetime
    reviewed_at: datetime | None


@dataclass(frozen=True)
class ProofChoice:
    """The proof a room is bound with ("phone_last4", "sms" or "review") and, for the
    phone proofs, the registered phone as the resident may see it (138****0001)."""

    proof: str
    masked_phone: str = ""


class Residents(Protocol):
    def by_openid(self, openid: str) -> ResidentInfo | None: ...

    def contacts(self, openid: str) -> ServiceContacts: ...

    def proof_for(self, openid: str, *, building: str, unit: str, room: str) -> ProofChoice: ...

    def send_bind_code(self, openid: str, *, building: str, unit: str, room: str) -> str: ...

    def bind(
        self,
        openid: str,
        *,
        building: str,
        unit: str,
        room: str,
        role: str,
        phone_last4: str | None = None,
        sms_code: str | None = None,
    ) -> House | BindingRequestInfo: ...

    def request_review(
        self, openid: str, *, building: str, unit: str, room: str, role: str, name: str | None
    ) -> BindingRequestInfo: ...


class Bills(Protocol):
    def statement(
        self,
        openid: str,
        *,
        bill_type: str | None = None,
        period_from: date | None = None,
        period_to: date | None = None,
        unpaid_only: bool = False,
    ) -> BillStatement: ...

    def for_room(self, building: str, unit: str, room: str) -> BillStatement: ...


class Repairs(Protocol):
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
    ) -> RepairInfo: ...

    def get(self, number: str, *, openid: str | None = None) -> RepairInfo: ...

    def for_resident(self, openid: str, *, open_only: bool = False) -> list[RepairInfo]: ...

    def list(self, *, status: str | None = None, limit: int = 100) -> list[RepairInfo]: ...

    def urge(
        self, number: str, *, openid: str, idempotency_key: str | None = None
    ) -> RepairInfo: ...

    def cancel(
        self, number: str, *, openid: str, idempotency_key: str | None = None
    ) -> RepairInfo: ...

    def rate(
        self,
        number: str,
        *,
        openid: str,
        score: int,
        comment: str = "",
        idempotency_key: str | None = None,
    ) -> RepairInfo: ...

    def awaiting_rating(self, openid: str) -> RepairInfo | None: ...

    def transition(
        self, number: str, status: str, *, actor: str, note: str = "", assignee: str | None = None
    ) -> RepairInfo: ...


class Facilities(Protocol):
    def list(self) -> list[FacilityInfo]: ...


class Bookings(Protocol):
    def availability(
        self, facility: str, day: date, *, now: datetime | None = None
    ) -> FacilityDay: ...

    def book(
        self,
        openid: str,
        facility: str,
        starts_at: datetime,
        ends_at: datetime | None = None,
        *,
        now: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> BookingInfo: ...

    def cancel(self, openid: str, booking_id: int) -> BookingInfo: ...

    def change(
        self,
        openid: str,
        booking_id: int,
        starts_at: datetime,
        ends_at: datetime | None = None,
        *,
        now: datetime | None = None,
    ) -> BookingInfo: ...

    def for_resident(self, openid: str, *, now: datetime | None = None) -> list[BookingInfo]: ...

    def list(
        self, *, facility: str | None = None, day: date | None = None
    ) -> list[BookingInfo]: ...

    def cancel_by_staff(self, booking_id: int, *, staff: str) -> BookingInfo: ...

    def claim_reminders(
        self, *, ahead: timedelta, now: datetime | None = None
    ) -> list[BookingInfo]: ...

    def due_reminders(
        self, *, ahead: timedelta, now: datetime | None = None
    ) -> list[BookingInfo]: ...

    def mark_reminded(self, booking_id: int, *, now: datetime | None = None) -> None: ...


class Complaints(Protocol):
    def create(
        self,
        openid: str,
        *,
        complaint_type: str,
        description: str,
        location: str | None = None,
        anonymous: bool = False,
        idempotency_key: str | None = None,
    ) -> ComplaintInfo: ...

    def get(self, number: str, *, openid: str | None = None) -> ComplaintInfo: ...

    def for_resident(self, openid: str, *, open_only: bool = False) -> list[ComplaintInfo]: ...

    def list(
        self, *, status: str | None = None, complaint_type: str | None = None
    ) -> list[ComplaintInfo]: ...

    def transition(
        self, number: str, status: str, *, actor: str, response: str | None = None
    ) -> ComplaintInfo: ...

    def rate(
        self,
        number: str,
        *,
        openid: str,
        score: int,
        comment: str = "",
        idempotency_key: str | None = None,
    ) -> ComplaintInfo: ...

    def awaiting_rating(self, openid: str) -> ComplaintInfo | None: ...


class Handoffs(Protocol):
    def open(
        self,
        sender_id: str,
        *,
        channel: str,
        reason: str,
        transcript: list[dict[str, str]] | None = None,
        idempotency_key: str | None = None,
    ) -> HandoffInfo: ...

    def active_for(self, sender_id: str) -> HandoffInfo | None: ...

    def get(self, handoff_id: int) -> HandoffInfo: ...

    def active(self) -> list[HandoffInfo]: ...

    def append(self, handoff_id: int, *, speaker: str, text: str) -> HandoffInfo: ...

    def claim(self, handoff_id: int, *, staff: str) -> HandoffInfo: ...

    def close(self, handoff_id: int, *, staff: str) -> HandoffInfo: ...


class Announcements(Protocol):
    def current(self, *, now: datetime | None = None) -> list[AnnouncementInfo]: ...


class Attachments(Protocol):
    def attach(
        self,
        openid: str,
        *,
        kind: str,
        media_id: str | None = None,
        url: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        label: str | None = None,
    ) -> AttachmentInfo: ...


class PropertySystem(Protocol):
    residents: Residents
    attachments: Attachments
    bills: Bills
    repairs: Repairs
    facilities: Facilities
    bookings: Bookings
    complaints: Complaints
    handoffs: Handoffs
    announcements: Announcements

    def ping(self) -> None:
        """Raise if the property system cannot be reached."""
