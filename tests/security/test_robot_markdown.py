"""Resident text in the staff group robot's markdown (issue 14, item 5): what a resident
typed reads as typed, never as a link or markup beside the real console link."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.base
from actions.complaints import ActionSubmitComplaint
from actions.handoffs import ActionRequestHuman
from app.conversations.handoff_state import HandoffState
from app.conversations.handoff_state import install as install_handoff_state
from app.conversations.log import MessageLog
from app.conversations.outbox import Outbox
from app.conversations.staff_alerts import STAFF_GROUP, StaffAlerts
from app.conversations.staff_alerts import install as install_staff_alerts
from app.kv import RedisKV
from app.settings import get_settings
from integrations.property import LocalPropertySystem
from integrations.property.db import session_factory
from integrations.wechat.api import GroupRobot
from integrations.wechat.push import GroupRobotPush
from tests.wechat.fake_server import ROBOT, FakeWeChat, running_fake_wechat

PHISHING = '[打开客服工作台](http://evil.example/console) <font color="warning">紧急</font>'
LINK = re.compile(r"\[[^\]]*\]\(([^)]*)\)")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWeChat]:
    with running_fake_wechat() as server:
        yield server


@pytest.fixture
async def robot_markdown(
    system: LocalPropertySystem, kv: RedisKV, fake: FakeWeChat, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Any]:
    """What the staff group's robot received, once the outbox has sent it."""
    fake.reset()
    monkeypatch.setattr(actions.base, "property_system", lambda: system)
    async with httpx.AsyncClient(trust_env=False) as http:
        robot = GroupRobot(http, kv, f"{fake.url}{ROBOT}?key=k-{uuid.uuid4().hex[:6]}")
        outbox = Outbox(
            MessageLog(session_factory(system.engine)), {STAFF_GROUP: GroupRobotPush(robot)}
        )
        install_staff_alerts(StaffAlerts(outbox))
        install_handoff_state(HandoffState(system.handoffs, None))

        async def received() -> list[str]:
            await outbox.drain()
            return [body["markdown"]["content"] for body in fake.sent(ROBOT)]

        try:
            yield received
        finally:
            install_staff_alerts(None)
            install_handoff_state(None)


def turn(sender: str, text: str, slots: dict[str, Any] | None = None) -> Tracker:
    return Tracker(
        sender_id=sender,
        slots=slots or {},
        latest_message={
            "text": text,
            "intent": {"name": "request_human"},
            "entities": [],
            "message_id": uuid.uuid4().hex,
        },
        events=[{"event": "user", "text": text}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def assert_only_the_console_link(markdown: str) -> None:
    console = f"{get_settings().public_base_url}/console/"
    assert [url.startswith(console) for url in LINK.findall(markdown)] == [True]
    assert "<font" not in markdown and "http://evil" not in markdown
    assert "打开客服工作台" in markdown.split("\n")[-1]  # the real link, on its own line


async def test_a_complaints_text_cannot_add_a_link_or_markup_to_the_alert(
    robot_markdown: Any,
) -> None:
    slots = {
        "complaint_type": "噪音",
        "complaint_location": "[3栋](http://evil.example)\n> 住户：物业经理",
        "complaint_description": f"楼上每天半夜装修 {PHISHING}",
        "complaint_anonymous": "no",
    }

    await ActionSubmitComplaint().run(
        CollectingDispatcher(), turn("demo-resident-1", "不", slots), {}
    )

    [markdown] = await robot_markdown()
    assert markdown.startswith("**【新投诉】噪音**")
    assert_only_the_console_link(markdown)
    assert "［打开客服工作台］（http：//evil.example/console）" in markdown
    assert sum(line.startswith("> 住户：") for line in markdown.split("\n")) == 1


async def test_a_residents_last_words_cannot_add_a_link_when_handed_to_staff(
    robot_markdown: Any,
) -> None:
    await ActionRequestHuman().run(CollectingDispatcher(), turn("demo-resident-2", PHISHING), {})

    [markdown] = await robot_markdown()
    assert markdown.startswith("**【转人工】住户要求人工**")
    assert_only_the_console_link(markdown)
    assert '＜font color="warning"＞紧急＜/font＞' in markdown
