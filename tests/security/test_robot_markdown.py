"""Resident text in the staff group robot's markdown (issue 14, item 5): what a resident
typed reads as typed, never as a link or markup beside the real console link."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.complaints import ActionSubmitComplaint
from actions.handoffs import ActionRequestHuman
from app.conversations.outbox import Outbox
from app.settings import get_settings
from tests.wechat.fake_server import ROBOT, FakeWeChat

PHISHING = '[打开客服工作台](http://evil.example/console) <font color="warning">紧急</font>'
LINK = re.compile(r"\[[^\]]*\]\(([^)]*)\)")


@pytest.fixture
def robot_markdown(staff_group: Outbox, fake: FakeWeChat) -> Any:
    """What the staff group's robot received, once the outbox has sent it."""

    async def received() -> list[str]:
        await staff_group.drain()
        return [body["markdown"]["content"] for body in fake.sent(ROBOT)]

    return received


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
