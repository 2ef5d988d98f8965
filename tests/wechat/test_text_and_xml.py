from __future__ import annotations

import pytest

from integrations.wechat.errors import MalformedMessage
from integrations.wechat.messages import from_official_account
from integrations.wechat.text import MAX_MESSAGE_BYTES, sanitise, split_message, with_choices
from integrations.wechat.xml import parse_fields, render_text_reply

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><Content>&lol3;</Content></xml>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>a</ToUserName><Content>&xxe;</Content></xml>"""


def test_bot_text_cannot_break_out_of_cdata() -> None:
    reply = render_text_reply(
        {"ToUserName": "gh", "FromUserName": "o1"}, "故意的]]><xml>注入\x00", now=1
    )

    fields = parse_fields(reply)
    assert fields["Content"] == "故意的]]＞<xml>注入"
    assert fields["ToUserName"] == "o1" and fields["FromUserName"] == "gh"
    assert sanitise("a\tb\nc") == "a\tb\nc"


def test_long_text_is_split_between_sentences_within_the_byte_limit() -> None:
    sentence = "您家的物业费已经缴清，谢谢您的支持。"
    text = sentence * 200

    parts = split_message(text)

    assert len(parts) > 1
    assert all(len(p.encode()) <= MAX_MESSAGE_BYTES for p in parts)
    assert all(p.endswith("。") for p in parts)
    assert "".join(parts) == text


def test_a_sentence_longer_than_a_message_is_still_delivered_whole() -> None:
    text = "啊" * 1500 + "。结束。"
    parts = split_message(text)
    assert "".join(parts) == text
    assert all(len(p.encode()) <= MAX_MESSAGE_BYTES for p in parts)
    assert split_message("  ") == []


def test_buttons_become_numbered_choices() -> None:
    assert with_choices("确认提交吗？", ["确认", "取消"]) == (
        "确认提交吗？\n1. 确认\n2. 取消\n（回复数字即可选择）"
    )
    assert with_choices("好的", []) == "好的"


@pytest.mark.parametrize(
    "body", [b"", b"not xml", b"<xml><a></xml>", BILLION_LAUGHS, XXE, b"<root><a>1</a></root>"]
)
def test_bad_xml_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedMessage):
        parse_fields(body)


def _message(**fields: str) -> dict[str, str]:
    return {"ToUserName": "gh_1", "FromUserName": "o-1", "CreateTime": "1700000000", **fields}


def test_messages_are_normalised_with_their_dedupe_keys() -> None:
    text = from_official_account(_message(MsgType="text", Content="你好", MsgId="42"))
    assert (text.kind, text.text, text.dedupe_key) == ("text", "你好", "o-1:42")

    voice = from_official_account(
        _message(MsgType="voice", MediaId="m", MsgId="43", Recognition="物业费多少！")
    )
    assert (voice.kind, voice.text) == ("voice", "物业费多少！")
    assert from_official_account(_message(MsgType="voice", MediaId="m", MsgId="44")).text is None

    where = from_official_account(
        _message(
            MsgType="location",
            Location_X="30.27",
            Location_Y="120.15",
            Label="幸福家园",
            MsgId="45",
        )
    )
    assert (where.latitude, where.longitude, where.label) == (30.27, 120.15, "幸福家园")

    event = from_official_account(_message(MsgType="event", Event="CLICK", EventKey="BILL"))
    assert (event.kind, event.event, event.event_key) == ("event", "click", "BILL")
    assert event.dedupe_key == "o-1:1700000000:click:BILL"
    subscribe = from_official_account(_message(MsgType="event", Event="subscribe"))
    assert subscribe.dedupe_key == "o-1:1700000000:subscribe:"
    link = from_official_account(
        _message(MsgType="event", Event="VIEW", EventKey="https://example.com/" + "a" * 500)
    )
    assert link.dedupe_key.startswith("o-1:1700000000:h") and len(link.dedupe_key) < 60

    assert from_official_account(_message(MsgType="shortvideo", MsgId="46")).kind == "unknown"


@pytest.mark.parametrize(
    "fields",
    [
        {"MsgType": "text", "Content": "x"},
        _message(MsgType="text", Content="no id"),
        {**_message(MsgType="text", MsgId="1"), "CreateTime": "yesterday"},
        _message(MsgType="location", Location_X="north", Location_Y="1", MsgId="2"),
        _message(MsgType="location", Location_X="nan", Location_Y="1", MsgId="3"),
        _message(MsgType="location", Location_X="91", Location_Y="1", MsgId="4"),
        {**_message(MsgType="event", Event="subscribe"), "CreateTime": "9" * 40},
    ],
)
def test_incomplete_messages_are_refused(fields: dict[str, str]) -> None:
    with pytest.raises(MalformedMessage):
        from_official_account(fields)
