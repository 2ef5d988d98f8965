"""Plays WeChat's side of the callbacks: signs and encrypts requests exactly as WeChat does,
and opens the replies. Keys and ids are those of the public vectors."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import httpx
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.work.crypto import PrpCrypto as WorkPrpCrypto

from integrations.wechat.signing import sign
from integrations.wechat.xml import parse_fields
from tests.wechat.fake_server import FakeWeChat
from tests.wechat.vectors import OA, VECTORS

BOT = VECTORS["wecom_tencent_classic_QDG6eK"]
APP = VECTORS["wecom_sbzhu_callback_Sample_py"]
OFFICIAL_ACCOUNT_ID = "gh_wuye_demo"


def wechat_settings(fake: FakeWeChat) -> dict[str, str]:
    return {
        "WECHAT_TOKEN": OA["token"],
        "WECHAT_APP_ID": OA["app_id"],
        "WECHAT_APP_SECRET": "test-app-secret",
        "WECHAT_ENCODING_AES_KEY": OA["encoding_aes_key"],
        "WECHAT_API_BASE": fake.url,
        "WECHAT_NOTICE_TEMPLATE_ID": "TEMPLATE-NOTICE",
        "WECOM_BOT_TOKEN": BOT["token"],
        "WECOM_BOT_ENCODING_AES_KEY": BOT["encoding_aes_key"],
        "WECOM_CORP_ID": APP["receive_id"],
        "WECOM_APP_TOKEN": APP["token"],
        "WECOM_APP_ENCODING_AES_KEY": APP["encoding_aes_key"],
        "WECOM_CORP_SECRET": "test-corp-secret",
        "WECOM_AGENT_ID": "1000002",
        "WECOM_API_BASE": fake.url,
        "WECOM_ROBOT_WEBHOOK_URL": f"{fake.url}/cgi-bin/webhook/send?key=staff-group",
        # The fake robot has no rate limit; the limiter itself is tested in tests/wechat.
        "WECOM_ROBOT_PER_MINUTE": "600",
        "RECOVERY_INTERVAL_SECONDS": "1",
        "RECOVERY_AFTER_SECONDS": "8",
    }


def message_xml(fields: dict[str, Any]) -> str:
    parts = []
    for name, value in fields.items():
        # As any XML writer does, a "]]>" inside text is split across two CDATA sections.
        cdata = str(value).replace("]]>", "]]]]><![CDATA[>")
        inner = str(value) if isinstance(value, int | float) else f"<![CDATA[{cdata}]]>"
        parts.append(f"<{name}>{inner}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


class OfficialAccountPeer:
    """WeChat posting to our Official Account callback."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str = OA["token"],
        app_id: str = OA["app_id"],
        aes_key: str = OA["encoding_aes_key"],
    ) -> None:
        self.url = base_url + "/wechat/oa"
        self.token = token
        self.app_id = app_id
        self.key = WeChatCrypto(token, aes_key, app_id).key
        self.msg_ids = iter(range(random.randrange(10**12), 10**13))

    def text(self, openid: str, content: str, **extra: Any) -> dict[str, Any]:
        return self.fields(openid, "text", Content=content, MsgId=next(self.msg_ids), **extra)

    def fields(self, openid: str, msg_type: str, **extra: Any) -> dict[str, Any]:
        return {
            "ToUserName": OFFICIAL_ACCOUNT_ID,
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": msg_type,
            **extra,
        }

    def query(self, *, timestamp: int | None = None, **extra: str) -> dict[str, str]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        nonce = str(random.randrange(10**9))
        return {
            "signature": sign(self.token, ts, nonce),
            "timestamp": ts,
            "nonce": nonce,
            "openid": "ignored",
            **extra,
        }

    def post(
        self,
        fields: dict[str, Any],
        mode: str = "aes",  # the stack has an EncodingAESKey: plain mode is refused
        *,
        timestamp: int | None = None,
        query: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> httpx.Response:
        plain = message_xml(fields)
        params = query or self.query(timestamp=timestamp)
        if mode == "plain":
            body = plain
        else:
            encrypted = PrpCrypto(self.key).encrypt(plain, self.app_id).decode()
            params = {
                **params,
                "encrypt_type": "aes",
                "msg_signature": sign(self.token, params["timestamp"], params["nonce"], encrypted),
            }
            envelope = {"ToUserName": fields["ToUserName"], "Encrypt": encrypted}
            if mode == "compatible":  # plaintext and ciphertext side by side
                envelope = {**fields, "Encrypt": encrypted}
            body = message_xml(envelope)
        return httpx.post(self.url, params=params, content=body.encode(), timeout=timeout)

    def reply(self, response: httpx.Response) -> dict[str, str]:
        """The fields of a passive reply, decrypted (and its signature checked) if encrypted."""
        response.raise_for_status()
        fields = parse_fields(response.content)
        if "Encrypt" not in fields:
            return fields
        expected = sign(self.token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
        assert fields["MsgSignature"] == expected, "reply signature does not verify"
        return parse_fields(PrpCrypto(self.key).decrypt(fields["Encrypt"], self.app_id))


class WeComBotPeer:
    """WeCom posting a group @-message to our 智能机器人 callback (encrypted JSON)."""

    def __init__(self, base_url: str) -> None:
        self.url = base_url + "/wechat/wecom-bot"
        self.token = BOT["token"]
        self.key = WeChatCrypto(self.token, BOT["encoding_aes_key"], "").key

    def signed_query(self, encrypted: str) -> dict[str, str]:
        ts, nonce = str(int(time.time())), str(random.randrange(10**9))
        return {
            "msg_signature": sign(self.token, ts, nonce, encrypted),
            "timestamp": ts,
            "nonce": nonce,
        }

    def post(self, payload: dict[str, Any]) -> httpx.Response:
        encrypted = (
            WorkPrpCrypto(self.key).encrypt(json.dumps(payload, ensure_ascii=False), "").decode()
        )
        return httpx.post(
            self.url, params=self.signed_query(encrypted), json={"encrypt": encrypted}, timeout=30
        )

    def reply(self, response: httpx.Response) -> dict[str, Any]:
        response.raise_for_status()
        body = response.json()
        assert body["msgsignature"] == sign(
            self.token, str(body["timestamp"]), body["nonce"], body["encrypt"]
        )
        return json.loads(WorkPrpCrypto(self.key).decrypt(body["encrypt"], ""))

    def verify(self) -> httpx.Response:
        echo = WorkPrpCrypto(self.key).encrypt("echo-123", "").decode()
        return httpx.get(self.url, params={**self.signed_query(echo), "echostr": echo})
