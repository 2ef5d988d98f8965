from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrations.property.interface import BillLine, BillStatement, NotFound, PropertyError
from integrations.property.models import Bill, BillType
from integrations.property.services._base import (
    Service,
    find_room,
    require_bound,
    room_labels,
)

TYPE_ORDER = {bill_type: index for index, bill_type in enumerate(BillType)}


class BillService(Service):
    def for_room(self, building: str, unit: str, room: str) -> BillStatement:
        """A room's bills, for staff (residents go through `statement`)."""
        with self._tx() as session:
            target = find_room(session, building, unit, room)
            if target is None:
                raise NotFound(f"没有找到{building}栋{unit}单元{room}。")
            bills = session.scalars(select(Bill).where(Bill.room_id == target.id))
            return _statement(session, bills, {target.id})

    def statement(
        self,
        openid: str,
        *,
        bill_type: str | None = None,
        period_from: date | None = None,
        period_to: date | None = None,
        unpaid_only: bool = False,
    ) -> BillStatement:
        """Bills of the rooms this resident is bound to, and only those."""
        with self._tx() as session:
            resident = require_bound(session, openid)
            room_ids = {link.room_id for link in resident.houses}
            query = select(Bill).where(Bill.room_id.in_(room_ids))
            if bill_type is not None:
                try:
                    query = query.where(Bill.bill_type == BillType(bill_type))
                except ValueError:
                    raise PropertyError(f"没有“{bill_type}”这种费用。") from None
            if period_from is not None:
                query = query.where(Bill.period >= period_from.replace(day=1))
            if period_to is not None:
                query = query.where(Bill.period <= period_to)
            if unpaid_only:
                query = query.where(Bill.paid_at.is_(None))
            return _statement(session, session.scalars(query), room_ids)


def _statement(session: Session, bills: Iterable[Bill], room_ids: set[int]) -> BillStatement:
    labels = room_labels(session, room_ids)
    ordered = sorted(bills, key=lambda b: (-b.period.toordinal(), TYPE_ORDER[b.bill_type]))
    return BillStatement(
        lines=tuple(
            BillLine(
                id=bill.id,
                house=labels[bill.room_id],
                bill_type=bill.bill_type.value,
                period=bill.period,
                amount=bill.amount,
                due_date=bill.due_date,
                paid_at=bill.paid_at,
            )
            for bill in ordered
        )
    )
