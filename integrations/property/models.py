"""SQLAlchemy models of the built-in property system."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from integrations.property.types import Money, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def str_enum(cls: type[enum.StrEnum]) -> Enum:
    """A portable enum column storing the member values (VARCHAR + CHECK)."""
    return Enum(
        cls,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        Decimal: Money(),
        dict[str, Any]: JSON(),
    }


class HouseRole(enum.StrEnum):
    OWNER = "owner"
    TENANT = "tenant"
    FAMILY = "family"


class BillType(enum.StrEnum):
    PROPERTY = "物业费"
    WATER = "水费"
    ELECTRICITY = "电费"
    GAS = "燃气费"
    PARKING = "停车费"
    HEATING = "取暖费"


class RepairStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class BookingStatus(enum.StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class ComplaintStatus(enum.StrEnum):
    OPEN = "open"
    PROCESSING = "processing"
    RESOLVED = "resolved"
    CLOSED = "closed"


class HandoffStatus(enum.StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    CLOSED = "closed"


class StaffRole(enum.StrEnum):
    STAFF = "staff"
    ADMIN = "admin"


class BindingProof(enum.StrEnum):
    """How a claimant shows a room is theirs (README, "House binding")."""

    PHONE_LAST4 = "phone_last4"
    SMS = "sms"
    REVIEW = "review"


class BindingRequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Community(Base):
    __tablename__ = "community"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str] = mapped_column(String(200))
    service_phone: Mapped[str] = mapped_column(String(20))
    emergency_phone: Mapped[str] = mapped_column(String(20))
    office_opens: Mapped[time] = mapped_column(Time)
    office_closes: Mapped[time] = mapped_column(Time)

    buildings: Mapped[list[Building]] = relationship(back_populates="community")


class Building(Base):
    __tablename__ = "building"
    __table_args__ = (UniqueConstraint("community_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    number: Mapped[str] = mapped_column(String(10))

    community: Mapped[Community] = relationship(back_populates="buildings")
    units: Mapped[list[Unit]] = relationship(back_populates="building")


class Unit(Base):
    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("building_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"))
    number: Mapped[str] = mapped_column(String(10))

    building: Mapped[Building] = relationship(back_populates="units")
    rooms: Mapped[list[Room]] = relationship(back_populates="unit")


class Room(Base):
    __tablename__ = "room"
    __table_args__ = (UniqueConstraint("unit_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    number: Mapped[str] = mapped_column(String(10))
    area_sqm: Mapped[Decimal]
    registered_phone: Mapped[str] = mapped_column(String(20))

    unit: Mapped[Unit] = relationship(back_populates="rooms")

    @property
    def label(self) -> str:
        return f"{self.unit.building.number}栋{self.unit.number}单元{self.number}"


class Resident(Base):
    __tablename__ = "resident"

    id: Mapped[int] = mapped_column(primary_key=True)
    wechat_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Unused since 0006 (failures are counted from bind_attempt); kept for old readers.
    bind_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Binding by any proof but review is refused until then (too many failures).
    bind_locked_until: Mapped[datetime | None]

    houses: Mapped[list[ResidentRoom]] = relationship(back_populates="resident")


class ResidentRoom(Base):
    """A resident's verified binding to a room."""

    __tablename__ = "resident_room"
    __table_args__ = (UniqueConstraint("resident_id", "room_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"))
    role: Mapped[HouseRole] = mapped_column(str_enum(HouseRole))
    bound_at: Mapped[datetime] = mapped_column(default=utcnow)

    resident: Mapped[Resident] = relationship(back_populates="houses")
    room: Mapped[Room] = relationship()


class BindAttempt(Base):
    """One try at proving a room (kept to count failures per room and per resident)."""

    __tablename__ = "bind_attempt"
    __table_args__ = (
        Index("ix_bind_attempt_room_at", "room_id", "at"),
        Index("ix_bind_attempt_resident_at", "resident_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"))
    proof: Mapped[BindingProof] = mapped_column(str_enum(BindingProof))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class BindSmsCode(Base):
    """A code sent to a room's registered phone; only its salted hash is kept."""

    __tablename__ = "bind_sms_code"
    __table_args__ = (
        Index("ix_bind_sms_code_resident_at", "resident_id", "created_at"),
        Index("ix_bind_sms_code_room_at", "room_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"))
    code_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    wrong_tries: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None]
    voided: Mapped[bool] = mapped_column(Boolean, default=False)


class BindingRequest(Base):
    """A claim on a room waiting for (or decided by) staff review."""

    __tablename__ = "binding_request"
    __table_args__ = (Index("ix_binding_request_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"))
    role: Mapped[HouseRole] = mapped_column(str_enum(HouseRole))
    name: Mapped[str | None] = mapped_column(String(50))
    # What the claimant already proved before review (e.g. the phone's last four digits).
    verified_by: Mapped[BindingProof | None] = mapped_column(str_enum(BindingProof))
    status: Mapped[BindingRequestStatus] = mapped_column(
        str_enum(BindingRequestStatus), default=BindingRequestStatus.PENDING
    )
    remark: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[datetime | None]

    resident: Mapped[Resident] = relationship()
    room: Mapped[Room] = relationship()


class Bill(Base):
    __tablename__ = "bill"
    __table_args__ = (
        UniqueConstraint("room_id", "bill_type", "period"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), index=True)
    bill_type: Mapped[BillType] = mapped_column(str_enum(BillType))
    period: Mapped[date] = mapped_column(Date, comment="first day of the billed month")
    amount: Mapped[Decimal]
    due_date: Mapped[date] = mapped_column(Date)
    paid_at: Mapped[datetime | None]
    payment_method: Mapped[str | None] = mapped_column(String(20))

    room: Mapped[Room] = relationship()


class RepairOrder(Base):
    __tablename__ = "repair_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id"))
    item: Mapped[str] = mapped_column(String(50))
    location: Mapped[str | None] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(Text, default="")
    public_area: Mapped[bool] = mapped_column(Boolean, default=False)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[RepairStatus] = mapped_column(
        str_enum(RepairStatus), default=RepairStatus.SUBMITTED
    )
    assignee: Mapped[str | None] = mapped_column(String(50))
    preferred_start: Mapped[datetime | None]
    preferred_end: Mapped[datetime | None]
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # What the request that made it said it was (an action's retry finds this row, not a new one).
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    room: Mapped[Room | None] = relationship()
    events: Mapped[list[RepairEvent]] = relationship(
        back_populates="order", order_by="RepairEvent.id", cascade="all, delete-orphan"
    )


class RepairEvent(Base):
    __tablename__ = "repair_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("repair_order.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[RepairStatus] = mapped_column(str_enum(RepairStatus))
    actor: Mapped[str] = mapped_column(String(50))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # What the request that made it said it was (an action's retry finds this row, not a new one).
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    order: Mapped[RepairOrder] = relationship(back_populates="events")


class Facility(Base):
    __tablename__ = "facility"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    name: Mapped[str] = mapped_column(String(50))
    location: Mapped[str] = mapped_column(String(100), default="")
    opens_at: Mapped[time] = mapped_column(Time)
    closes_at: Mapped[time] = mapped_column(Time)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=60)
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    closed_weekdays: Mapped[str] = mapped_column(
        String(20), default="", comment="ISO weekdays, comma separated (1 = Monday)"
    )
    advance_days: Mapped[int] = mapped_column(Integer, default=7)
    max_active_per_resident: Mapped[int] = mapped_column(Integer, default=3)
    max_minutes_per_day: Mapped[int] = mapped_column(Integer, default=120)


class Booking(Base):
    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_booking_facility_start", "facility_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[BookingStatus] = mapped_column(
        str_enum(BookingStatus), default=BookingStatus.ACTIVE
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_by: Mapped[str | None] = mapped_column(String(50))
    reminded_at: Mapped[datetime | None]
    # What the request that made it said it was (an action's retry finds this row, not a new one).
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    facility: Mapped[Facility] = relationship()
    slots: Mapped[list[BookingSlot]] = relationship(
        back_populates="booking", cascade="all, delete-orphan"
    )


class BookingSlot(Base):
    """One seat of one slot, held by an active booking. The unique key is what makes a
    double booking impossible: two transactions cannot both hold seat 1 of 15:00."""

    __tablename__ = "booking_slot"
    __table_args__ = (UniqueConstraint("facility_id", "starts_at", "seat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    starts_at: Mapped[datetime]
    seat: Mapped[int] = mapped_column(Integer)

    booking: Mapped[Booking] = relationship(back_populates="slots")


class Complaint(Base):
    __tablename__ = "complaint"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    complaint_type: Mapped[str] = mapped_column(String(20))
    location: Mapped[str | None] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[ComplaintStatus] = mapped_column(
        str_enum(ComplaintStatus), default=ComplaintStatus.OPEN
    )
    sla_due_at: Mapped[datetime]
    response: Mapped[str | None] = mapped_column(Text)
    # The first time staff answered: the SLA is about responding, not about closing.
    responded_at: Mapped[datetime | None]
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    # The idempotency key of the request that rated it (its retry finds this rating).
    rating_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    # What the request that made it said it was (an action's retry finds this row, not a new one).
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    resident: Mapped[Resident] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(viewonly=True)


class Handoff(Base):
    """A conversation escalated to a person."""

    __tablename__ = "handoff"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(50))
    status: Mapped[HandoffStatus] = mapped_column(
        str_enum(HandoffStatus), default=HandoffStatus.OPEN
    )
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    claimed_by: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # What the request that made it said it was (an action's retry finds this row, not a new one).
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class Announcement(Base):
    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole), default=StaffRole.STAFF)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class StaffSession(Base):
    """One signed-in token (its `jti`): checked on every request, revoked by signing out."""

    __tablename__ = "staff_session"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]


class Attachment(Base):
    """A photo or location a resident sent, on their open repair or complaint if any."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_openid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    repair_id: Mapped[int | None] = mapped_column(ForeignKey("repair_order.id"), index=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"), index=True)
    media_id: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(500))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
