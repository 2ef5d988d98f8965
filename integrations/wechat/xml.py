"""Parsing WeChat's XML safely: no DTDs, no entities (billion laughs, XXE), flat fields."""

from __future__ import annotations

from collections.abc import Mapping
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from wechatpy.replies import TextReply

from integrations.wechat.errors import MalformedMessage
from integrations.wechat.text import sanitise


def parse_fields(body: bytes | str) -> dict[str, str]:
    """The text of each child of the root <xml> element; nested elements keep their children."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as error:
        raise MalformedMessage(f"{type(error).__name__}: {error}") from None
    if root.tag != "xml":
        raise MalformedMessage(f"root element is <{root.tag}>, not <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if len(child):
            for grandchild in child:
                fields[f"{child.tag}.{grandchild.tag}"] = (grandchild.text or "").strip()
        else:
            fields[child.tag] = child.text or ""
    return fields


def render_text_reply(fields: Mapping[str, str], text: str, now: int) -> str:
    """A passive text reply to the message `fields`, bot text made safe for CDATA."""
    return TextReply(
        source=fields.get("ToUserName", ""),
        target=fields.get("FromUserName", ""),
        content=sanitise(text),
        time=now,
    ).render()
