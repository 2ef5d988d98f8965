"""WeChat and WeCom callbacks through the running app, the real Rasa server and the database."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wechatpy.work.crypto import PrpCrypto, WeChatCrypto

from actions.formatting import yuan
from app.conversations import unanswered
from app.conversations.log import MAX_INBOUND_ATTEMPTS
from app.conversations.models import InboundMessage
from app.conversations.router import RASA_BUSY, UNSUPPORTED, VOICE_NOT_RECOGNISED, WELCOME
from integrations.property import LocalPropertySystem
from integrations.property.models import Attachment, utcnow
from integrations.wechat.signing import sign
from integrations.wechat.xml import parse_fields
from scripts.stack import RunningStack
from tests.integration.stack import AppProcess
from tests.integration.test_repairs import HOME_101, resident
from tests.integration.wechat_peer import (
    APP,
    OfficialAccountPeer,
    WeComBotPeer,
    message_xml,
)
from tests.wechat.fake_server import CUSTOM, ROBOT, FakeWeChat


@pytest.fixture(scope="module")
def peer(stack: RunningStack) -> OfficialAccountPeer:
    return OfficialAccountPeer(stack.app_url)


def inbound_rows(system: LocalPropertySystem, sender: str) -> list[InboundMessage]:
    with Session(system.engine) as session:
        return list(session.scalars(select(InboundMessage).where(InboundMessage.sender == sender)))


def user_turns(rasa: httpx.Client, sender: str) -> int:
    tracker = rasa.get(f"/conversations/{sender}/tracker").json()
    return sum(1 for event in tracker.get("events", []) if event["event"] == "user")


def left_unanswered(
    system: LocalPropertySystem, openid: str, text: str, ago: timedelta, attempts: int = 0
) -> None:
    """A text message received `ago` and never answered (as a crash leaves it)."""
    with Session(system.engine) as session, session.begin():
        session.add(
            InboundMessage(
                channel="oa",
                dedupe_key=f"oa:{openid}:{uuid.uuid4().hex}",
                sender=openid,
                kind="text",
                text=text,
                payload={
                    "channel": "oa",
                    "sender": openid,
                    "kind": "text",
                    "dedupe_key": "x",
                    "created_at": 1,
                    "text": text,
                },
                received_at=utcnow() - ago,
                attempts=attempts,
            )
        )


def property_fee(system: LocalPropertySystem, openid: str) -> str:
    return yuan(system.bills.statement(openid, bill_type="物业费").lines[0].amount)


def test_server_verification_echoes_echostr(peer: OfficialAccountPeer) -> None:
    query = {**peer.query(), "echostr": "5927782489442352469"}
    assert httpx.get(peer.url, params=query).text == "5927782489442352469"
    assert httpx.get(peer.url, params={**query, "signature": "0" * 40}).status_code == 403


# Plain mode is refused while an EncodingAESKey is set, and served without one:
# tests/security/test_wechat_callbacks.py.
@pytest.mark.parametrize("mode", ["compatible", "aes"])
def test_a_resident_asks_for_the_property_fee_in_every_mode(
    peer: OfficialAccountPeer, stack_system: LocalPropertySystem, mode: str
) -> None:
    response = peer.post(peer.text("demo-resident-1", "我家这个月物业费多少"), mode)

    reply = peer.reply(response)
    assert ("<Encrypt>" in response.text) == (mode != "plain")
    assert reply["ToUserName"] == "demo-resident-1"
    assert reply["FromUserName"] == "gh_wuye_demo"
    assert reply["MsgType"] == "text"
    assert f"物业费 {property_fee(stack_system, 'demo-resident-1')}" in reply["Content"]


def test_retries_of_one_message_make_one_rasa_turn_one_row_and_the_same_reply(
    peer: OfficialAccountPeer, stack_system: LocalPropertySystem, rasa: httpx.Client
) -> None:
    message = peer.text("demo-resident-2", "查一下物业费")
    turns_before = user_turns(rasa, "demo-resident-2")

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: peer.post(message, "aes"), range(4)))

    contents = {peer.reply(r)["Content"] for r in responses}
    assert len(contents) == 1
    assert property_fee(stack_system, "demo-resident-2") in contents.pop()
    assert user_turns(rasa, "demo-resident-2") - turns_before == 1

    def rows() -> list[InboundMessage]:
        return [
            r
            for r in inbound_rows(stack_system, "demo-resident-2")
            if r.dedupe_key.endswith(str(message["MsgId"]))
        ]

    # The answer is marked in the log while the reply goes out.
    deadline = time.monotonic() + 5
    while rows()[0].status != "answered" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r.status for r in rows()] == ["answered"]


def test_voice_uses_the_recognised_text_or_asks_to_type(
    peer: OfficialAccountPeer, stack_system: LocalPropertySystem
) -> None:
    recognised = peer.fields(
        "demo-resident-1",
        "voice",
        MediaId="voice-1",
        Format="amr",
        Recognition="我家这个月物业费多少。",
        MsgId=next(peer.msg_ids),
    )
    silent = peer.fields(
        "demo-resident-1", "voice", MediaId="voice-2", Format="amr", MsgId=next(peer.msg_ids)
    )

    assert (
        property_fee(stack_system, "demo-resident-1")
        in peer.reply(peer.post(recognised))["Content"]
    )
    assert peer.reply(peer.post(silent))["Content"] == VOICE_NOT_RECOGNISED


def test_a_photo_is_attached_to_the_residents_open_repair(
    peer: OfficialAccountPeer, stack_system: LocalPropertySystem
) -> None:
    me = resident(stack_system, HOME_101)
    open_repair = stack_system.repairs.create(me, item="水管", location="厨房", description="漏水")
    photo = peer.fields(
        me,
        "image",
        PicUrl="http://mmbiz.example/leak.jpg",
        MediaId="media-leak",
        MsgId=next(peer.msg_ids),
    )

    reply = peer.reply(peer.post(photo, "aes"))["Content"]

    assert f"照片已添加到您的报修单 {open_repair.number}" in reply
    with Session(stack_system.engine) as session:
        attachment = session.scalar(select(Attachment).where(Attachment.media_id == "media-leak"))
    assert attachment is not None and attachment.repair_id == open_repair.id
    assert attachment.url == "http://mmbiz.example/leak.jpg"


def test_a_location_without_an_open_ticket_is_acknowledged_and_kept(
    peer: OfficialAccountPeer, stack_system: LocalPropertySystem
) -> None:
    where = peer.fields(
        "demo-resident-unbound",
        "location",
        Location_X="30.27",
        Location_Y="120.15",
        Scale="15",
        Label="幸福家园北门",
        MsgId=next(peer.msg_ids),
    )

    assert "收到您的位置，已为您保存" in peer.reply(peer.post(where))["Content"]
    with Session(stack_system.engine) as session:
        kept = session.scalar(select(Attachment).where(Attachment.label == "幸福家园北门"))
    assert kept is not None and kept.repair_id is None and kept.latitude == 30.27


def test_events(peer: OfficialAccountPeer, stack_system: LocalPropertySystem) -> None:
    openid = f"o-new-{uuid.uuid4().hex[:6]}"
    welcome = peer.reply(peer.post(peer.fields(openid, "event", Event="subscribe")))
    assert welcome["Content"] == WELCOME

    menu = peer.fields("demo-resident-1", "event", Event="CLICK", EventKey="BILL")
    assert property_fee(stack_system, "demo-resident-1") in peer.reply(peer.post(menu))["Content"]

    link = peer.fields(
        "demo-resident-1",
        "event",
        Event="VIEW",
        EventKey="https://example.com",
        CreateTime=menu["CreateTime"] + 1,
    )
    assert peer.post(link).text == "success"
    leaving = peer.fields(openid, "event", Event="unsubscribe", CreateTime=menu["CreateTime"] + 2)
    assert peer.post(leaving).text == "success"


def test_unknown_message_types_get_a_polite_answer(peer: OfficialAccountPeer) -> None:
    video = peer.fields(
        "demo-resident-3", "shortvideo", MediaId="v", ThumbMediaId="t", MsgId=next(peer.msg_ids)
    )
    assert peer.reply(peer.post(video))["Content"] == UNSUPPORTED


HUGE = "<xml>" + "<Content>" + "啊" * 40_000 + "</Content></xml>"
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    "<xml><ToUserName>a</ToUserName><FromUserName>attacker</FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&lol2;</Content>"
    "<MsgId>1</MsgId></xml>"
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName>a</ToUserName><FromUserName>attacker</FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&xxe;</Content>"
    "<MsgId>2</MsgId></xml>"
)


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("oversize", 413),
        ("malformed", 400),
        ("billion_laughs", 400),
        ("xxe", 400),
        ("bad_signature", 403),
        ("stale_timestamp", 403),
        ("wrong_app_id", 403),
        ("bad_msg_signature", 403),
        ("not_encrypted", 400),
    ],
)
def test_bad_requests_get_a_4xx_and_nothing_is_processed(
    peer: OfficialAccountPeer, stack_system: LocalPropertySystem, case: str, status: int
) -> None:
    attacker = f"attacker-{case}"
    fields = peer.text(attacker, "我家这个月物业费多少")
    query = peer.query()
    if case == "oversize":
        response = httpx.post(peer.url, params=query, content=HUGE.encode() * 2)
    elif case == "malformed":
        response = httpx.post(peer.url, params=query, content=b"<xml><Content>unclosed")
    elif case == "billion_laughs":
        response = httpx.post(peer.url, params=query, content=BILLION_LAUGHS.encode())
    elif case == "xxe":
        response = httpx.post(peer.url, params=query, content=XXE.encode())
    elif case == "bad_signature":
        response = peer.post(fields, query={**query, "signature": sign("wrong", "1", "2")})
    elif case == "stale_timestamp":
        response = peer.post(fields, timestamp=int(utcnow().timestamp()) - 3600)
    elif case == "wrong_app_id":
        other = OfficialAccountPeer(peer.url.removesuffix("/wechat/oa"), app_id="wx0000000000bad")
        response = other.post(fields, "aes")
    elif case == "bad_msg_signature":
        response = httpx.post(
            peer.url,
            content=message_xml({"Encrypt": "QUJD"}).encode(),
            params={**query, "encrypt_type": "aes", "msg_signature": "0" * 40},
        )
    else:
        response = httpx.post(
            peer.url, params={**query, "encrypt_type": "aes"}, content=message_xml(fields).encode()
        )

    assert response.status_code == status
    assert inbound_rows(stack_system, attacker) == []


def test_a_slow_answer_becomes_success_then_a_customer_service_message(
    stack: RunningStack, stack_system: LocalPropertySystem, fake_wechat: FakeWeChat, tmp_path
) -> None:
    # An app whose deadline is shorter than any Rasa round trip: every answer is late.
    slow = AppProcess(
        env={**stack.env, "RASA_URL": stack.rasa_url, "REPLY_DEADLINE_SECONDS": "0.001"},
        log=tmp_path / "slow.log",
    )
    slow.start()
    try:
        peer = OfficialAccountPeer(slow.url)
        message = peer.text("demo-resident-3", "我家这个月物业费多少")

        assert peer.post(message, "aes").text == "success"
        pushed = fake_wechat.wait_for(CUSTOM, lambda body: body["touser"] == "demo-resident-3")
        assert property_fee(stack_system, "demo-resident-3") in pushed["text"]["content"]

        assert peer.post(message, "aes").text == "success"  # WeChat's retry
    finally:
        slow.stop()
    sent = [b for b in fake_wechat.sent(CUSTOM) if b["touser"] == "demo-resident-3"]
    assert len(sent) == 1
    [row] = [
        r
        for r in inbound_rows(stack_system, "demo-resident-3")
        if r.dedupe_key.endswith(str(message["MsgId"]))
    ]
    assert (row.status, row.delivery) == ("answered", "push")


def test_a_message_left_unanswered_by_a_crash_is_answered_later(
    stack_system: LocalPropertySystem, fake_wechat: FakeWeChat
) -> None:
    """A row `received` but never answered (the process died) is picked up and pushed."""
    openid = "demo-resident-4"
    left_unanswered(stack_system, openid, "我家这个月物业费多少", timedelta(minutes=5))

    pushed = fake_wechat.wait_for(CUSTOM, lambda body: body["touser"] == openid, timeout=30)

    assert property_fee(stack_system, openid) in pushed["text"]["content"]
    with Session(stack_system.engine) as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(InboundMessage)
                .where(InboundMessage.sender == openid, InboundMessage.status == "received")
            )
            == 0
        )


def test_rasa_down_gets_a_polite_reply_and_the_answer_follows_when_rasa_is_back(
    stack: RunningStack, stack_system: LocalPropertySystem, fake_wechat: FakeWeChat, tmp_path
) -> None:
    me = resident(stack_system, HOME_101)
    lonely = AppProcess(
        env={**stack.env, "RASA_URL": "http://127.0.0.1:9", "RECOVERY_INTERVAL_SECONDS": "3600"},
        log=tmp_path / "lonely.log",
    )
    lonely.start()
    try:
        peer = OfficialAccountPeer(lonely.url)
        message = peer.text(me, "这个月物业费多少")
        assert peer.reply(peer.post(message))["Content"] == RASA_BUSY
    finally:
        lonely.stop()
    [row] = inbound_rows(stack_system, me)
    assert row.status == "received" and "ConnectError" in (row.error or "")

    # Rasa is back (the stack's app reaches it): the kept message is answered by a push.
    pushed = fake_wechat.wait_for(CUSTOM, lambda body: body["touser"] == me, timeout=30)
    assert property_fee(stack_system, me) in pushed["text"]["content"]


def test_a_message_still_unanswered_after_every_attempt_goes_to_a_person(
    stack: RunningStack, stack_system: LocalPropertySystem, fake_wechat: FakeWeChat, tmp_path
) -> None:
    """Rasa stays down: at the last attempt the staff get the conversation, not the bin."""
    openid = f"o-{uuid.uuid4().hex[:8]}"
    words = "厨房水管漏水了，楼下也在滴"
    lonely = AppProcess(
        env={
            **stack.env,
            "RASA_URL": "http://127.0.0.1:9",
            "RECOVERY_INTERVAL_SECONDS": "0.5",
            "RECOVERY_AFTER_SECONDS": "1",
        },
        log=tmp_path / "lonely.log",
    )
    lonely.start()
    try:
        left_unanswered(
            stack_system, openid, words, timedelta(seconds=2), attempts=MAX_INBOUND_ATTEMPTS - 1
        )
        told = fake_wechat.wait_for(CUSTOM, lambda body: body["touser"] == openid, timeout=30)
        alert = fake_wechat.wait_for(ROBOT, lambda body: words in str(body))
    finally:
        lonely.stop()

    assert told["text"]["content"] == unanswered.TO_RESIDENT
    handoff = stack_system.handoffs.active_for(openid)
    assert handoff is not None and handoff.reason == "消息多次处理失败"
    assert [line["text"] for line in handoff.transcript] == [words]
    assert f"/console/handoffs/{handoff.id}" in alert["markdown"]["content"]
    assert [row.status for row in inbound_rows(stack_system, openid)] == ["failed"]


def test_a_resident_ats_the_bot_in_a_wecom_group(stack: RunningStack) -> None:
    bot = WeComBotPeer(stack.app_url)
    assert bot.verify().text == "echo-123"
    message = {
        "msgid": uuid.uuid4().hex,
        "aibotid": "bot-1",
        "chatid": "group-1",
        "chattype": "group",
        "from": {"userid": "zhangwei"},
        "msgtype": "text",
        "text": {"content": "@物业助手 你好"},
    }

    reply = bot.reply(bot.post(message))

    assert reply["msgtype"] == "stream" and reply["stream"]["finish"] is True
    assert reply["stream"]["content"].startswith("@zhangwei ")
    assert "物业助手" in reply["stream"]["content"]
    retried = bot.reply(bot.post(message))
    assert retried["stream"]["content"] == reply["stream"]["content"]


def test_the_wecom_staff_app_verifies_and_answers(stack: RunningStack) -> None:
    crypto = WeChatCrypto(APP["token"], APP["encoding_aes_key"], APP["receive_id"])
    url = stack.app_url + "/wechat/wecom-app"
    ts, nonce = str(int(utcnow().timestamp())), "4711"
    encrypted_echo = PrpCrypto(crypto.key).encrypt("staff-echo", APP["receive_id"]).decode()
    verify = httpx.get(
        url,
        params={
            "msg_signature": sign(APP["token"], ts, nonce, encrypted_echo),
            "timestamp": ts,
            "nonce": nonce,
            "echostr": encrypted_echo,
        },
    )
    assert verify.text == "staff-echo"

    plain = message_xml(
        {
            "ToUserName": APP["receive_id"],
            "FromUserName": "staff-wang",
            "CreateTime": int(ts),
            "MsgType": "text",
            "Content": "在吗",
            "MsgId": uuid.uuid4().int % 10**12,
            "AgentID": 1000002,
        }
    )
    encrypted = PrpCrypto(crypto.key).encrypt(plain, APP["receive_id"]).decode()
    response = httpx.post(
        url,
        params={
            "msg_signature": sign(APP["token"], ts, nonce, encrypted),
            "timestamp": ts,
            "nonce": nonce,
        },
        content=message_xml({"Encrypt": encrypted}).encode(),
    )

    envelope = parse_fields(response.content)
    reply = parse_fields(PrpCrypto(crypto.key).decrypt(envelope["Encrypt"], APP["receive_id"]))
    assert reply["ToUserName"] == "staff-wang" and "客服工作台" in reply["Content"]


def test_buttons_become_numbered_choices_answered_with_a_digit(
    peer: OfficialAccountPeer, stack_system: LocalPropertySystem
) -> None:
    greeting = peer.reply(peer.post(peer.text("demo-resident-1", "你好")))["Content"]
    assert greeting.endswith("1. 查本月账单\n（回复数字即可选择）")

    chosen = peer.reply(peer.post(peer.text("demo-resident-1", "1")))["Content"]

    assert f"物业费 {property_fee(stack_system, 'demo-resident-1')}" in chosen


def test_retries_reaching_two_app_workers_are_still_one_turn(
    stack: RunningStack, stack_system: LocalPropertySystem, rasa: httpx.Client, tmp_path
) -> None:
    if "REDIS_URL" not in stack.env:
        pytest.skip("several workers share dedupe through Redis")
    second = AppProcess(env={**stack.env, "RASA_URL": stack.rasa_url}, log=tmp_path / "w2.log")
    second.start()
    try:
        workers = [OfficialAccountPeer(stack.app_url), OfficialAccountPeer(second.url)]
        message = workers[0].text("demo-resident-3", "物业费交了没有")
        turns_before = user_turns(rasa, "demo-resident-3")

        with ThreadPoolExecutor(max_workers=6) as pool:
            responses = list(pool.map(lambda i: workers[i % 2].post(message, "aes"), range(6)))
    finally:
        second.stop()

    contents = {workers[0].reply(r)["Content"] for r in responses}
    assert len(contents) == 1
    assert property_fee(stack_system, "demo-resident-3") in contents.pop()
    assert user_turns(rasa, "demo-resident-3") - turns_before == 1
