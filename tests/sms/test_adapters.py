"""The SMS adapters against local servers that check signatures as the providers do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from integrations.sms import SmsError
from integrations.sms.aliyun import AliyunSms
from integrations.sms.tencent import TencentCloudSms
from tests.sms.fake_server import (
    ALIYUN_KEY_ID,
    ALIYUN_KEY_SECRET,
    SIGN_NAME,
    TEMPLATE,
    TENCENT_APP_ID,
    TENCENT_SECRET_ID,
    TENCENT_SECRET_KEY,
    FakeAliyunSms,
    FakeTencentSms,
    running,
)


@pytest.fixture(scope="module")
def tencent_fake() -> Iterator[FakeTencentSms]:
    with running(FakeTencentSms()) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture(scope="module")
def aliyun_fake() -> Iterator[FakeAliyunSms]:
    with running(FakeAliyunSms()) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def tencent(tencent_fake: FakeTencentSms) -> TencentCloudSms:
    tencent_fake.reset()
    return TencentCloudSms(
        secret_id=TENCENT_SECRET_ID,
        secret_key=TENCENT_SECRET_KEY,
        sdk_app_id=TENCENT_APP_ID,
        sign_name=SIGN_NAME,
        template_id=TEMPLATE,
        base_url=tencent_fake.url,
    )


@pytest.fixture
def aliyun(aliyun_fake: FakeAliyunSms) -> AliyunSms:
    aliyun_fake.reset()
    return AliyunSms(
        access_key_id=ALIYUN_KEY_ID,
        access_key_secret=ALIYUN_KEY_SECRET,
        sign_name=SIGN_NAME,
        template_code=TEMPLATE,
        base_url=aliyun_fake.url,
    )


def test_tencent_delivers_a_signed_code(
    tencent: TencentCloudSms, tencent_fake: FakeTencentSms
) -> None:
    tencent.send_code("13800000001", "123456")
    tencent.send_code("+86 138-0000-0002", "654321")

    assert tencent_fake.codes_to("13800000001") == ["123456"]
    assert tencent_fake.codes_to("13800000002") == ["654321"]
    assert tencent_fake.refused == []


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"secret_key": "not-the-key"}, "AuthFailure.SignatureFailure"),
        ({"secret_id": "AKIDsomeoneelse"}, "AuthFailure.SecretIdNotFound"),
        ({"sdk_app_id": "1400000000"}, "FailedOperation.SmsSdkAppIdVerifyFail"),
        ({"template_id": "999"}, "FailedOperation.SignatureIncorrectOrUnapproved"),
    ],
)
def test_tencent_refusals_are_errors_with_the_providers_code(
    tencent: TencentCloudSms, tencent_fake: FakeTencentSms, change: dict[str, str], error: str
) -> None:
    with pytest.raises(SmsError) as refused:
        replace(tencent, **change).send_code("13800000001", "123456")

    assert refused.value.code == error
    assert tencent_fake.delivered == []


def test_tencent_a_per_number_refusal_is_an_error(
    tencent: TencentCloudSms, tencent_fake: FakeTencentSms
) -> None:
    tencent_fake.fail_next.append("LimitExceeded.PhoneNumberDailyLimit")

    with pytest.raises(SmsError, match=r"LimitExceeded\.PhoneNumberDailyLimit"):
        tencent.send_code("13800000001", "123456")
    assert tencent_fake.delivered == []


def test_aliyun_delivers_a_signed_code(aliyun: AliyunSms, aliyun_fake: FakeAliyunSms) -> None:
    aliyun.send_code("13800000001", "123456")
    aliyun.send_code("13800000001", "222333")  # a fresh nonce each time

    assert aliyun_fake.codes_to("13800000001") == ["123456", "222333"]
    assert aliyun_fake.refused == []


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"access_key_secret": "not-the-secret"}, "SignatureDoesNotMatch"),
        ({"access_key_id": "LTAIsomeoneelse"}, "InvalidAccessKeyId.NotFound"),
        ({"sign_name": "别的签名"}, "isv.SMS_SIGNATURE_ILLEGAL"),
        ({"template_code": "SMS_0"}, "isv.SMS_TEMPLATE_ILLEGAL"),
    ],
)
def test_aliyun_refusals_are_errors_with_the_providers_code(
    aliyun: AliyunSms, aliyun_fake: FakeAliyunSms, change: dict[str, str], error: str
) -> None:
    with pytest.raises(SmsError) as refused:
        replace(aliyun, **change).send_code("13800000001", "123456")

    assert refused.value.code == error
    assert aliyun_fake.delivered == []


def test_aliyun_a_flow_control_refusal_is_an_error(
    aliyun: AliyunSms, aliyun_fake: FakeAliyunSms
) -> None:
    aliyun_fake.fail_next.append("isv.BUSINESS_LIMIT_CONTROL")

    with pytest.raises(SmsError, match=r"isv\.BUSINESS_LIMIT_CONTROL"):
        aliyun.send_code("13800000001", "123456")
    assert aliyun_fake.delivered == []


def test_nothing_listening_is_an_error_not_a_crash(tencent: TencentCloudSms) -> None:
    with pytest.raises(SmsError, match="HttpError"):
        replace(tencent, base_url="http://127.0.0.1:9").send_code("13800000001", "123456")
