"""Binding a WeChat identity to a house, through the real Rasa server and the database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.formatting import yuan
from app.conversations.models import OutboundMessage
from integrations.property import LocalPropertySystem
from scripts.stack import RunningStack
from tests.integration.conftest import say
from tests.sms.fake_server import FakeTencentSms, running, tencent_settings


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


def told(system: LocalPropertySystem, openid: str) -> list[str]:
    """What the outbox holds for this resident (pushed to WeChat, or waiting to be)."""
    with Session(system.engine) as session:
        return list(
            session.scalars(
                select(OutboundMessage.text)
                .where(OutboundMessage.recipient == openid)
                .order_by(OutboundMessage.id)
            )
        )


def test_an_owner_claim_by_the_digits_waits_for_staff_who_approve_it(
    rasa: httpx.Client, staff: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    me = f"o-bind-{uuid.uuid4().hex[:8]}"
    say(rasa, me, "绑定1栋1单元101")
    say(rasa, me, "业主")

    [filed] = say(rasa, me, "0001")
    assert filed.startswith("手机号后四位核对无误。业主身份需要物业审核，已提交房屋绑定申请")
    assert "1栋1单元101（业主）" in filed and "审核中" in filed
    assert stack_system.residents.by_openid(me).houses == ()

    say(rasa, me, "绑定1栋1单元101")
    say(rasa, me, "业主")
    assert say(rasa, me, "0001") == [
        "您绑定1栋1单元101的申请正在审核中，物业工作人员审核后会通知您，请耐心等待。"
    ]
    pending = [
        r
        for r in staff.get("/api/bindings", params={"status": "pending"}).json()
        if r["resident_openid"] == me
    ]
    assert [(r["house"], r["role"], r["verified_by"]) for r in pending] == [
        ("1栋1单元101", "owner", "phone_last4")
    ]

    approved = staff.post(f"/api/bindings/{pending[0]['id']}/approve")

    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert told(stack_system, me) == [
        "您的房屋绑定申请已通过：1栋1单元101（业主）。现在可以查账单、报修和预约场地了。"
    ]
    [bill] = say(rasa, me, "这个月物业费多少")
    assert "1栋1单元101" in bill


def test_a_digit_that_is_not_four_is_asked_again_not_checked(
    rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    me = f"o-bind-{uuid.uuid4().hex[:8]}"
    say(rasa, me, "绑定2栋1单元202")
    say(rasa, me, "租户")

    assert say(rasa, me, "2") == [
        "请回复4位数字，也就是登记手机号的最后四位。",
        "为了确认身份，请回复这套房屋在物业登记的手机号的后四位。",
    ]
    assert say(rasa, me, "0002") == [
        "绑定成功：2栋1单元202（租户）。现在可以查账单、报修和预约场地了。"
    ]


@pytest.fixture(scope="module")
def sms_fake() -> Iterator[FakeTencentSms]:
    with running(FakeTencentSms()) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture(scope="module")
def sms_stack(
    tmp_path_factory: pytest.TempPathFactory, stack: RunningStack, sms_fake: FakeTencentSms
) -> Iterator[RunningStack]:
    """A second stack whose company accepts SMS codes first (Tencent Cloud, a local fake)."""
    var = tmp_path_factory.mktemp("sms-stack")
    own = {"RASA_TOKEN", "ACTION_ENDPOINT_TOKEN"}  # this stack's, made by RunningStack
    env = {
        **{name: value for name, value in stack.env.items() if name not in own},
        "VAR_DIR": str(var),
        "BINDING_PROOFS": "sms,review",
        **tencent_settings(sms_fake),
    }
    running_stack = RunningStack(env=env, log=var / "stack.log")
    running_stack.start()
    yield running_stack
    running_stack.interrupt()
    assert running_stack.leftovers == []


def test_a_resident_binds_as_owner_with_the_code_texted_to_the_registered_phone(
    sms_stack: RunningStack, sms_fake: FakeTencentSms, stack_system: LocalPropertySystem
) -> None:
    me = f"o-bind-{uuid.uuid4().hex[:8]}"
    with sms_stack.rasa_client(timeout=30) as rasa:
        assert "您是这套房子的" in say(rasa, me, "绑定2栋1单元202")[0]
        assert say(rasa, me, "业主") == [
            "验证码已发送到这套房屋登记的手机138****0002，请回复短信里的6位数字（5分钟内有效）。"
        ]
        [code] = sms_fake.codes_to("13800000002")
        wrong = "000000" if code != "000000" else "111111"
        assert say(rasa, me, wrong)[0].startswith("验证码不正确或已失效，还可以再试4次")

        say(rasa, me, "绑定2栋1单元202")
        assert "请回复短信里的6位数字" in say(rasa, me, "业主")[0]  # the same code, not resent
        assert say(rasa, me, f"验证码{code}") == [
            "绑定成功：2栋1单元202（业主）。现在可以查账单、报修和预约场地了。"
        ]
    assert sms_fake.codes_to("13800000002") == [code]
    houses = stack_system.residents.by_openid(me).houses
    assert [(h.label, h.role) for h in houses] == [("2栋1单元202", "owner")]
