"""Attacks on the WeChat callbacks (issue 14, items 4 and the WeChat parts of 6), each as a
request against the real app: PostgreSQL or SQLite for the message log, Redis for the nonce
memory, keys and samples of the public Tencent vectors. A refused request leaves no row in
the message log — the log is written before anything reaches Rasa or the property system."""

from __future__ import annotations

import base64
import json
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.work.crypto import PrpCrypto as WorkPrpCrypto

from app import deps
from app.conversations.models import InboundMessage
from app.conversations.router import RASA_BUSY, WELCOME
from app.settings import get_settings
from integrations.property.db import make_engine
from integrations.wechat.signing import sign
from integrations.wechat.xml import parse_fields
from tests.integration.wechat_peer import APP, BOT, OFFICIAL_ACCOUNT_ID, message_xml
from tests.services import redis_url
from tests.wechat.vectors import OA

OA_KEY = WeChatCrypto(OA["token"], OA["encoding_aes_key"], OA["app_id"]).key
APP_KEY = WeChatCrypto(APP["token"], APP["encoding_aes_key"], APP["receive_id"]).key
BOT_KEY = WeChatCrypto(BOT["token"], BOT["encoding_aes_key"], "").key
SECRETS = (OA["token"], OA["encoding_aes_key"], APP["encoding_aes_key"], BOT["encoding_aes_key"])
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    "<xml><Encrypt>&lol2;</Encrypt></xml>"
)

Build = Callable[..., TestClient]


def _clear_caches() -> None:
    get_settings.cache_clear()
    deps.local_property_system.cache_clear()
    deps.redis_client.cache_clear()


@pytest.fixture
def build_app(monkeypatch: pytest.MonkeyPatch, tmp_path, database_url: str) -> Iterator[Build]:
    """Started apps (lifespan run) on one message log and one Redis: each call is a worker."""
    env = {
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url(),
        "RASA_URL": "http://127.0.0.1:9",  # nothing listens on the discard port
        "RECOVERY_INTERVAL_SECONDS": "3600",
        "WECHAT_TOKEN": OA["token"],
        "WECHAT_APP_ID": OA["app_id"],
        "WECOM_BOT_TOKEN": BOT["token"],
        "WECOM_BOT_ENCODING_AES_KEY": BOT["encoding_aes_key"],
        "WECOM_CORP_ID": APP["receive_id"],
        "WECOM_APP_TOKEN": APP["token"],
        "WECOM_APP_ENCODING_AES_KEY": APP["encoding_aes_key"],
    }
    for name in [n for n in os.environ if n.startswith(("WECHAT_", "WECOM_"))]:
        monkeypatch.delenv(name)
    with ExitStack() as apps:

        def build(aes_key: bool = True) -> TestClient:
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            if aes_key:
                monkeypatch.setenv("WECHAT_ENCODING_AES_KEY", OA["encoding_aes_key"])
            else:
                monkeypatch.delenv("WECHAT_ENCODING_AES_KEY", raising=False)
            _clear_caches()
            from app.main import create_app

            return apps.enter_context(TestClient(create_app(), raise_server_exceptions=False))

        yield build
    monkeypatch.undo()
    _clear_caches()


@pytest.fixture
def app(build_app: Build) -> TestClient:
    return build_app()


def rows(database_url: str, sender: str) -> list[InboundMessage]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            query = select(InboundMessage).where(InboundMessage.sender == sender)
            return list(session.scalars(query.order_by(InboundMessage.id)))
    finally:
        engine.dispose()


def openid(label: str) -> str:
    return f"o-{label}-{random.randrange(10**8)}"


def message(sender: str, msg_type: str = "text", **extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ToUserName": OFFICIAL_ACCOUNT_ID,
        "FromUserName": sender,
        "CreateTime": int(time.time()),
        "MsgType": msg_type,
    }
    if msg_type == "text":
        fields["MsgId"] = random.randrange(10**12, 10**13)
    return {**fields, **extra}


def signed(token: str = OA["token"], **parts: str) -> dict[str, str]:
    """The query of one callback as WeChat signs it (plain `signature`)."""
    query = {"timestamp": str(int(time.time())), "nonce": str(random.randrange(10**9)), **parts}
    query["signature"] = sign(token, query["timestamp"], query["nonce"])
    return query


def safe_mode(
    fields: dict[str, Any], query: dict[str, str] | None = None, *, app_id: str = OA["app_id"]
) -> tuple[dict[str, str], bytes]:
    """A safe-mode callback: encrypted afresh (a new random prefix) each call, as WeChat does."""
    query = query or signed()
    encrypted = PrpCrypto(OA_KEY).encrypt(message_xml(fields), app_id).decode()
    return with_ciphertext(query, encrypted)


def with_ciphertext(query: dict[str, str], encrypted: str) -> tuple[dict[str, str], bytes]:
    params = {
        **query,
        "encrypt_type": "aes",
        "msg_signature": sign(OA["token"], query["timestamp"], query["nonce"], encrypted),
    }
    body = (
        f"<xml><ToUserName>{OFFICIAL_ACCOUNT_ID}</ToUserName><Encrypt>{encrypted}</Encrypt></xml>"
    )
    return params, body.encode()


def post_oa(app: TestClient, params: dict[str, str], body: bytes) -> Response:
    return app.post("/wechat/oa", params=params, content=body)


def reply_content(response: Response) -> str:
    assert response.status_code == 200, response.text
    fields = parse_fields(response.content)
    if "Encrypt" in fields:
        fields = parse_fields(PrpCrypto(OA_KEY).decrypt(fields["Encrypt"], OA["app_id"]))
    return fields["Content"]


def refused(response: Response, status: int, reason: str) -> None:
    assert response.status_code == status, response.text
    assert response.text.startswith(f"{reason}: ")  # the reason, then a short Chinese line
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.text)


# 1. Plain-mode downgrade -----------------------------------------------------------------


def test_with_an_aes_key_a_plain_mode_callback_is_refused_for_anyone(
    app: TestClient, database_url: str
) -> None:
    victim = openid("victim")
    observed = signed()  # copied from one callback URL seen in a log or a proxy
    genuine_params, genuine_body = safe_mode(message(openid("genuine")), observed)
    assert post_oa(app, genuine_params, genuine_body).status_code == 200

    for attempt in range(3):  # "again and again"
        forged = message_xml(message(victim, Content=f"取消报修 {attempt}"))
        refused(post_oa(app, observed, forged.encode()), 403, "plain_mode_refused")
        fresh = message_xml(message(victim, Content="我家欠费多少"))
        refused(post_oa(app, signed(), fresh.encode()), 403, "plain_mode_refused")
    assert rows(database_url, victim) == []


def test_compatible_mode_is_read_from_the_ciphertext_not_the_plaintext_beside_it(
    app: TestClient, database_url: str
) -> None:
    resident, victim = openid("resident"), openid("victim")
    encrypted = PrpCrypto(OA_KEY).encrypt(
        message_xml(message(resident, Content="你好")), OA["app_id"]
    )
    params, _ = with_ciphertext(signed(), encrypted.decode())
    beside = {**message(victim, Content="我家欠费多少"), "Encrypt": encrypted.decode()}

    assert post_oa(app, params, message_xml(beside).encode()).status_code == 200

    assert rows(database_url, victim) == []
    assert [row.text for row in rows(database_url, resident)] == ["你好"]


def test_without_an_aes_key_plain_mode_is_served(build_app: Build, database_url: str) -> None:
    app = build_app(aes_key=False)
    newcomer = openid("newcomer")

    welcome = post_oa(
        app, signed(), message_xml(message(newcomer, "event", Event="subscribe")).encode()
    )

    assert reply_content(welcome) == WELCOME
    assert len(rows(database_url, newcomer)) == 1


# 2. Replay of a signed (timestamp, nonce) -----------------------------------------------


def test_a_copied_plain_mode_url_carries_no_second_message_on_any_worker(
    build_app: Build, database_url: str
) -> None:
    first_worker, second_worker = build_app(aes_key=False), build_app(aes_key=False)
    newcomer, victim = openid("newcomer"), openid("victim")
    observed = signed()
    genuine = message_xml(message(newcomer, "event", Event="subscribe")).encode()
    assert reply_content(post_oa(first_worker, observed, genuine)) == WELCOME

    for worker in (first_worker, second_worker):  # the memory is Redis, shared by workers
        forged = message_xml(message(victim, Content="帮我取消报修"))
        refused(post_oa(worker, observed, forged.encode()), 403, "replayed_request")
        other_event = message_xml(message(newcomer, "event", Event="CLICK", EventKey="HUMAN"))
        refused(post_oa(worker, observed, other_event.encode()), 403, "replayed_request")

    assert rows(database_url, victim) == []
    assert len(rows(database_url, newcomer)) == 1


def test_a_retry_under_the_same_nonce_gets_the_first_answer(
    build_app: Build, database_url: str
) -> None:
    """WeChat's retry of one message is answered alike whether it comes with a fresh
    (timestamp, nonce) or the same one, and re-encrypted or not (replay.py says why)."""
    first_worker, second_worker = build_app(), build_app()
    resident = openid("resident")
    sent = message(resident, "event", Event="subscribe")
    query = signed()

    answers = [
        reply_content(post_oa(first_worker, *safe_mode(sent, query))),
        reply_content(post_oa(second_worker, *safe_mode(sent, query))),  # same nonce, new cipher
        reply_content(post_oa(first_worker, *safe_mode(sent))),  # a fresh nonce
    ]

    assert answers == [WELCOME] * 3
    assert len(rows(database_url, resident)) == 1


def test_a_used_nonce_with_another_encrypted_message_is_refused(
    app: TestClient, database_url: str
) -> None:
    resident, victim = openid("resident"), openid("victim")
    query = signed()
    assert (
        reply_content(
            post_oa(app, *safe_mode(message(resident, "event", Event="subscribe"), query))
        )
        == WELCOME
    )

    refused(
        post_oa(app, *safe_mode(message(victim, Content="查账单"), query)), 403, "replayed_request"
    )

    assert rows(database_url, victim) == []


def test_the_wecom_app_remembers_its_nonces_too(app: TestClient, database_url: str) -> None:
    staff, other = "zhangsan", f"lisi{random.randrange(10**6)}"
    query = {"timestamp": str(int(time.time())), "nonce": str(random.randrange(10**9))}

    def post(sender: str) -> Response:
        plain = message_xml({**message(sender, Content="你好"), "ToUserName": APP["receive_id"]})
        encrypted = WorkPrpCrypto(APP_KEY).encrypt(plain, APP["receive_id"]).decode()
        params = {
            **query,
            "msg_signature": sign(APP["token"], query["timestamp"], query["nonce"], encrypted),
        }
        body = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        return app.post("/wechat/wecom-app", params=params, content=body.encode())

    assert post(staff).status_code == 200
    refused(post(other), 403, "replayed_request")
    assert rows(database_url, other) == []


# 3. Malformed safe-mode callbacks: 400, never 500 ----------------------------------------


def _encrypt_raw(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _oa_case(case: str, sender: str) -> tuple[dict[str, str], bytes]:
    fields = message(sender, Content="我家这个月物业费多少")
    if case == "missing_nonce":
        query = {"timestamp": str(int(time.time())), "nonce": ""}
        query["signature"] = sign(OA["token"], query["timestamp"], "")
        params, body = safe_mode(fields, query)
        return {k: v for k, v in params.items() if k != "nonce"}, body
    if case == "missing_timestamp":
        params, body = safe_mode(fields)
        return {k: v for k, v in params.items() if k != "timestamp"}, body
    if case == "timestamp_not_a_number":
        query = {"timestamp": "yesterday", "nonce": "1"}
        query["signature"] = sign(OA["token"], "yesterday", "1")
        return safe_mode(fields, query)
    if case == "missing_msg_signature":
        params, body = safe_mode(fields)
        return {k: v for k, v in params.items() if k != "msg_signature"}, body
    if case == "encrypt_of_16_bytes":
        return with_ciphertext(signed(), _encrypt_raw(os.urandom(16)))
    if case == "encrypt_not_base64":
        return with_ciphertext(signed(), "这不是base64!!")
    if case == "encrypt_bad_padding":
        return with_ciphertext(signed(), "QUJD")
    if case == "encrypt_undecryptable":  # whole blocks of noise: garbage length and padding
        return with_ciphertext(signed(), _encrypt_raw(b"\xff" * 64))
    if case == "no_encrypt_element":
        params, _ = safe_mode(fields)
        return params, message_xml(fields).encode()
    if case == "bad_xml":
        params, _ = safe_mode(fields)
        return params, b"<xml><Encrypt>unclosed"
    if case == "billion_laughs":
        params, _ = safe_mode(fields)
        return params, BILLION_LAUGHS.encode()
    if case == "empty_body":
        params, _ = safe_mode(fields)
        return params, b""
    if case == "decrypts_to_garbage":
        encrypted = PrpCrypto(OA_KEY).encrypt("not xml at all", OA["app_id"]).decode()
        return with_ciphertext(signed(), encrypted)
    raise AssertionError(case)


OA_MALFORMED = [
    "missing_nonce",
    "missing_timestamp",
    "timestamp_not_a_number",
    "missing_msg_signature",
    "encrypt_of_16_bytes",
    "encrypt_not_base64",
    "encrypt_bad_padding",
    "encrypt_undecryptable",
    "no_encrypt_element",
    "bad_xml",
    "billion_laughs",
    "empty_body",
    "decrypts_to_garbage",
]


@pytest.mark.parametrize("case", OA_MALFORMED)
def test_a_malformed_safe_mode_callback_gets_400(
    app: TestClient, database_url: str, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    attacker = openid(case.replace("_", "-"))

    refused(post_oa(app, *_oa_case(case, attacker)), 400, "malformed_message")

    assert rows(database_url, attacker) == []
    logged = caplog.text  # the app's own handler writes the same records to stderr
    assert "wechat_rejected" in logged and "malformed_message" in logged
    assert not [secret for secret in SECRETS if secret in logged]


@pytest.mark.parametrize(
    ("case", "status", "reason"),
    [
        ("wrong_app_id", 403, "wrong_receiver"),
        ("bad_msg_signature", 403, "bad_signature"),
        ("bad_signature", 403, "bad_signature"),
        ("stale", 403, "stale_timestamp"),
        ("unsigned", 403, "bad_signature"),
    ],
)
def test_a_badly_signed_or_misaddressed_callback_gets_403(
    app: TestClient, database_url: str, case: str, status: int, reason: str
) -> None:
    attacker = openid(case.replace("_", "-"))
    fields = message(attacker, Content="我家这个月物业费多少")
    if case == "wrong_app_id":
        params, body = safe_mode(fields, app_id="wx0000000000bad")
    elif case == "bad_msg_signature":
        params, body = safe_mode(fields)
        params["msg_signature"] = "0" * 40
    elif case == "bad_signature":
        params, body = safe_mode(fields)
        params["signature"] = sign("wrong", "1", "2")
    elif case == "stale":
        params, body = safe_mode(fields, signed(timestamp=str(int(time.time()) - 3600)))
    else:
        _, body = safe_mode(fields)
        params = {}

    refused(post_oa(app, params, body), status, reason)
    assert rows(database_url, attacker) == []


def _bot_query(encrypted: str) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), str(random.randrange(10**9))
    return {
        "msg_signature": sign(BOT["token"], timestamp, nonce, encrypted),
        "timestamp": timestamp,
        "nonce": nonce,
    }


def _bot_encrypt(payload: object) -> str:
    return WorkPrpCrypto(BOT_KEY).encrypt(json.dumps(payload), "").decode()


@pytest.mark.parametrize(
    "case",
    [
        "missing_nonce",
        "encrypt_of_16_bytes",
        "encrypt_not_a_string",
        "not_json",
        "deeply_nested_json",
        "payload_not_an_object",
        "payload_fields_of_the_wrong_type",
        "empty_body",
    ],
)
def test_a_malformed_wecom_bot_callback_gets_400(
    app: TestClient, database_url: str, case: str
) -> None:
    good = {
        "msgid": "m1",
        "msgtype": "text",
        "from": {"userid": "attacker"},
        "text": {"content": "hi"},
    }
    encrypted = _bot_encrypt(good)
    params, body = _bot_query(encrypted), json.dumps({"encrypt": encrypted}).encode()
    if case == "missing_nonce":
        params = {k: v for k, v in params.items() if k != "nonce"}
    elif case == "encrypt_of_16_bytes":
        encrypted = _encrypt_raw(os.urandom(16))
        params, body = _bot_query(encrypted), json.dumps({"encrypt": encrypted}).encode()
    elif case == "encrypt_not_a_string":
        params, body = _bot_query("12345"), b'{"encrypt": 12345}'
    elif case == "not_json":
        body = b"<xml/>"
    elif case == "deeply_nested_json":
        body = b"[" * 60_000
    elif case == "payload_not_an_object":
        encrypted = _bot_encrypt(["attacker"])
        params, body = _bot_query(encrypted), json.dumps({"encrypt": encrypted}).encode()
    elif case == "payload_fields_of_the_wrong_type":
        encrypted = _bot_encrypt({**good, "from": "attacker", "text": "hi"})
        params, body = _bot_query(encrypted), json.dumps({"encrypt": encrypted}).encode()
    else:
        body = b""

    refused(app.post("/wechat/wecom-bot", params=params, content=body), 400, "malformed_message")
    assert rows(database_url, "attacker") == []


@pytest.mark.parametrize("case", ["missing_msg_signature", "encrypt_of_16_bytes", "wrong_corp_id"])
def test_a_malformed_or_misaddressed_wecom_app_callback_is_refused(
    app: TestClient, database_url: str, case: str
) -> None:
    sender = f"attacker{random.randrange(10**6)}"
    plain = message_xml({**message(sender, Content="你好"), "ToUserName": APP["receive_id"]})
    corp_id = "wwnotourcorp" if case == "wrong_corp_id" else APP["receive_id"]
    encrypted = WorkPrpCrypto(APP_KEY).encrypt(plain, corp_id).decode()
    if case == "encrypt_of_16_bytes":
        encrypted = _encrypt_raw(os.urandom(16))
    timestamp, nonce = str(int(time.time())), str(random.randrange(10**9))
    params = {
        "timestamp": timestamp,
        "nonce": nonce,
        "msg_signature": sign(APP["token"], timestamp, nonce, encrypted),
    }
    if case == "missing_msg_signature":
        del params["msg_signature"]
    body = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode()

    response = app.post("/wechat/wecom-app", params=params, content=body)

    if case == "wrong_corp_id":
        refused(response, 403, "wrong_receiver")
    elif case == "missing_msg_signature":  # WeCom's only signature: unsigned, not malformed
        refused(response, 403, "bad_signature")
    else:
        refused(response, 400, "malformed_message")
    assert rows(database_url, sender) == []


# 4. Event dedupe key ---------------------------------------------------------------------


def test_a_subscribe_and_a_menu_click_in_one_second_are_two_events(
    app: TestClient, database_url: str
) -> None:
    newcomer = openid("newcomer")
    now = int(time.time())
    subscribe = message(newcomer, "event", Event="subscribe", CreateTime=now)
    click = message(newcomer, "event", Event="CLICK", EventKey="REPAIR", CreateTime=now)

    welcome = reply_content(post_oa(app, *safe_mode(subscribe)))
    clicked = reply_content(post_oa(app, *safe_mode(click)))
    retried = reply_content(post_oa(app, *safe_mode(click)))  # WeChat's retry: a fresh nonce

    assert welcome == WELCOME
    assert clicked == retried == RASA_BUSY  # the click was taken up (Rasa is down here)
    assert [
        (row.payload["event"], row.payload.get("event_key")) for row in rows(database_url, newcomer)
    ] == [
        ("subscribe", None),
        ("click", "REPAIR"),
    ]
