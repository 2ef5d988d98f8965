from __future__ import annotations

from datetime import timedelta

import pytest

from integrations.property import LocalPropertySystem
from integrations.property.interface import PropertyError
from integrations.property.models import utcnow
from tests.conftest import ADMIN_PASSWORD


def test_a_resident_is_found_by_wechat_id_with_their_houses(system: LocalPropertySystem) -> None:
    resident = system.residents.by_openid("demo-resident-3")

    assert resident is not None and resident.name == "王芳"
    assert [(h.label, h.role) for h in resident.houses] == [("3栋2单元301", "tenant")]
    assert system.residents.by_openid("demo-resident-unbound").houses == ()
    assert system.residents.by_openid("nobody") is None


def test_facilities_have_opening_hours(system: LocalPropertySystem) -> None:
    facilities = {f.name: f for f in system.facilities.list()}

    assert {"羽毛球场", "活动室", "健身房", "会议室"} <= facilities.keys()
    assert (facilities["羽毛球场"].opens_at, facilities["羽毛球场"].closes_at) == ("08:00", "21:00")
    assert facilities["健身房"].capacity > 1


def test_only_current_announcements_are_shown(system: LocalPropertySystem) -> None:
    now = utcnow()
    titles = [a.title for a in system.announcements.current(now=now)]
    assert "二次供水水箱清洗停水通知" in titles

    in_two_weeks = [a.title for a in system.announcements.current(now=now + timedelta(days=14))]
    assert "二次供水水箱清洗停水通知" not in in_two_weeks
    assert "冬季供暖开始" in in_two_weeks


def test_staff_log_in_with_their_password_only(system: LocalPropertySystem) -> None:
    admin = system.staff.authenticate("admin", ADMIN_PASSWORD)

    assert admin is not None and admin.role == "admin"
    assert admin.password_hash != ADMIN_PASSWORD
    assert system.staff.authenticate("admin", "wrong") is None
    assert system.staff.authenticate("nobody", ADMIN_PASSWORD) is None


def test_a_resident_binds_a_room_with_the_registered_phone(system: LocalPropertySystem) -> None:
    house = system.residents.bind(
        "o-newcomer", building="2", unit="1", room="202", phone_last4="0002", role="tenant"
    )

    assert (house.label, house.role) == ("2栋1单元202", "tenant")
    resident = system.residents.by_openid("o-newcomer")
    assert resident is not None and [h.label for h in resident.houses] == ["2栋1单元202"]
    bills = system.bills.statement("o-newcomer")
    assert bills.lines and {b.house for b in bills.lines} == {"2栋1单元202"}


def test_binding_a_second_room_keeps_the_first(system: LocalPropertySystem) -> None:
    system.residents.bind(
        "demo-resident-1", building="2", unit="1", room="202", phone_last4="0002", role="family"
    )

    houses = system.residents.by_openid("demo-resident-1").houses
    assert sorted((h.label, h.role) for h in houses) == [
        ("1栋1单元101", "owner"),
        ("2栋1单元202", "family"),
    ]


def test_a_wrong_phone_binds_nothing_and_five_lock_binding(system: LocalPropertySystem) -> None:
    for left in (4, 3, 2, 1):
        with pytest.raises(PropertyError, match=f"还可以再试{left}次"):
            system.residents.bind(
                "o-guesser", building="1", unit="1", room="101", phone_last4="9999", role="owner"
            )
    with pytest.raises(PropertyError, match="30分钟后再试"):
        system.residents.bind(
            "o-guesser", building="1", unit="1", room="101", phone_last4="9999", role="owner"
        )
    with pytest.raises(PropertyError, match="30分钟后再试"):  # even with the right digits
        system.residents.bind(
            "o-guesser", building="1", unit="1", room="101", phone_last4="0001", role="owner"
        )
    assert system.residents.by_openid("o-guesser").houses == ()


def test_an_unknown_room_is_a_clear_error(system: LocalPropertySystem) -> None:
    with pytest.raises(PropertyError, match="没有找到9栋1单元101"):
        system.residents.bind(
            "o-x", building="9", unit="1", room="101", phone_last4="0001", role="owner"
        )


def test_residents_are_told_the_numbers_of_their_community(system: LocalPropertySystem) -> None:
    bound = system.residents.contacts("demo-resident-1")
    stranger = system.residents.contacts("o-never-seen")

    assert bound.emergency_phone == "0571-88889999"
    assert bound.service_phone == "0571-88880000"
    assert stranger == bound  # one community: a stranger can only mean this one
