"""House binding attacks (issue 14, items 1-3): a one-digit suffix, unlimited guesses, a reset
by binding one's own room, the role chosen freely; and the SMS code's rules. Each runs on
SQLite and PostgreSQL, the SMS codes going to a local server speaking Tencent Cloud's API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.settings import Settings
from app.startup_checks import unsafe_settings
from integrations.property import LocalPropertySystem
from integrations.property.interface import BindingRequestInfo, House, PropertyError
from integrations.property.models import BindAttempt, BindSmsCode, Resident, Room
from integrations.property.services.residents import BindingPolicy
from integrations.sms.tencent import TencentCloudSms
from tests.sms.fake_server import (
    SIGN_NAME,
    TEMPLATE,
    TENCENT_APP_ID,
    TENCENT_SECRET_ID,
    TENCENT_SECRET_KEY,
    FakeTencentSms,
    running,
)

ROOM_202 = {"building": "2", "unit": "1", "room": "202"}  # registered phone 13800000002
ROOM_101 = {"building": "1", "unit": "1", "room": "101"}  # registered phone 13800000001


def houses(system: LocalPropertySystem, openid: str) -> list[str]:
    resident = system.residents.by_openid(openid)
    return [] if resident is None else [h.label for h in resident.houses]


def failures_recorded(system: LocalPropertySystem, openid: str) -> int:
    with Session(system.engine) as session:
        return len(
            session.scalars(
                select(BindAttempt)
                .join(Resident, Resident.id == BindAttempt.resident_id)
                .where(Resident.wechat_openid == openid, BindAttempt.succeeded.is_(False))
            ).all()
        )


def guess(system: LocalPropertySystem, openid: str, digits: str, room: dict[str, str]) -> str:
    with pytest.raises(PropertyError) as refused:
        system.residents.bind(openid, **room, phone_last4=digits, role="family")
    return refused.value.message


def age_attempts(system: LocalPropertySystem, by: timedelta) -> None:
    """Move every recorded attempt, lock and code `by` into the past."""
    with Session(system.engine) as session, session.begin():
        for attempt in session.scalars(select(BindAttempt)):
            attempt.at -= by
        for resident in session.scalars(select(Resident)):
            if resident.bind_locked_until is not None:
                resident.bind_locked_until -= by
        for code in session.scalars(select(BindSmsCode)):
            code.created_at -= by
            code.expires_at -= by


@pytest.mark.parametrize("digits", ["2", "02", "002", "00002", "０００２", " 0002", "000２"])
def test_a_suffix_that_is_not_exactly_four_digits_is_refused_and_counted(
    system: LocalPropertySystem, digits: str
) -> None:
    message = guess(system, "o-suffix", digits, ROOM_202)

    assert message == "手机号后四位与2栋1单元202登记的不一致，还可以再试4次。"
    assert houses(system, "o-suffix") == []
    assert failures_recorded(system, "o-suffix") == 1


def test_binding_ones_own_room_does_not_reset_guesses_at_another(
    system: LocalPropertySystem,
) -> None:
    for left in (4, 3, 2, 1):
        assert guess(system, "o-neighbour", "9999", ROOM_202).endswith(f"还可以再试{left}次。")
    system.residents.bind("o-neighbour", **ROOM_101, phone_last4="0001", role="family")

    locked = guess(system, "o-neighbour", "9998", ROOM_202)

    assert "验证失败次数过多，请30分钟后再试" in locked and "申请人工审核" in locked
    assert guess(system, "o-neighbour", "0002", ROOM_202) == locked  # even the right digits
    assert houses(system, "o-neighbour") == ["1栋1单元101"]


def test_a_rooms_own_failures_are_forgotten_once_that_room_is_bound(
    system: LocalPropertySystem,
) -> None:
    guess(system, "o-fumbler", "1234", ROOM_101)
    guess(system, "o-fumbler", "4321", ROOM_101)
    system.residents.bind("o-fumbler", **ROOM_101, phone_last4="0001", role="family")

    assert guess(system, "o-fumbler", "9999", ROOM_202).endswith("还可以再试4次。")


def test_a_resident_locked_out_may_try_again_after_half_an_hour(
    system: LocalPropertySystem,
) -> None:
    for _ in range(5):
        last = guess(system, "o-locked", "9999", ROOM_202)
    assert "30分钟后再试" in last
    age_attempts(system, timedelta(minutes=31))

    house = system.residents.bind("o-locked", **ROOM_202, phone_last4="0002", role="family")

    assert isinstance(house, House) and house.label == "2栋1单元202"


def test_many_accounts_guessing_one_room_lock_it_until_the_next_day(
    system: LocalPropertySystem,
) -> None:
    for account in range(5):  # two guesses each: no account reaches its own limit
        guess(system, f"o-ring-{account}", "1111", ROOM_202)
        guess(system, f"o-ring-{account}", "2222", ROOM_202)

    locked = guess(system, "o-owner-friend", "0002", ROOM_202)  # the right digits, too late

    assert locked.startswith("2栋1单元202今天用手机号后四位验证失败的次数过多")
    assert "带证件到物业服务中心" in locked and "申请人工审核" in locked
    assert houses(system, "o-owner-friend") == []
    assert failures_recorded(system, "o-owner-friend") == 0  # refused before checking
    assert system.residents.proof_for("o-owner-friend", **ROOM_202).proof == "review"
    # another room is not affected
    system.residents.bind("o-owner-friend", **ROOM_101, phone_last4="0001", role="family")

    age_attempts(system, timedelta(days=1))
    system.residents.bind("o-owner-friend", **ROOM_202, phone_last4="0002", role="family")
    assert sorted(houses(system, "o-owner-friend")) == ["1栋1单元101", "2栋1单元202"]


def test_guesses_arriving_together_count_one_after_another_against_the_room(
    system: LocalPropertySystem,
) -> None:
    """Twenty accounts guess at the same moment: no more than the room's ten are checked."""
    start = threading.Barrier(20)

    def one_guess(account: int) -> str:
        start.wait()
        return guess(system, f"o-swarm-{account}", f"{1000 + account}", ROOM_202)

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(one_guess, range(20)))

    checked = sum(failures_recorded(system, f"o-swarm-{account}") for account in range(20))
    assert checked == 10
    assert sum("今天用手机号后四位验证失败的次数过多" in answer for answer in answers) >= 10


def test_an_owner_claim_by_the_last_four_digits_waits_for_staff_review(
    system: LocalPropertySystem,
) -> None:
    outcome = system.residents.bind("o-claims-owner", **ROOM_202, phone_last4="0002", role="owner")

    assert isinstance(outcome, BindingRequestInfo)
    assert (outcome.status, outcome.house, outcome.role) == ("pending", "2栋1单元202", "owner")
    assert outcome.verified_by == "phone_last4"
    assert houses(system, "o-claims-owner") == []
    with pytest.raises(PropertyError, match="正在审核中"):  # asking again files nothing new
        system.residents.bind("o-claims-owner", **ROOM_202, phone_last4="0002", role="owner")
    assert [r.id for r in system.residents.binding_requests("pending")] == [outcome.id]


def test_without_review_the_company_lets_the_digits_bind_an_owner(
    system: LocalPropertySystem,
) -> None:
    system.residents.policy = BindingPolicy.parse("phone_last4")

    house = system.residents.bind("o-owner", **ROOM_202, phone_last4="0002", role="owner")

    assert isinstance(house, House) and house.role == "owner"


def test_a_proof_the_company_does_not_accept_is_refused(system: LocalPropertySystem) -> None:
    system.residents.policy = BindingPolicy.parse("review")

    with pytest.raises(PropertyError, match="暂未开放这种验证方式"):
        system.residents.bind("o-x", **ROOM_202, phone_last4="0002", role="family")
    assert houses(system, "o-x") == []
    assert system.residents.proof_for("o-x", **ROOM_202).proof == "review"


# --- SMS codes -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sms_fake() -> Iterator[FakeTencentSms]:
    with running(FakeTencentSms()) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def sms(system: LocalPropertySystem, sms_fake: FakeTencentSms) -> FakeTencentSms:
    sms_fake.reset()
    sender = TencentCloudSms(
        secret_id=TENCENT_SECRET_ID,
        secret_key=TENCENT_SECRET_KEY,
        sdk_app_id=TENCENT_APP_ID,
        sign_name=SIGN_NAME,
        template_id=TEMPLATE,
        base_url=sms_fake.url,
    )
    system.residents.policy = BindingPolicy.parse("sms,review", sender)
    return sms_fake


def test_an_sms_code_binds_any_role_and_is_kept_only_hashed(
    system: LocalPropertySystem, sms: FakeTencentSms
) -> None:
    assert system.residents.proof_for("o-sms", **ROOM_202).masked_phone == "138****0002"
    assert system.residents.send_bind_code("o-sms", **ROOM_202) == "138****0002"
    [code] = sms.codes_to("13800000002")
    assert len(code) == 6 and code.isdigit()
    with Session(system.engine) as session:
        [stored] = session.scalars(select(BindSmsCode.code_hash)).all()
    assert code not in stored

    house = system.residents.bind("o-sms", **ROOM_202, sms_code=code, role="owner")

    assert isinstance(house, House) and (house.label, house.role) == ("2栋1单元202", "owner")
    with pytest.raises(PropertyError):  # a code works once
        system.residents.bind("o-sms-2", **ROOM_202, sms_code=code, role="owner")


def test_asking_again_while_a_code_is_good_sends_no_second_one(
    system: LocalPropertySystem, sms: FakeTencentSms
) -> None:
    system.residents.send_bind_code("o-sms", **ROOM_202)
    system.residents.send_bind_code("o-sms", **ROOM_202)

    assert len(sms.codes_to("13800000002")) == 1


def test_an_expired_code_binds_nothing(system: LocalPropertySystem, sms: FakeTencentSms) -> None:
    system.residents.send_bind_code("o-slow", **ROOM_202)
    [code] = sms.codes_to("13800000002")
    age_attempts(system, timedelta(minutes=5, seconds=1))

    with pytest.raises(PropertyError, match="验证码不正确或已失效"):
        system.residents.bind("o-slow", **ROOM_202, sms_code=code, role="owner")
    assert houses(system, "o-slow") == []


def test_five_wrong_codes_void_the_code(system: LocalPropertySystem, sms: FakeTencentSms) -> None:
    system.residents.send_bind_code("o-brute", **ROOM_202)
    [code] = sms.codes_to("13800000002")
    wrong = "000000" if code != "000000" else "111111"
    messages = []
    for _ in range(5):
        with pytest.raises(PropertyError) as refused:
            system.residents.bind("o-brute", **ROOM_202, sms_code=wrong, role="owner")
        messages.append(refused.value.message)

    assert messages[0].startswith("验证码不正确或已失效，还可以再试4次")
    assert "30分钟后再试" in messages[-1]
    age_attempts(system, timedelta(minutes=31))  # the lock is over, the code stays void
    with pytest.raises(PropertyError, match="验证码不正确或已失效"):
        system.residents.bind("o-brute", **ROOM_202, sms_code=code, role="owner")
    assert houses(system, "o-brute") == []


def test_one_code_a_minute_per_resident_and_a_daily_cap_per_room(
    system: LocalPropertySystem, sms: FakeTencentSms
) -> None:
    system.residents.send_bind_code("o-spam", **ROOM_202)
    with pytest.raises(PropertyError, match="1分钟后再试"):
        system.residents.send_bind_code("o-spam", **ROOM_101)  # another room, same minute

    for account in range(4):  # five codes to the room today, from five accounts
        system.residents.send_bind_code(f"o-spam-{account}", **ROOM_202)
    with pytest.raises(PropertyError, match="今天获取验证码的次数已达上限"):
        system.residents.send_bind_code("o-spam-5", **ROOM_202)

    assert len(sms.codes_to("13800000002")) == 5
    assert system.residents.proof_for("o-spam-5", **ROOM_202).proof == "review"


def test_a_code_the_provider_refused_is_void_and_the_resident_told(
    system: LocalPropertySystem, sms: FakeTencentSms
) -> None:
    sms.fail_next.append("LimitExceeded.PhoneNumberDailyLimit")

    with pytest.raises(PropertyError, match="验证码短信发送失败"):
        system.residents.send_bind_code("o-unlucky", **ROOM_202)
    with Session(system.engine) as session:
        assert session.scalars(select(BindSmsCode.voided)).all() == [True]


def test_a_room_without_a_registered_phone_falls_back_to_review(
    system: LocalPropertySystem,
) -> None:
    with Session(system.engine) as session, session.begin():
        room = session.scalars(select(Room).where(Room.number == "202")).all()
        for each in room:
            each.registered_phone = ""

    assert system.residents.proof_for("o-new", **ROOM_202).proof == "review"
    with pytest.raises(PropertyError):  # no digits can match an empty phone
        system.residents.bind("o-new", **ROOM_202, phone_last4="0000", role="family")
    system.residents.policy = BindingPolicy.parse("phone_last4")
    with pytest.raises(PropertyError, match="暂时无法在线绑定"):
        system.residents.proof_for("o-new", **ROOM_202)


def test_production_refuses_sms_binding_without_a_providers_credentials() -> None:
    base = {
        "app_env": "production",
        "secret_key": "k" * 40,
        "binding_proofs": "sms,review",
    }
    missing = " ".join(unsafe_settings(Settings(**base)))
    tencent = " ".join(
        unsafe_settings(
            Settings(
                **base,
                sms_provider="tencent",
                tencent_sms_secret_id="AKID",
                tencent_sms_secret_key="k",
            )
        )
    )
    unknown = " ".join(unsafe_settings(Settings(**{**base, "binding_proofs": "phone_last4,guess"})))
    complete = Settings(
        **base,
        sms_provider="aliyun",
        aliyun_sms_access_key_id="LTAI",
        aliyun_sms_access_key_secret="s",
        aliyun_sms_sign_name="幸福家园物业",
        aliyun_sms_template_code="SMS_1",
    )

    assert "BINDING_PROOFS includes sms but these are not set: SMS_PROVIDER" in missing
    assert "TENCENT_SMS_SDK_APP_ID" in tencent and "TENCENT_SMS_SECRET_KEY" not in tencent
    assert "BINDING_PROOFS" in unknown and "guess" in unknown
    assert not [p for p in unsafe_settings(complete) if "BINDING_PROOFS" in p]
    assert not [
        p
        for p in unsafe_settings(Settings(**{**base, "binding_proofs": "phone_last4,review"}))
        if "BINDING_PROOFS" in p
    ]
