"""Tencent Cloud SMS, API 3.0 `SendSms` (version 2021-01-11), signed with TC3-HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from integrations.sms.base import SmsError, mainland

SERVICE = "sms"
ACTION = "SendSms"
VERSION = "2021-01-11"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def tc3_signature(
    secret_key: str, *, host: str, payload: bytes, timestamp: int, signed_headers: str
) -> str:
    """The TC3-HMAC-SHA256 signature of a POST to `/` (the fake server checks with it too)."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    values = {"content-type": CONTENT_TYPE, "host": host, "x-tc-action": ACTION.lower()}
    canonical_headers = "".join(f"{name}:{values[name]}\n" for name in signed_headers.split(";"))
    canonical_request = "\n".join(
        ["POST", "/", "", canonical_headers, signed_headers, hashlib.sha256(payload).hexdigest()]
    )
    scope = f"{date}/{SERVICE}/tc3_request"
    string_to_sign = "\n".join(
        [ALGORITHM, str(timestamp), scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), SERVICE), "tc3_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class TencentCloudSms:
    secret_id: str
    secret_key: str
    sdk_app_id: str
    sign_name: str
    template_id: str
    region: str = "ap-guangzhou"
    base_url: str = "https://sms.tencentcloudapi.com"
    timeout: float = 5.0

    def send_code(self, phone: str, code: str) -> None:
        body = {
            "PhoneNumberSet": [f"+86{mainland(phone)}"],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": self.template_id,
            "TemplateParamSet": [code],
        }
        payload = json.dumps(body, ensure_ascii=False).encode()
        host = urlsplit(self.base_url).netloc
        timestamp = int(time.time())
        signature = tc3_signature(
            self.secret_key,
            host=host,
            payload=payload,
            timestamp=timestamp,
            signed_headers=SIGNED_HEADERS,
        )
        date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        headers = {
            "Authorization": (
                f"{ALGORITHM} Credential={self.secret_id}/{date}/{SERVICE}/tc3_request, "
                f"SignedHeaders={SIGNED_HEADERS}, Signature={signature}"
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": ACTION,
            "X-TC-Version": VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.region,
        }
        try:
            response = httpx.post(
                self.base_url.rstrip("/") + "/",
                content=payload,
                headers=headers,
                timeout=self.timeout,
            )
            answer = response.json()["Response"]
        except (httpx.HTTPError, ValueError, KeyError) as error:
            raise SmsError("HttpError", str(error)) from error
        if "Error" in answer:
            raise SmsError(answer["Error"].get("Code", ""), answer["Error"].get("Message", ""))
        statuses = answer.get("SendStatusSet") or [{"Code": "Empty", "Message": "no status"}]
        if statuses[0].get("Code") != "Ok":
            raise SmsError(statuses[0].get("Code", ""), statuses[0].get("Message", ""))
