"""WeCom (企业微信): the group 智能机器人 (encrypted JSON) and the staff app (encrypted XML)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from wechatpy.utils import random_string
from wechatpy.work.crypto import PrpCrypto, WeChatCrypto

from integrations.wechat import aes, signing
from integrations.wechat.errors import MalformedMessage
from integrations.wechat.messages import OPENID, Incoming, from_official_account
from integrations.wechat.xml import parse_fields, render_text_reply


class _WeComCrypto:
    """Signature check, freshness and AES for one receive id (CorpID, or "" for the bot)."""

    def __init__(
        self,
        token: str,
        encoding_aes_key: str,
        receive_id: str,
        max_age_seconds: int,
        clock: Callable[[], float],
    ) -> None:
        self.token = token
        self.receive_id = receive_id
        self.max_age_seconds = max_age_seconds
        self.clock = clock
        self.crypto = WeChatCrypto(token, encoding_aes_key, receive_id)

    def decrypt(self, query: Mapping[str, str], encrypted: object) -> str:
        signing.signed_request(query, "msg_signature")
        signing.check_fresh(query["timestamp"], self.max_age_seconds, self.clock())
        if not isinstance(encrypted, str) or not encrypted:
            raise MalformedMessage("no ciphertext")
        signing.check(
            query["msg_signature"], self.token, query["timestamp"], query["nonce"], encrypted
        )
        return aes.decrypt(PrpCrypto(self.crypto.key), encrypted, self.receive_id)

    def verify_url(self, query: Mapping[str, str]) -> str:
        return self.decrypt(query, query.get("echostr", ""))


class WeComBot:
    """The 智能机器人 in API mode: residents @ it in a group; callbacks are encrypted JSON."""

    def __init__(
        self,
        token: str,
        encoding_aes_key: str,
        max_age_seconds: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._crypto = _WeComCrypto(token, encoding_aes_key, "", max_age_seconds, clock)

    def verify_url(self, query: Mapping[str, str]) -> str:
        return self._crypto.verify_url(query)

    def open(self, query: Mapping[str, str], body: bytes) -> dict[str, Any]:
        try:
            envelope = json.loads(body)
            encrypted = envelope["encrypt"]
        except (ValueError, KeyError, TypeError, RecursionError) as error:
            raise MalformedMessage(f"not an encrypted JSON callback: {error}") from None
        try:
            message = json.loads(self._crypto.decrypt(query, encrypted))
        except (ValueError, RecursionError) as error:
            raise MalformedMessage(f"decrypted payload is not JSON: {error}") from None
        if not isinstance(message, dict):
            raise MalformedMessage("decrypted payload is not a JSON object")
        return message

    def encrypt_reply(self, payload: dict[str, Any], nonce: str | None = None) -> dict[str, Any]:
        nonce = nonce or random_string(10)
        timestamp = str(int(self._crypto.clock()))
        encrypted = (
            PrpCrypto(self._crypto.crypto.key)
            .encrypt(json.dumps(payload, ensure_ascii=False), "")
            .decode()
        )
        return {
            "encrypt": encrypted,
            "msgsignature": signing.sign(self._crypto.token, timestamp, nonce, encrypted),
            "timestamp": int(timestamp),
            "nonce": nonce,
        }


def _part(message: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = message.get(name)
    return value if isinstance(value, dict) else {}


def _optional_text(value: object) -> str | None:
    return str(value) if isinstance(value, str | int) and str(value) else None


def bot_incoming(message: Mapping[str, Any]) -> Incoming:
    """Normalise a 智能机器人 callback; the @mention of the bot is removed from the text."""
    sender = _part(message, "from").get("userid")
    msg_id, msg_type = message.get("msgid"), message.get("msgtype")
    if not all(isinstance(value, str | int) for value in (sender, msg_id, msg_type)):
        raise MalformedMessage("missing field: from.userid, msgid or msgtype")
    sender, msg_id, msg_type = str(sender), str(msg_id), str(msg_type).lower()
    if not OPENID.fullmatch(sender) or not msg_id or len(msg_id) > 100:
        raise MalformedMessage("from.userid or msgid is not WeCom's")
    created_at = str(message.get("create_time") or int(time.time()))
    if not created_at.isdigit() or len(created_at) > 11:
        raise MalformedMessage("create_time is not a Unix time")
    text = None
    if msg_type == "text":
        content = _optional_text(_part(message, "text").get("content")) or ""
        text = " ".join(word for word in content.split() if not word.startswith("@")) or content
    elif msg_type == "voice":
        text = _optional_text(_part(message, "voice").get("content"))
    kind = msg_type if msg_type in ("text", "voice", "image") else "unknown"
    return Incoming(
        channel="wecom-bot",
        sender=sender,
        kind=kind,
        dedupe_key=f"{sender}:{msg_id}",
        created_at=int(created_at),
        text=text,
        picture_url=_optional_text(_part(message, "image").get("url")),
        raw_type=msg_type,
        group=_optional_text(message.get("chatid")) if message.get("chattype") == "group" else None,
        sender_name=_optional_text(_part(message, "from").get("name")),
    )


class WeComApp:
    """A self-built WeCom app for staff: encrypted XML callbacks, receive id = CorpID."""

    def __init__(
        self,
        token: str,
        encoding_aes_key: str,
        corp_id: str,
        max_age_seconds: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._crypto = _WeComCrypto(token, encoding_aes_key, corp_id, max_age_seconds, clock)

    def verify_url(self, query: Mapping[str, str]) -> str:
        return self._crypto.verify_url(query)

    def open(self, query: Mapping[str, str], body: bytes) -> tuple[dict[str, str], Incoming]:
        envelope = parse_fields(body)
        if not envelope.get("Encrypt"):
            raise MalformedMessage("WeCom callback without <Encrypt>")
        fields = parse_fields(self._crypto.decrypt(query, envelope["Encrypt"]))
        return fields, from_official_account(fields, channel="wecom-app")

    def render_reply(self, fields: Mapping[str, str], text: str, nonce: str) -> str:
        reply = render_text_reply(fields, text, int(self._crypto.clock()))
        return self._crypto.crypto.encrypt_message(reply, nonce)
