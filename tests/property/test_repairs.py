from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from integrations.property import LocalPropertySystem
from integrations.property.interface import InvalidTransition, NotFound, PropertyError


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

    with pytest.raises(PropertyError, match="哪一套房屋"):
        system.repairs.create("demo-resident-unbound", item="水管")


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
