"""Binding a WeChat identity to a house, through the real Rasa server and the database."""

from __future__ import annotations

import uuid

import httpx

from actions.formatting import yuan
from integrations.property import LocalPropertySystem
from tests.integration.conftest import say


def test_an_unbound_resident_binds_a_house_and_then_sees_its_bill(
    rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    me = f"o-bind-{uuid.uuid4().hex[:8]}"

    [guided] = say(rasa, me, "这个月物业费多少")
    assert "请先绑定房屋" in guided

    assert "比如“3栋2单元501”" in say(rasa, me, "我要绑定房屋")[0]
    assert "您是这套房子的" in say(rasa, me, "2栋1单元202")[0]
    assert "手机号的后四位" in say(rasa, me, "我是租户")[0]
    assert say(rasa, me, "0002") == [
        "绑定成功：2栋1单元202（租户）。现在可以查账单、报修和预约场地了。"
    ]

    fee = stack_system.bills.statement(me, bill_type="物业费").lines[0]
    [bill] = say(rasa, me, "这个月物业费多少")
    assert "2栋1单元202" in bill and yuan(fee.amount) in bill


def test_a_resident_who_names_everything_at_once_is_only_asked_what_is_missing(
    rasa: httpx.Client,
) -> None:
    me = f"o-bind-{uuid.uuid4().hex[:8]}"

    assert "您是这套房子的" in say(rasa, me, "绑定3-2-301")[0]
    assert "手机号的后四位" in say(rasa, me, "家属")[0]


def test_a_wrong_phone_binds_nothing(rasa: httpx.Client, stack_system: LocalPropertySystem) -> None:
    me = f"o-bind-{uuid.uuid4().hex[:8]}"
    say(rasa, me, "绑定1栋1单元101")
    say(rasa, me, "业主")

    assert say(rasa, me, "9999") == ["手机号后四位与1栋1单元101登记的不一致，还可以再试4次。"]
    resident = stack_system.residents.by_openid(me)
    assert resident is not None and resident.houses == ()
