from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from integrations.property import LocalPropertySystem
from integrations.property.interface import (
    InvalidTransition,
    NotBound,
    NotFound,
    PropertyError,
)


def test_a_new_repair_gets_a_number_the_resident_can_quote(system: LocalPropertySystem) -> None:
    order = system.repairs.create(
        "demo-resident-1", item="马桶", location="卫生间", description="马桶堵了"
    )

    today = datetime.now(ZoneInfo("Asia/Shanghai"))
    assert re.fullmatch(rf"BX{today:%y%m%d}\d{{4,}}", order.number)
    assert order.house == "1栋1单元101"
    assert order.status == "submitted"
    assert [(e.kind, e.actor) for e in order.events] == [("created", "张伟")]
    assert system.repairs.get(order.number.lower(), openid="demo-resident-1") == order


def test_a_repair_walks_its_lifecycle_and_keeps_its_history(system: LocalPropertySystem) -> None:
    number = system.repairs.create("demo-resident-1", item="灯", location="卧室").number

    system.repairs.transition(number, "assigned", actor="客服小王", assignee="老赵")
    system.repairs.transition(number, "in_progress", actor="老赵")
    done = system.repairs.transition(number, "completed", actor="老赵", note="换了灯泡")

    assert done.status == "completed"
    assert done.assignee == "老赵"
    assert [e.status for e in done.events] == ["submitted", "assigned", "in_progress", "completed"]
    assert done.events[-1].note == "换了灯泡"
    assert all(a.at <= b.at for a, b in zip(done.events, done.events[1:], strict=False))


def test_a_finished_repair_cannot_be_cancelled(system: LocalPropertySystem) -> None:
    number = system.repairs.create("demo-resident-1", item="灯").number
    system.repairs.transition(number, "in_progress", actor="老赵")
    system.repairs.transition(number, "completed", actor="老赵")

    with pytest.raises(InvalidTransition, match="当前已完成，不能改为已取消"):
        system.repairs.transition(number, "cancelled", actor="张伟")
    assert system.repairs.get(number).status == "completed"


def test_a_resident_cannot_read_someone_elses_repair(system: LocalPropertySystem) -> None:
    number = system.repairs.create("demo-resident-1", item="门锁").number

    with pytest.raises(NotFound):
        system.repairs.get(number, openid="demo-resident-2")


def test_public_area_repairs_need_no_house_but_home_repairs_do(
    system: LocalPropertySystem,
) -> None:
    public = system.repairs.create(
        "demo-resident-unbound", item="电梯", location="电梯", public_area=True
    )
    assert public.house is None and public.public_area

    with pytest.raises(NotBound, match="需要先绑定房屋"):
        system.repairs.create("demo-resident-unbound", item="水管")


def test_an_emergency_is_taken_from_anyone_even_before_binding(
    system: LocalPropertySystem,
) -> None:
    order = system.repairs.create(
        "o-stranger", item="燃气", description="家里煤气味很重", emergency=True
    )

    assert order.emergency and order.resident_openid == "o-stranger"
    assert system.repairs.get(order.number, openid="o-stranger").number == order.number


def test_the_visit_window_the_resident_asked_for_is_kept(system: LocalPropertySystem) -> None:
    start = datetime(2026, 11, 22, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    end = datetime(2026, 11, 22, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    order = system.repairs.create(
        "demo-resident-1", item="马桶", preferred_start=start, preferred_end=end
    )

    kept = system.repairs.get(order.number)
    assert (kept.preferred_start, kept.preferred_end) == (start, end)


def test_a_resident_cannot_file_a_repair_for_a_house_they_are_not_bound_to(
    system: LocalPropertySystem,
) -> None:
    other_room = system.residents.by_openid("demo-resident-2").houses[0].room_id

    with pytest.raises(PropertyError, match="没有绑定这套房屋"):
        system.repairs.create("demo-resident-1", item="水管", room_id=other_room)


def test_open_repairs_of_a_resident(system: LocalPropertySystem) -> None:
    mine = system.repairs.for_resident("demo-resident-1")
    still_open = system.repairs.for_resident("demo-resident-1", open_only=True)

    assert {o.status for o in mine} >= {"completed", "assigned"}
    assert still_open and all(
        o.status in {"submitted", "assigned", "in_progress"} for o in still_open
    )
    assert {o.number for o in still_open} < {o.number for o in mine}


def test_a_resident_urges_their_open_repair_and_staff_see_it(system: LocalPropertySystem) -> None:
    number = system.repairs.create("demo-resident-1", item="水管").number

    urged = system.repairs.urge(number, openid="demo-resident-1")

    assert urged.status == "submitted"
    assert [(e.kind, e.actor, e.note) for e in urged.events][-1] == ("urged", "张伟", "住户催单")
    with pytest.raises(NotFound):
        system.repairs.urge(number, openid="demo-resident-2")


def test_urging_again_within_half_an_hour_is_not_recorded_twice(
    system: LocalPropertySystem,
) -> None:
    number = system.repairs.create("demo-resident-1", item="水管").number
    system.repairs.urge(number, openid="demo-resident-1")

    with pytest.raises(InvalidTransition, match="刚刚已经帮您催过了"):
        system.repairs.urge(number, openid="demo-resident-1")
    assert [e.kind for e in system.repairs.get(number).events].count("urged") == 1


def test_a_resident_cancels_before_work_starts_but_not_after(
    system: LocalPropertySystem,
) -> None:
    early = system.repairs.create("demo-resident-1", item="灯").number
    assert system.repairs.cancel(early, openid="demo-resident-1").status == "cancelled"
    with pytest.raises(InvalidTransition, match="不需要催办"):
        system.repairs.urge(early, openid="demo-resident-1")

    started = system.repairs.create("demo-resident-1", item="门锁").number
    system.repairs.transition(started, "in_progress", actor="老赵")
    with pytest.raises(InvalidTransition, match="维修中，不能取消了"):
        system.repairs.cancel(started, openid="demo-resident-1")


def test_a_completed_repair_is_rated_once_from_one_to_five(system: LocalPropertySystem) -> None:
    number = system.repairs.create("demo-resident-1", item="马桶").number
    with pytest.raises(InvalidTransition, match="还没有完成"):
        system.repairs.rate(number, openid="demo-resident-1", score=5)
    system.repairs.transition(number, "in_progress", actor="老赵")
    system.repairs.transition(number, "completed", actor="老赵")

    with pytest.raises(PropertyError, match="1到5分"):
        system.repairs.rate(number, openid="demo-resident-1", score=6)
    assert system.repairs.awaiting_rating("demo-resident-1").number == number
    rated = system.repairs.rate(number, openid="demo-resident-1", score=4, comment="来得有点晚")

    assert rated.rating == 4 and rated.events[-1].note == "4分 来得有点晚"
    awaiting = system.repairs.awaiting_rating("demo-resident-1")
    assert awaiting is None or awaiting.number != number
    with pytest.raises(InvalidTransition, match="已经评价过了"):
        system.repairs.rate(number, openid="demo-resident-1", score=5)
    with pytest.raises(NotFound):
        system.repairs.rate(number, openid="demo-resident-2", score=1)
