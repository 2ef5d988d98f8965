"""WeCom (企业微信): the group 智能机器人 (encrypted JSON) and the staff app (encrypted XML)."""

from __future__ import annotations

import binascii
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from wechatpy.utils import random_string
from wechatpy.work.crypto import PrpCrypto, WeChatCrypto
from wechatpy.work.exceptions import InvalidCorpIdException

from integrations.wechat import signing
from integrations.wechat.errors import MalformedMessage, WrongReceiver
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

    def decrypt(self, query: Mapping[str, str], encrypted: str) -> str:
        signing.check_fresh(query.get("timestamp"), self.max_age_seconds, self.clock())
        signing.check(
            query.get("msg_signature"),
            self.token,
            query.get("timestamp", ""),
            query.get("nonce", ""),
            encrypted,
        )
        try:
            return PrpCrypto(self.crypto.key).decrypt(encrypted, self.receive_id)
        except InvalidCorpIdException:
            raise WrongReceiver("message is for another receiver") from None
        except (binascii.Error, ValueError, UnicodeDecodeError, IndexError) as error:
            raise MalformedMessage(f"cannot decrypt: {type(error).__name__}") from None

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
        except (ValueError, KeyError, TypeError) as error:
            raise MalformedMessage(f"not an encrypted JSON callback: {error}") from None
        try:
            message = json.loads(self._crypto.decrypt(query, encrypted))
        except ValueError as error:
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


def bot_incoming(message: Mapping[str, Any]) -> Incoming:
    """Normalise a 智能机器人 callback; the @mention of the bot is removed from the text."""
    try:
        sender = str(message["from"]["userid"])
        msg_id = str(message["msgid"])
        msg_type = str(message["msgtype"]).lower()
    except (KeyError, TypeError) as error:
        raise MalformedMessage(f"missing field: {error}") from None
    if not OPENID.fullmatch(sender) or len(msg_id) > 100:
        raise MalformedMessage("from.userid or msgid is not WeCom's")
    text = None
    if msg_type == "text":
        content = str((message.get("text") or {}).get("content", ""))
        text = " ".join(word for word in content.split() if not word.startswith("@")) or content
    elif msg_type == "voice":
        text = str((message.get("voice") or {}).get("content", "")) or None
    kind = msg_type if msg_type in ("text", "voice", "image") else "unknown"
    return Incoming(
        channel="wecom-bot",
        sender=sender,
        kind=kind,
        dedupe_key=f"{sender}:{msg_id}",
        created_at=int(message.get("create_time") or time.time()),
        text=text,
        picture_url=(message.get("image") or {}).get("url"),
        raw_type=msg_type,
        group=message.get("chatid") if message.get("chattype") == "group" else None,
        sender_name=(message.get("from") or {}).get("name"),
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
