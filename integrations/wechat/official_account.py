"""The Official Account (公众号) callback protocol: plain, compatible and safe (AES) modes."""

from __future__ import annotations

import binascii
import time
from collections.abc import Callable, Mapping

from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException

from integrations.wechat import signing
from integrations.wechat.errors import MalformedMessage, WrongReceiver
from integrations.wechat.xml import parse_fields, render_text_reply


class OfficialAccount:
    def __init__(
        self,
        token: str,
        app_id: str,
        encoding_aes_key: str | None,
        max_age_seconds: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.clock = clock
        self.app_id = app_id
        self.max_age_seconds = max_age_seconds
        self._crypto = WeChatCrypto(token, encoding_aes_key, app_id) if encoding_aes_key else None

    def verify_url(self, query: Mapping[str, str]) -> str:
        """The GET WeChat sends when the URL is configured: answer `echostr` if it is signed."""
        self._check_request(query)
        return query.get("echostr", "")

    def open(self, query: Mapping[str, str], body: bytes) -> tuple[dict[str, str], bool]:
        """The message fields, and whether the exchange is encrypted (reply encrypted too)."""
        self._check_request(query)
        fields = parse_fields(body)
        if query.get("encrypt_type", "raw").lower() != "aes":
            return fields, False
        if self._crypto is None:
            raise MalformedMessage("encrypted message but WECHAT_ENCODING_AES_KEY is not set")
        encrypted = fields.get("Encrypt")
        if not encrypted:
            raise MalformedMessage("encrypt_type=aes without an <Encrypt> element")
        signing.check(
            query.get("msg_signature"), self.token, query["timestamp"], query["nonce"], encrypted
        )
        try:
            plain = PrpCrypto(self._crypto.key).decrypt(encrypted, self.app_id)
        except InvalidAppIdException:
            raise WrongReceiver("message is for another AppID") from None
        except (binascii.Error, ValueError, UnicodeDecodeError, IndexError) as error:
            raise MalformedMessage(f"cannot decrypt: {type(error).__name__}") from None
        return parse_fields(plain), True

    def render_reply(
        self, fields: Mapping[str, str], text: str, *, encrypted: bool, nonce: str
    ) -> str:
        reply = render_text_reply(fields, text, int(self.clock()))
        if encrypted and self._crypto is not None:
            return self._crypto.encrypt_message(reply, nonce)
        return reply

    def _check_request(self, query: Mapping[str, str]) -> None:
        signing.check_fresh(query.get("timestamp"), self.max_age_seconds, self.clock())
        signing.check(
            query.get("signature"), self.token, query.get("timestamp", ""), query.get("nonce", "")
        )
