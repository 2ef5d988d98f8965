"""Clearly angry residents are recognised by rule and handed to a person."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.extractors import AngerIntent, EmergencyIntent
from bot.components.moods import is_angry


@pytest.mark.parametrize(
    "text",
    [
        "你们物业到底管不管！楼上吵了一个月了",
        "什么破物业，交钱的时候挺积极",
        "漏水三天了还没人来修！！",
        "我受够了，天天停水",
        "再不处理我就打12345投诉你们",
        "你们这服务太差了😡",
        "垃圾物业，拿钱不办事",
        "说了多少次了？？还是没人管",
        "他妈的电梯又坏了",
        "气死我了，车位又被占了",
    ],
)
def test_clearly_angry_messages_are_recognised(text: str) -> None:
    assert is_angry(text)


@pytest.mark.parametrize(
    "text",
    [
        "楼上装修太吵了，周末早上七点就开始砸墙",
        "我要投诉",
        "物业费怎么交",
        "人工！！！",
        "太好了！！谢谢师傅",
        "水管坏了！！",
        "我的报修怎么还没人来",
        "不管几点都可以来修",
        "12345678",
        "我手机是13912345678",
        "滚筒洗衣机坏了",
    ],
)
def test_calm_or_merely_urgent_messages_are_not_angry(text: str) -> None:
    assert not is_angry(text)


def test_an_angry_message_asks_for_a_person_but_an_emergency_stays_an_emergency() -> None:
    angry = Message(data={TEXT: "你们到底管不管！！", INTENT: {"name": "file_complaint"}})
    calm = Message(data={TEXT: "楼上太吵了", INTENT: {"name": "file_complaint", "confidence": 0.9}})
    gas = Message(data={TEXT: "煤气味好大，气死我了", INTENT: {"name": "nlu_fallback"}})

    EmergencyIntent().process([angry, calm, gas])
    AngerIntent().process([angry, calm, gas])

    assert angry.get(INTENT) == {"name": "request_human", "confidence": 1.0}
    assert angry.get("mood") == "angry"
    assert calm.get(INTENT)["name"] == "file_complaint" and calm.get("mood") is None
    assert gas.get(INTENT)["name"] == "report_repair" and gas.get("mood") is None
