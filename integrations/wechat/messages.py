"""One shape for every incoming message, whichever channel it came through."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from integrations.wechat.errors import MalformedMessage

KINDS = ("text", "voice", "image", "location", "event", "unknown")

# OpenIDs are 28 characters of [A-Za-z0-9_-]; WeCom UserIDs are up to 64 of letters,
# digits and "_-.@". Anything else is not WeChat speaking.
OPENID = re.compile(r"[A-Za-z0-9_\-.@]{1,64}")


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
        created_at = int(fields["CreateTime"])
    except (KeyError, ValueError) as error:
        raise MalformedMessage(f"missing or bad field: {error}") from None
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
        return Incoming(
            kind="event",
            dedupe_key=f"{sender}:{created_at}",
            event=fields.get("Event", "").strip().lower(),
            event_key=fields.get("EventKey") or None,
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
        return Incoming(
            kind="location",
            latitude=latitude,
            longitude=longitude,
            label=fields.get("Label") or None,
            **common,
        )
    return Incoming(kind="unknown", **common)
