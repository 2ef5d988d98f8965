"""The Official Account (公众号) callback protocol: plain, compatible and safe (AES) modes.

With an EncodingAESKey configured only safe and compatible mode (`encrypt_type=aes` and a
`msg_signature` over the ciphertext) are accepted: the plain `signature` covers timestamp and
nonce only, so a plain-mode body could be anything under a copied callback URL. Without a key
(development, accounts left in plain mode) plain mode is served as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from wechatpy.crypto import PrpCrypto, WeChatCrypto

from integrations.wechat import aes, signing
from integrations.wechat.errors import MalformedMessage, PlainModeRefused
from integrations.wechat.messages import from_official_account
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

    @property
    def safe_mode_only(self) -> bool:
        return self._crypto is not None

    def verify_url(self, query: Mapping[str, str]) -> str:
        """The GET WeChat sends when the URL is configured: answer `echostr` if it is signed
        (plain signature in every mode: the echostr of an Official Account is not encrypted)."""
        self._check_request(query)
        return query.get("echostr", "")

    def open(self, query: Mapping[str, str], body: bytes) -> tuple[dict[str, str], bool]:
        """The message fields, and whether the exchange is encrypted (reply encrypted too)."""
        self._check_request(query)
        encrypted_mode = query.get("encrypt_type", "raw").lower() == "aes"
        envelope = parse_fields(body)
        if self._crypto is None:
            if encrypted_mode:
                raise MalformedMessage("encrypted message but WECHAT_ENCODING_AES_KEY is not set")
            return envelope, False
        if not encrypted_mode:
            # What is malformed is a 400 in any mode; what is well-formed is refused here,
            # before the nonce memory or the message log ever see it.
            from_official_account(envelope)
            raise PlainModeRefused("plain-mode callback while an EncodingAESKey is configured")
        signing.required(query, "msg_signature")
        encrypted = envelope.get("Encrypt")
        if not encrypted:
            raise MalformedMessage("encrypt_type=aes without an <Encrypt> element")
        signing.check(
            query["msg_signature"], self.token, query["timestamp"], query["nonce"], encrypted
        )
        plain = aes.decrypt(PrpCrypto(self._crypto.key), encrypted, self.app_id)
        return parse_fields(plain), True

    def render_reply(
        self, fields: Mapping[str, str], text: str, *, encrypted: bool, nonce: str
    ) -> str:
        reply = render_text_reply(fields, text, int(self.clock()))
        if encrypted and self._crypto is not None:
            return self._crypto.encrypt_message(reply, nonce)
        return reply

    def _check_request(self, query: Mapping[str, str]) -> None:
        signing.signed_request(query, "signature")
        signing.check_fresh(query["timestamp"], self.max_age_seconds, self.clock())
        signing.check(query["signature"], self.token, query["timestamp"], query["nonce"])
