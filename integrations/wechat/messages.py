"""One shape for every incoming message, whichever channel it came through."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any

from integrations.wechat.errors import MalformedMessage

KINDS = ("text", "voice", "image", "location", "event", "unknown")

# OpenIDs are 28 characters of [A-Za-z0-9_-]; WeCom UserIDs are up to 64 of letters,
# digits and "_-.@". Anything else is not WeChat speaking.
OPENID = re.compile(r"[A-Za-z0-9_\-.@]{1,64}")
# CreateTime is Unix seconds; a longer number is not WeChat (and would overflow the log's key).
CREATE_TIME = re.compile(r"[0-9]{1,11}")
# Event and EventKey are kept readable in the dedupe key up to this length, hashed beyond.
EVENT_LABEL_CHARS = 80


@dataclass(frozen=True)
class Incoming:
    channel: str
    sender: str
    kind: str
    dedupe_key: str
    created_at: int
    text: str | None = None
    media_id: str | None = None
    picture_url: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    label: str | None = None
    event: str | None = None
    event_key: str | None = None
    raw_type: str = ""
    receiver: str = ""
    group: str | None = None
    sender_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def from_official_account(fields: dict[str, str], channel: str = "oa") -> Incoming:
    """Normalise the fields of an Official Account (or WeCom app) XML message."""
    try:
        sender = fields["FromUserName"]
        raw_type = fields["MsgType"].strip().lower()
        created = fields["CreateTime"].strip()
    except KeyError as error:
        raise MalformedMessage(f"missing field: {error}") from None
    if not CREATE_TIME.fullmatch(created):
        raise MalformedMessage("CreateTime is not a Unix time")
    created_at = int(created)
    if not OPENID.fullmatch(sender):
        raise MalformedMessage("FromUserName is not an OpenID / UserID")
    common: dict[str, Any] = {
        "channel": channel,
        "sender": sender,
        "created_at": created_at,
        "raw_type": raw_type,
        "receiver": fields.get("ToUserName", ""),
    }
    if raw_type == "event":
        event = fields.get("Event", "").strip().lower()
        event_key = fields.get("EventKey") or None
        return Incoming(
            kind="event",
            dedupe_key=event_dedupe_key(sender, created_at, event, event_key),
            event=event,
            event_key=event_key,
            **common,
        )
    msg_id = fields.get("MsgId") or fields.get("MsgID")
    if not msg_id or len(msg_id) > 64:
        raise MalformedMessage("message without a proper MsgId")
    common["dedupe_key"] = f"{sender}:{msg_id}"
    if raw_type == "text":
        return Incoming(kind="text", text=fields.get("Content", ""), **common)
    if raw_type == "voice":
        recognition = (fields.get("Recognition") or "").strip() or None
        return Incoming(kind="voice", text=recognition, media_id=fields.get("MediaId"), **common)
    if raw_type == "image":
        return Incoming(
            kind="image",
            media_id=fields.get("MediaId"),
            picture_url=fields.get("PicUrl"),
            **common,
        )
    if raw_type == "location":
        try:
            latitude, longitude = float(fields["Location_X"]), float(fields["Location_Y"])
        except (KeyError, ValueError) as error:
            raise MalformedMessage(f"bad location: {error}") from None
        if not (math.isfinite(latitude) and math.isfinite(longitude)):
            raise MalformedMessage("bad location: not a number")
        if abs(latitude) > 90 or abs(longitude) > 180:
            raise MalformedMessage("bad location: out of range")
        return Incoming(
            kind="location",
            latitude=latitude,
            longitude=longitude,
            label=fields.get("Label") or None,
            **common,
        )
    return Incoming(kind="unknown", **common)


def event_dedupe_key(sender: str, created_at: int, event: str, event_key: str | None) -> str:
    """WeChat's advice is FromUserName+CreateTime, but a 关注 and a menu CLICK (or two
    clicks) in the same second are different events: Event and EventKey are part of the key.
    A retry repeats all four, so it still dedupes to one."""
    label = f"{event}:{event_key or ''}"
    if len(label) > EVENT_LABEL_CHARS:
        label = "h" + hashlib.sha256(label.encode("utf-8")).hexdigest()[:32]
    return f"{sender}:{created_at}:{label}"
