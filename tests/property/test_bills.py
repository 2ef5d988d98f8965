from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from integrations.property import LocalPropertySystem
from integrations.property.db import session_factory
from integrations.property.interface import NotBound, PropertyError
from integrations.property.models import Bill, BillType, Room
from integrations.property.seed import PROPERTY_FEE_PER_SQM


def test_a_resident_sees_only_the_bills_of_their_own_room(system: LocalPropertySystem) -> None:
    statement = system.bills.statement("demo-resident-1")

    assert statement.lines
    assert {line.house for line in statement.lines} == {"1栋1单元101"}


def test_the_property_fee_is_the_exact_decimal_amount_of_the_room(
    system: LocalPropertySystem,
) -> None:
    room_id = system.residents.by_openid("demo-resident-1").houses[0].room_id
    with session_factory(system.engine)() as session:
        area = session.get(Room, room_id).area_sqm
    statement = system.bills.statement("demo-resident-1", bill_type="物业费")

    assert all(isinstance(line.amount, Decimal) for line in statement.lines)
    assert {line.amount for line in statement.lines} == {
        (area * PROPERTY_FEE_PER_SQM).quantize(Decimal("0.01"))
    }
    assert [line.period for line in statement.lines] == sorted(
        (line.period for line in statement.lines), reverse=True
    )


def test_arrears_are_the_sum_of_the_unpaid_bills(system: LocalPropertySystem) -> None:
    statement = system.bills.statement("demo-resident-2", bill_type="物业费", unpaid_only=True)

    assert len(statement.lines) == 4
    assert not any(line.paid for line in statement.lines)
    assert statement.unpaid_total == sum(line.amount for line in statement.lines)
    assert statement.unpaid_total == statement.total


def test_a_family_member_sees_the_bills_of_the_house_they_are_bound_to(
    system: LocalPropertySystem,
) -> None:
    owner = system.bills.statement("demo-resident-1")
    family = system.bills.statement("demo-resident-4")

    assert family.lines == owner.lines


@pytest.mark.parametrize("openid", ["demo-resident-unbound", "someone-we-never-met"])
def test_residents_without_a_bound_house_are_told_to_bind_one(
    system: LocalPropertySystem, openid: str
) -> None:
    with pytest.raises(NotBound) as error:
        system.bills.statement(openid)
    assert "绑定房屋" in error.value.message


def test_bills_can_be_narrowed_to_a_period(system: LocalPropertySystem) -> None:
    everything = system.bills.statement("demo-resident-1")
    latest = max(line.period for line in everything.lines)

    narrowed = system.bills.statement("demo-resident-1", period_from=latest, period_to=latest)

    assert narrowed.lines
    assert {line.period for line in narrowed.lines} == {latest}


def test_an_unknown_bill_type_is_a_clear_error(system: LocalPropertySystem) -> None:
    with pytest.raises(PropertyError, match="没有“话费”这种费用"):
        system.bills.statement("demo-resident-1", bill_type="话费")


def test_amounts_stay_exact_through_the_database(system: LocalPropertySystem) -> None:
    """0.10 + 0.20 is 0.30 here, not 0.30000000000000004."""
    room_id = system.residents.by_openid("demo-resident-1").houses[0].room_id
    with session_factory(system.engine).begin() as session:
        session.query(Bill).where(Bill.room_id == room_id).delete()
        for month, amount in ((1, "0.10"), (2, "0.20"), (3, "1234567.89")):
            session.add(
                Bill(
                    room_id=room_id,
                    bill_type=BillType.WATER,
                    period=date(2020, month, 1),
                    amount=Decimal(amount),
                    due_date=date(2020, month, 28),
                )
            )

    statement = system.bills.statement("demo-resident-1", bill_type="水费")

    assert statement.total == Decimal("1234568.19")
    assert sorted(line.amount for line in statement.lines) == [
        Decimal("0.10"),
        Decimal("0.20"),
        Decimal("1234567.89"),
    ]
