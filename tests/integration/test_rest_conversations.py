"""Conversations through the real Rasa server, the app's action endpoint and the database."""

from __future__ import annotations

import uuid

import httpx

from actions.formatting import yuan
from integrations.property import LocalPropertySystem
from scripts.stack import RunningStack
from tests.integration.conftest import say


def test_a_resident_asks_for_this_months_property_fee_and_gets_their_real_amount(
    rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    fee = stack_system.bills.statement("demo-resident-1", bill_type="物业费").lines[0]

    [reply] = say(rasa, "demo-resident-1", "我家这个月物业费多少")

    assert "1栋1单元101" in reply
    assert f"物业费 {yuan(fee.amount)}" in reply
    assert f"{fee.period.year}年{fee.period.month}月" in reply


def test_another_resident_gets_their_own_bill_and_their_arrears(
    rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    arrears = stack_system.bills.statement("demo-resident-2", bill_type="物业费", unpaid_only=True)
    current, *earlier = arrears.lines

    [reply] = say(rasa, "demo-resident-2", "查一下物业费")

    assert "2栋1单元202" in reply and "1栋1单元101" not in reply
    assert yuan(current.amount) in reply
    assert f"往月未缴物业费 {yuan(sum(b.amount for b in earlier))}" in reply


def test_a_synonym_is_understood_as_the_canonical_bill_type(rasa: httpx.Client) -> None:
    [reply] = say(rasa, "demo-resident-3", "管理费多少钱")

    assert "3栋2单元301" in reply and "物业费 ¥" in reply


def test_an_unbound_resident_is_asked_to_bind_first(rasa: httpx.Client) -> None:
    assert say(rasa, "demo-resident-unbound", "我家这个月物业费多少") == [
        "您还没有绑定房屋，请先绑定房屋后再查询。"
    ]


def test_small_talk_and_out_of_scope(rasa: httpx.Client) -> None:
    sender = f"visitor-{uuid.uuid4().hex[:8]}"

    assert "物业助手" in say(rasa, sender, "你好")[0]
    assert "不客气" in say(rasa, sender, "谢谢啦")[0]
    assert "帮不上忙" in say(rasa, sender, "今天天气怎么样")[0]
    assert "再见" in say(rasa, sender, "拜拜")[0]


def test_health_is_ok_when_everything_runs(stack: RunningStack) -> None:
    body = httpx.get(f"{stack.app_url}/healthz", timeout=10).json()

    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["rasa"] == {"status": "ok", "model_file": "wuye.tar.gz"}
    expected_redis = "ok" if "REDIS_URL" in stack.env else "not_configured"
    assert body["checks"]["redis"]["status"] == expected_redis
