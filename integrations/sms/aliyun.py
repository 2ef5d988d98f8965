"""Aliyun SMS (dysmsapi 2017-05-25) `SendSms`, an RPC call signed with HMAC-SHA1
(signature version 1.0)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import httpx

from integrations.sms.base import SmsError, mainland

VERSION = "2017-05-25"


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Aliyun's RPC signature wants it (`~` kept, space as %20)."""
    return quote(value, safe="~")


def rpc_signature(secret: str, method: str, params: dict[str, str]) -> str:
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items())
    )
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass
class AliyunSms:
    access_key_id: str
    access_key_secret: str
    sign_name: str
    template_code: str
    base_url: str = "https://dysmsapi.aliyuncs.com"
    region: str = "cn-hangzhou"
    timeout: float = 5.0

    def send_code(self, phone: str, code: str) -> None:
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": mainland(phone),
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": secrets.token_hex(16),
            "SignatureVersion": "1.0",
            "TemplateCode": self.template_code,
            "TemplateParam": json.dumps({"code": code}),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": VERSION,
        }
        params["Signature"] = rpc_signature(self.access_key_secret, "POST", params)
        try:
            response = httpx.post(
                self.base_url.rstrip("/") + "/", data=params, timeout=self.timeout
            )
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise SmsError("HttpError", str(error)) from error
        if answer.get("Code") != "OK":
            raise SmsError(str(answer.get("Code", "")), str(answer.get("Message", "")))
