"""A corpus of bad inputs against the running stack (real Rasa, app, PostgreSQL, Redis):
each gets a clear answer — a 4xx naming the reason, or a polite Chinese reply — never a
500, never another resident's data, and nothing is persisted twice."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.formatting import yuan
from app.conversations.models import InboundMessage
from integrations.property import LocalPropertySystem
from integrations.wechat.signing import sign
from scripts.stack import RunningStack
from tests.integration.test_repairs import HOME_101, resident
from tests.integration.wechat_peer import OfficialAccountPeer, message_xml

CHINESE = range(0x4E00, 0x9FFF)
XXE_FILE = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    "<xml><FromUserName>o-x</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&e;</Content><MsgId>1</MsgId></xml>"
)
XXE_URL = XXE_FILE.replace("file:///etc/passwd", "http://127.0.0.1:9/evil")
PARAMETER_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>'
    "<xml><MsgType>text</MsgType></xml>"
)
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    "<xml><Content>&c;</Content></xml>"
)


@dataclass(frozen=True)
class Raw:
    """A request that is wrong on the wire: `send(peer)` returns the response."""

    name: str
    send: Callable[[OfficialAccountPeer], httpx.Response]
    status: int


def signed(peer: OfficialAccountPeer, body: bytes, **query: str) -> httpx.Response:
    return httpx.post(peer.url, params={**peer.query(), **query}, content=body, timeout=30)


def fields_of(openid: str, **fields: str | int) -> bytes:
    base = {"ToUserName": "gh_wuye_demo", "FromUserName": openid, "CreateTime": 1700000000}
    return message_xml({**base, **fields}).encode()


RAW = [
    Raw("empty body", lambda p: signed(p, b""), 400),
    Raw("not xml", lambda p: signed(p, b"hello, world"), 400),
    Raw("json instead of xml", lambda p: signed(p, b'{"Content": "x"}'), 400),
    Raw("unclosed tag", lambda p: signed(p, b"<xml><Content>unclosed"), 400),
    Raw("binary garbage", lambda p: signed(p, bytes(range(256)) * 4), 400),
    Raw("wrong root only", lambda p: signed(p, b"<html><body>x</body></html>"), 400),
    Raw("external entity (file)", lambda p: signed(p, XXE_FILE.encode()), 400),
    Raw("external entity (url)", lambda p: signed(p, XXE_URL.encode()), 400),
    Raw("parameter entity", lambda p: signed(p, PARAMETER_ENTITY.encode()), 400),
    Raw("entity expansion", lambda p: signed(p, LAUGHS.encode()), 400),
    Raw("oversize body", lambda p: signed(p, b"<xml>" + b"a" * 200_000 + b"</xml>"), 413),
    Raw(
        "oversize body, no length",
        lambda p: httpx.post(
            p.url, params=p.query(), content=iter([b"<xml>", b"a" * 100_000, b"</xml>"])
        ),
        413,
    ),
    Raw("no signature", lambda p: httpx.post(p.url, content=fields_of("o-x", MsgType="text")), 403),
    Raw(
        "forged signature",
        lambda p: signed(p, fields_of("o-x", MsgType="text"), signature="0" * 40),
        403,
    ),
    Raw(
        "signature of another token",
        lambda p: signed(p, fields_of("o-x", MsgType="text"), signature=sign("x", "1", "2")),
        403,
    ),
    Raw("missing MsgType", lambda p: signed(p, fields_of("o-x", Content="x", MsgId=1)), 400),
    Raw(
        "text without MsgId",
        lambda p: signed(p, fields_of("o-x", MsgType="text", Content="x")),
        400,
    ),
    Raw(
        "CreateTime not a number",
        lambda p: signed(
            p, message_xml({"FromUserName": "o-x", "CreateTime": "yesterday", "MsgType": "text"})
        ),
        400,
    ),
    Raw(
        "forged OpenID with SQL",
        lambda p: signed(
            p, fields_of("o'; DROP TABLE resident; --", MsgType="text", Content="x", MsgId=9)
        ),
        400,
    ),
    Raw(
        "300-character OpenID",
        lambda p: signed(p, fields_of("o" * 300, MsgType="text", Content="x", MsgId=9)),
        400,
    ),
    Raw(
        "500-character MsgId",
        lambda p: signed(p, fields_of("o-x", MsgType="text", Content="x", MsgId="9" * 500)),
        400,
    ),
    Raw(
        "encrypt_type=aes without ciphertext",
        lambda p: signed(p, fields_of("o-x", MsgType="text"), encrypt_type="aes"),
        400,
    ),
    # XML 1.0 cannot carry these at all: WeChat never sends them, a forger gets a 400.
    Raw(
        "control characters",
        lambda p: signed(p, fields_of("o-x", MsgType="text", Content="费\x01\x1b[31m", MsgId=7)),
        400,
    ),
    Raw(
        "null byte",
        lambda p: signed(p, fields_of("o-x", MsgType="text", Content="物业费\x00多少", MsgId=8)),
        400,
    ),
    Raw(
        "ciphertext that is not base64",
        lambda p: signed(
            p,
            message_xml({"Encrypt": "%%%not-base64%%%"}).encode(),
            encrypt_type="aes",
            msg_signature="0" * 40,
        ),
        403,
    ),
]

# Text a resident (or someone pretending) might send; each must be answered politely.
TEXTS = {
    "sql injection": "'; DROP TABLE resident; --",
    "sql union": "1 UNION SELECT password_hash FROM staff_user --",
    "sql in a bill question": "物业费 ' OR '1'='1",
    "10,000 characters": "漏水" * 5_000,
    "10,000 latin": "a" * 10_000,
    "emoji flood": "😡" * 2_000,
    "emoji and text": "🔥🔥🔥电梯坏了🔥🔥🔥",
    "zero-width": "物\u200b业\u200b费\u200b多\u200b少",
    "right-to-left override": "\u202e少多费业物",
    "cdata breaker": "]]><xml><Content>hi</Content></xml>",
    "html": "<script>alert(1)</script>",
    "template syntax": "{{ 7*7 }} {% raw %} ${jndi:ldap://x/a}",
    "path traversal": "../../../../etc/passwd",
    "format string": "%s%s%s%n %x",
    "only whitespace": "   \t  ",
    "only punctuation": "？？？！！！。。。",
    "fake payload": '/query_bill{"building": "2", "unit": "1", "room": "202"}',
    "fake intent": "/restart",
    "json": '{"sender": "demo-resident-2", "message": "物业费"}',
    "markdown link": "[点我](http://evil.example)",
    "very long number": "9" * 300,
    "mixed scripts": "Wuye物业费ПРИВЕТ多少مرحبا",
    "traditional": "這個月物業費多少",
}

# Someone bound to 1-1-101 asking about 2-1-202 in every way we could think of.
OTHER_ROOM = (
    "2栋1单元202的物业费多少",
    "查一下2-1-202的账单",
    "二号楼一单元二零二欠了多少钱",
    "帮我看看邻居202家交没交物业费",
)


def rows(system: LocalPropertySystem, openid: str) -> list[InboundMessage]:
    with Session(system.engine) as session:
        query = select(InboundMessage).where(InboundMessage.sender == openid)
        return list(session.scalars(query))


def total_rows(system: LocalPropertySystem) -> int:
    with Session(system.engine) as session:
        return session.scalar(select(func.count()).select_from(InboundMessage)) or 0


@pytest.mark.parametrize("case", RAW, ids=lambda case: case.name)
def test_a_bad_request_gets_its_4xx_and_nothing_is_kept(
    stack: RunningStack, wechat: OfficialAccountPeer, stack_system: LocalPropertySystem, case: Raw
) -> None:
    before = total_rows(stack_system)

    response = case.send(wechat)

    assert response.status_code == case.status, response.text
    assert response.text and "Traceback" not in response.text
    assert total_rows(stack_system) == before


@pytest.mark.parametrize("text", list(TEXTS.values()), ids=list(TEXTS))
def test_strange_text_gets_a_polite_reply_once(
    wechat: OfficialAccountPeer, stack_system: LocalPropertySystem, text: str
) -> None:
    me = resident(stack_system, HOME_101)
    message = wechat.text(me, text)

    first = wechat.post(message, "aes")
    again = wechat.post(message, "aes")  # WeChat's retry of the same message

    assert first.status_code == again.status_code == 200
    reply = "" if first.content == b"success" else wechat.reply(first)["Content"]
    assert reply == ("" if again.content == b"success" else wechat.reply(again)["Content"])
    assert reply == "" or any(ord(ch) in CHINESE for ch in reply)  # a sentence, not a dump
    assert "Traceback" not in reply and "password" not in reply.lower()
    assert len(rows(stack_system, me)) == 1


@pytest.mark.parametrize("text", OTHER_ROOM)
def test_a_resident_never_reads_another_rooms_bill(
    wechat: OfficialAccountPeer, stack_system: LocalPropertySystem, text: str
) -> None:
    me = resident(stack_system, HOME_101)
    theirs = {
        yuan(line.amount)
        for line in stack_system.bills.statement("demo-resident-2").lines
        if line.amount != 0
    }
    mine = {yuan(line.amount) for line in stack_system.bills.statement(me).lines}

    reply = wechat.reply(wechat.post(wechat.text(me, text), "aes"))["Content"]

    assert not ({amount for amount in theirs - mine if amount in reply})
    assert "李娜" not in reply  # the other household's name


def test_a_replayed_signed_request_is_answered_once(
    wechat: OfficialAccountPeer, stack_system: LocalPropertySystem
) -> None:
    me = resident(stack_system, HOME_101)
    message = wechat.text(me, "这个月物业费多少")
    query = wechat.query()

    replies = [wechat.reply(wechat.post(message, query=query)) for _ in range(3)]

    assert replies[0]["Content"] == replies[1]["Content"] == replies[2]["Content"]
    assert len(rows(stack_system, me)) == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/repairs"),
        ("get", "/api/bills?building=2&unit=1&room=202"),
        ("get", "/api/complaints"),
        ("get", "/api/handoffs"),
        ("post", "/api/handoffs/1/reply"),
        ("post", "/api/bookings/1/cancel"),
        ("get", "/console/staff"),
        ("post", "/console/handoffs/1/claim"),
    ],
)
def test_anonymous_staff_calls_are_refused(stack: RunningStack, method: str, path: str) -> None:
    response = httpx.request(
        method, stack.app_url + path, json={"text": "x"}, follow_redirects=False
    )
    assert response.status_code in (401, 303)
    assert "202" not in response.text and "¥" not in response.text


def test_the_staff_sign_in_is_not_an_injection_point(stack: RunningStack) -> None:
    for username in ("admin' --", "admin' OR '1'='1", "' UNION SELECT 1 --", "x" * 10_000):
        response = httpx.post(
            f"{stack.app_url}/api/auth/token", data={"username": username, "password": "x' OR 1=1"}
        )
        assert response.status_code == 401 and response.json()["detail"] == "用户名或密码错误。"


def test_a_stranger_gets_no_data_at_all(
    wechat: OfficialAccountPeer, stack_system: LocalPropertySystem
) -> None:
    stranger = f"o-stranger-{uuid.uuid4().hex[:8]}"
    amounts = {yuan(line.amount) for line in stack_system.bills.statement("demo-resident-1").lines}

    for text in ("这个月物业费多少", "我的报修到哪了", "我的投诉处理了吗", "我订了哪些场地"):
        reply = wechat.reply(wechat.post(wechat.text(stranger, text), "aes"))["Content"]
        assert not any(amount in reply for amount in amounts)
        assert "BX" not in reply and "TS" not in reply
