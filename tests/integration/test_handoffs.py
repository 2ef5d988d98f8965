"""Escalation to a person and back, through WeChat, the real Rasa server, the app, the staff
API and the database; the staff group robot and WeChat's push API are the fake server."""

from __future__ import annotations

import json
import threading
import time
import uuid

import httpx

from app.staff.desk import BOT_RESUMES
from integrations.property import LocalPropertySystem
from scripts.stack import RunningStack
from tests.integration.conftest import says
from tests.integration.test_repairs import HOME_101, resident
from tests.integration.wechat_peer import OfficialAccountPeer
from tests.wechat.fake_server import CUSTOM, ROBOT, FakeWeChat


def test_a_resident_asks_for_a_person_and_gets_one_then_the_bot_again(
    wechat: OfficialAccountPeer,
    stack_system: LocalPropertySystem,
    staff: httpx.Client,
    fake_wechat: FakeWeChat,
) -> None:
    me = resident(stack_system, HOME_101)
    says(wechat, me, "这个月物业费多少")

    transferred = says(wechat, me, "转人工")

    assert transferred.startswith("已为您转接人工客服")
    handoff = stack_system.handoffs.active_for(me)
    assert handoff is not None and handoff.reason == "住户要求人工"
    assert [line["text"] for line in handoff.transcript][:1] == ["这个月物业费多少"]
    alert = fake_wechat.wait_for(ROBOT, lambda b: f"会话：{handoff.id}" in str(b))
    assert f"/console/handoffs/{handoff.id}" in alert["markdown"]["content"]

    # While a person has the conversation the bot is silent; the staff see every word.
    assert says(wechat, me, "楼上天天半夜吵，受不了了") == ""
    assert (
        stack_system.handoffs.get(handoff.id).transcript[-1]["text"] == "楼上天天半夜吵，受不了了"
    )

    assert staff.post(f"/api/handoffs/{handoff.id}/claim").json()["claimed_by"] == "物业管理员"
    staff.post(f"/api/handoffs/{handoff.id}/reply", json={"text": "您好，我马上去协调。"})
    pushed = fake_wechat.wait_for(CUSTOM, lambda b: b["touser"] == me)
    assert pushed["text"]["content"] == "您好，我马上去协调。"
    assert stack_system.handoffs.get(handoff.id).transcript[-1]["from"] == "物业管理员"

    staff.post(f"/api/handoffs/{handoff.id}/close").raise_for_status()
    fake_wechat.wait_for(
        CUSTOM, lambda b: b["touser"] == me and b["text"]["content"] == BOT_RESUMES
    )
    assert "物业费" in says(wechat, me, "这个月物业费多少")  # the bot answers again


def test_two_staff_claiming_at_once_one_wins_the_other_is_told_who(
    stack: RunningStack, stack_system: LocalPropertySystem, staff: httpx.Client
) -> None:
    handoff = stack_system.handoffs.open(f"o-{uuid.uuid4().hex[:8]}", channel="oa", reason="测试")
    stack_system.handoffs.claim(handoff.id, staff="客服小王")

    refused = staff.post(f"/api/handoffs/{handoff.id}/claim")

    assert refused.status_code == 409 and refused.json()["detail"] == "该会话已由 客服小王 接手。"


def test_not_understood_twice_in_a_row_brings_a_person(
    wechat: OfficialAccountPeer, stack_system: LocalPropertySystem
) -> None:
    me = resident(stack_system, HOME_101)

    first = says(wechat, me, "啊吧啊吧嘞嘞")
    second = says(wechat, me, "咕噜咕噜嘞嘞啊吧")

    assert first.startswith("抱歉，我没太明白您的意思")
    assert second.startswith("已为您转接人工客服")
    assert stack_system.handoffs.active_for(me).reason == "连续两次没听懂"


def test_the_staff_live_view_shows_the_residents_words_as_they_arrive(
    wechat: OfficialAccountPeer, stack_system: LocalPropertySystem, staff: httpx.Client
) -> None:
    me = resident(stack_system, HOME_101)
    says(wechat, me, "人工")
    handoff = stack_system.handoffs.active_for(me)
    assert handoff is not None
    seen = len(handoff.transcript)
    events: list[str] = []

    def resident_writes_soon() -> None:
        time.sleep(1)
        says(wechat, me, "我家门口的灯坏了三天了")
        staff.post(f"/api/handoffs/{handoff.id}/close")

    writer = threading.Thread(target=resident_writes_soon)
    writer.start()
    path = f"/api/handoffs/{handoff.id}/stream?after={seen}"
    with staff.stream("GET", path, timeout=30) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = [line for line in stream.iter_lines() if line.startswith(("event:", "data:"))]
    writer.join()

    assert events[0] == "event: line"
    assert json.loads(events[1].removeprefix("data: "))["text"] == "我家门口的灯坏了三天了"
    assert events[-2:] == ["event: closed", "data: {}"]
