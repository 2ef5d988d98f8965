from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from integrations.property import LocalPropertySystem
from integrations.property.interface import InvalidTransition, NotFound


def test_a_complaint_gets_a_number_and_a_deadline_by_category(system: LocalPropertySystem) -> None:
    urgent = system.complaints.create(
        "demo-resident-1", complaint_type="安全", description="楼道里堆了好多纸箱"
    )
    routine = system.complaints.create(
        "demo-resident-1", complaint_type="卫生", description="垃圾桶满了"
    )

    assert urgent.number.startswith("TS") and urgent.number != routine.number
    assert urgent.sla_due_at - urgent.created_at == timedelta(hours=2)
    assert routine.sla_due_at - routine.created_at == timedelta(hours=48)


def test_a_closed_complaint_stays_closed(system: LocalPropertySystem) -> None:
    number = system.complaints.create(
        "demo-resident-2", complaint_type="噪音", description="半夜装修"
    ).number
    system.complaints.transition(number, "processing", actor="小王", response="已联系楼上")
    closed = system.complaints.transition(number, "closed", actor="小王")

    assert closed.status == "closed" and closed.response == "已联系楼上"
    with pytest.raises(InvalidTransition):
        system.complaints.transition(number, "processing", actor="小王")


def test_a_resident_cannot_read_someone_elses_complaint(system: LocalPropertySystem) -> None:
    number = system.complaints.create(
        "demo-resident-2", complaint_type="停车", description="车位被占"
    ).number
    with pytest.raises(NotFound):
        system.complaints.get(number, openid="demo-resident-1")
    assert system.complaints.get(number, openid="demo-resident-2").number == number


def test_one_sender_has_one_active_handoff(system: LocalPropertySystem) -> None:
    first = system.handoffs.open("demo-resident-1", channel="wechat", reason="request_human")
    again = system.handoffs.open("demo-resident-1", channel="wechat", reason="angry")

    assert again.id == first.id
    assert system.handoffs.active_for("demo-resident-1") == first

    system.handoffs.close(first.id, staff="小王")
    assert system.handoffs.active_for("demo-resident-1") is None


def test_the_second_staff_member_is_told_who_has_the_handoff(system: LocalPropertySystem) -> None:
    handoff = system.handoffs.open("demo-resident-2", channel="wechat", reason="request_human")

    assert system.handoffs.claim(handoff.id, staff="小王").claimed_by == "小王"
    with pytest.raises(InvalidTransition, match="已由 小王 接手"):
        system.handoffs.claim(handoff.id, staff="小李")


def test_concurrent_claims_have_exactly_one_winner(system: LocalPropertySystem) -> None:
    handoff = system.handoffs.open("demo-resident-3", channel="wechat", reason="request_human")
    staff = [f"客服{i}" for i in range(8)]

    def claim(name: str) -> str:
        try:
            return system.handoffs.claim(handoff.id, staff=name).claimed_by or ""
        except InvalidTransition as refused:
            return refused.message

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(claim, staff))

    winners = [o for o in outcomes if o in staff]
    assert len(winners) == 1
    assert all(o == f"该会话已由 {winners[0]} 接手。" for o in outcomes if o not in staff)


def test_a_handoff_keeps_the_conversation_and_queues_longest_waiting_first(
    system: LocalPropertySystem,
) -> None:
    first = system.handoffs.open(
        "demo-resident-1",
        channel="oa",
        reason="住户要求人工",
        transcript=[{"from": "resident", "text": "水管漏了"}, {"from": "bot", "text": "请问…"}],
    )
    second = system.handoffs.open("demo-resident-2", channel="oa", reason="连续两次没听懂")

    system.handoffs.append(first.id, speaker="resident", text="有人吗")
    answered = system.handoffs.append(first.id, speaker="客服小王", text="您好，我来处理")

    assert [line["text"] for line in answered.transcript] == [
        "水管漏了",
        "请问…",
        "有人吗",
        "您好，我来处理",
    ]
    assert [h.id for h in system.handoffs.active()] == [first.id, second.id]
    assert system.handoffs.get(first.id).transcript == answered.transcript


def test_a_complaints_deadline_is_met_by_the_first_answer_not_by_closing(
    system: LocalPropertySystem,
) -> None:
    from datetime import UTC, datetime

    from integrations.property.services.complaints import sla_state

    complaint = system.complaints.create(
        "demo-resident-1", complaint_type="消防通道", description="消防通道停了三辆车"
    )
    assert sla_state(complaint, complaint.created_at) == "due"
    assert sla_state(complaint, complaint.sla_due_at + timedelta(minutes=1)) == "overdue"

    answered = system.complaints.transition(
        complaint.number, "processing", actor="小王", response="保安已去挪车"
    )
    assert sla_state(answered, datetime.now(UTC) + timedelta(days=3)) == "met"


def test_a_closed_complaint_is_rated_once_by_its_own_resident(system: LocalPropertySystem) -> None:
    number = system.complaints.create(
        "demo-resident-1", complaint_type="卫生", description="垃圾桶满了没人倒"
    ).number
    assert system.complaints.awaiting_rating("demo-resident-1") is None
    with pytest.raises(InvalidTransition):
        system.complaints.rate(number, openid="demo-resident-1", score=5)

    system.complaints.transition(number, "closed", actor="小王", response="已清运")
    assert system.complaints.awaiting_rating("demo-resident-1").number == number
    with pytest.raises(NotFound):
        system.complaints.rate(number, openid="demo-resident-2", score=1)

    rated = system.complaints.rate(number, openid="demo-resident-1", score=4, comment="挺快")
    assert rated.rating == 4
    assert system.complaints.awaiting_rating("demo-resident-1") is None
    with pytest.raises(InvalidTransition):
        system.complaints.rate(number, openid="demo-resident-1", score=5)


def test_a_photo_goes_to_the_newest_open_repair_or_complaint(system: LocalPropertySystem) -> None:
    system.repairs.create("demo-resident-1", item="灯", location="客厅", description="不亮")
    complaint = system.complaints.create(
        "demo-resident-1", complaint_type="宠物", description="楼下的狗天天叫"
    )

    photo = system.attachments.attach("demo-resident-1", kind="image", media_id="m-1")

    assert (photo.target, photo.number) == ("complaint", complaint.number)
    assert system.complaints.get(complaint.number).photos == 1
    mine = system.complaints.for_resident("demo-resident-1", open_only=True)
    assert [c.number for c in mine][:1] == [complaint.number]
    theirs = system.complaints.for_resident("demo-resident-2")
    assert complaint.number not in [c.number for c in theirs]
