"""Every public interop vector in ../shared/wechat/vectors.json, through our protocol code."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from integrations.wechat import signing
from integrations.wechat.errors import BadSignature, StaleRequest, WrongReceiver
from integrations.wechat.official_account import OfficialAccount
from integrations.wechat.wecom import WeComApp
from integrations.wechat.xml import parse_fields
from tests.wechat.vectors import OA, VECTORS, WECOM


def fixed_random(value: str) -> Callable[[object], str]:
    """wechatpy's cipher with the vector's 16 random bytes instead of fresh ones."""
    return lambda _self: value


def test_every_vector_group_is_covered() -> None:
    assert set(VECTORS) - {"_note"} == {
        *WECOM,
        "official_account_tencent_java_sample_pamtest",
        "plain_mode_signature",
    }


@pytest.mark.parametrize("vector", VECTORS["plain_mode_signature"], ids=lambda v: v["source"][:40])
def test_plain_mode_signatures(vector: dict[str, str]) -> None:
    assert (
        signing.sign(vector["token"], vector["timestamp"], vector["nonce"]) == vector["signature"]
    )


def test_plain_mode_server_verification_echoes_echostr() -> None:
    vector = VECTORS["plain_mode_signature"][0]
    account = OfficialAccount(
        vector["token"], "wx-any", None, clock=lambda: float(vector["timestamp"])
    )
    query = {k: vector[k] for k in ("signature", "timestamp", "nonce", "echostr")}

    assert account.verify_url(query) == vector["echostr"]
    with pytest.raises(BadSignature):
        account.verify_url({**query, "signature": "0" * 40})
    with pytest.raises(StaleRequest):
        OfficialAccount(vector["token"], "wx-any", None).verify_url(query)


def test_official_account_decrypts_the_tencent_sample() -> None:
    key = WeChatCrypto(OA["token"], OA["encoding_aes_key"], OA["app_id"]).key
    crypto = PrpCrypto(key)

    assert crypto.decrypt(OA["cipher1"], OA["app_id"]) == OA["plain1"]
    assert crypto.decrypt(OA["cipher2"], OA["app_id"]) == OA["plain2"]


def test_official_account_encrypts_like_the_tencent_sample(monkeypatch) -> None:
    monkeypatch.setattr(PrpCrypto, "get_random_string", fixed_random(OA["random16"]))
    key = WeChatCrypto(OA["token"], OA["encoding_aes_key"], OA["app_id"]).key

    assert PrpCrypto(key).encrypt(OA["plain1"], OA["app_id"]).decode() == OA["cipher1"]


def test_a_safe_mode_message_is_opened_with_msg_signature() -> None:
    account = OfficialAccount(
        OA["token"], OA["app_id"], OA["encoding_aes_key"], clock=lambda: float(OA["timestamp"])
    )
    query = {
        "timestamp": OA["timestamp"],
        "nonce": OA["nonce"],
        "encrypt_type": "aes",
        "signature": signing.sign(OA["token"], OA["timestamp"], OA["nonce"]),
        "msg_signature": OA["derived_msg_signature_for_cipher2"],
    }
    envelope = f"<xml><ToUserName>x</ToUserName><Encrypt>{OA['cipher2']}</Encrypt></xml>"

    fields, encrypted = account.open(query, envelope.encode())

    assert encrypted
    assert fields == parse_fields(OA["plain2"])
    assert fields["ToUserName"] == "oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw"
    with pytest.raises(BadSignature):
        account.open(
            {**query, "msg_signature": OA["derived_msg_signature_for_cipher2"][::-1]},
            envelope.encode(),
        )
    other_app = OfficialAccount(
        OA["token"],
        "wx0000000000000000",
        OA["encoding_aes_key"],
        clock=lambda: float(OA["timestamp"]),
    )
    with pytest.raises(WrongReceiver):
        other_app.open(query, envelope.encode())


@pytest.mark.parametrize("name", WECOM)
def test_wecom_url_verification(name: str) -> None:
    vector = VECTORS[name]
    verify = vector["verify_url"]
    app = WeComApp(
        vector["token"],
        vector["encoding_aes_key"],
        vector["receive_id"],
        clock=lambda: float(verify["timestamp"]),
    )

    assert app.verify_url(verify) == verify["expected_plain"]


@pytest.mark.parametrize("name", WECOM)
def test_wecom_messages_decrypt(name: str) -> None:
    vector = VECTORS[name]
    sample = vector["decrypt"]
    app = WeComApp(
        vector["token"],
        vector["encoding_aes_key"],
        vector["receive_id"],
        clock=lambda: float(sample["timestamp"]),
    )
    envelope = f"<xml><Encrypt><![CDATA[{sample['encrypt']}]]></Encrypt></xml>"

    fields, incoming = app.open(sample, envelope.encode())

    if "expected_plain" in sample:
        assert fields == parse_fields(sample["expected_plain"])
    else:
        assert fields["Content"] == sample["expected_Content"]
        assert fields["FromUserName"] == sample["expected_FromUserName"]
    assert incoming.kind == "text" and incoming.text == fields["Content"]
    assert incoming.channel == "wecom-app"


def test_wecom_encrypts_like_wechatpys_test_vector(monkeypatch) -> None:
    vector = VECTORS["wecom_wechatpy_tests_test_crypto_py"]
    expected = vector["encrypt_deterministic"]
    from wechatpy.work.crypto import PrpCrypto as WorkPrpCrypto

    monkeypatch.setattr(WorkPrpCrypto, "get_random_string", fixed_random(expected["random16"]))
    crypto = WeChatCrypto(vector["token"], vector["encoding_aes_key"], vector["receive_id"])

    encrypted = (
        WorkPrpCrypto(crypto.key)
        .encrypt(expected["plaintext_reply_xml"], vector["receive_id"])
        .decode()
    )

    assert encrypted == expected["expected_encrypt"]
    assert (
        signing.sign(vector["token"], expected["timestamp"], expected["nonce"], encrypted)
        == expected["expected_msg_signature"]
    )
