"""Emergencies are recognised by rule and always read as a repair report."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.emergencies import emergency_of
from bot.components.extractors import EmergencyIntent


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("电梯困人了，快来", "电梯困人"),
        ("我被关在电梯里了", "电梯困人"),
        ("电梯卡住了里面有人", "电梯困人"),
        ("电梯里关着人呢", "电梯困人"),
        ("救命 电梯卡住了 我在里面", "电梯困人"),
        ("家里有很重的煤气味", "燃气泄漏"),
        ("楼道燃气泄漏", "燃气泄漏"),
        ("插座冒火花了", "漏电起火"),
        ("电线冒烟", "漏电起火"),
        ("水管爆了，客厅都淹了", "大面积漏水"),
        ("家里大面积漏水", "大面积漏水"),
        ("厨房水龙头有点滴水", None),
        ("电梯按钮失灵", None),
        ("电梯卡住了不动", None),
        ("燃气费多少", None),
    ],
)
def test_emergencies_are_recognised_from_what_residents_write(text: str, kind: str | None) -> None:
    assert emergency_of(text) == kind


def test_an_emergency_overrides_any_intent_even_a_fallback() -> None:
    trapped = Message(data={TEXT: "有人被关在电梯里出不来", INTENT: {"name": "nlu_fallback"}})
    fee = Message(data={TEXT: "燃气费多少", INTENT: {"name": "query_bill", "confidence": 0.9}})

    EmergencyIntent().process([trapped, fee])

    assert trapped.get(INTENT) == {"name": "report_repair", "confidence": 1.0}
    assert trapped.get("emergency") == "电梯困人"
    assert fee.get(INTENT)["name"] == "query_bill" and fee.get("emergency") is None
