"""Local stand-ins for Tencent Cloud SMS and Aliyun SMS: each checks the request's signature
the way the provider does and answers in the provider's format (success and error codes).
What was delivered is recorded so a test can read the code a resident received."""

from __future__ import annotations

import calendar
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from integrations.sms.aliyun import rpc_signature
from integrations.sms.tencent import tc3_signature
from scripts.stack import free_port
from tests.local_server import serving

TENCENT_SECRET_ID = "AKIDfakeTencentSecretId0001"
TENCENT_SECRET_KEY = "fake-tencent-secret-key-0123456789"
TENCENT_APP_ID = "1400006666"
ALIYUN_KEY_ID = "LTAIfakeAliyunKeyId01"
ALIYUN_KEY_SECRET = "fake-aliyun-key-secret-0123456789"
SIGN_NAME = "幸福家园物业"
TEMPLATE = "1234567"
AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/sms/tc3_request, "
    r"SignedHeaders=(?P<headers>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


@dataclass
class FakeSms:
    port: int = field(default_factory=free_port)
    delivered: list[tuple[str, str]] = field(default_factory=list)  # (phone, code)
    refused: list[str] = field(default_factory=list)  # error codes answered
    fail_next: list[str] = field(default_factory=list)  # per-number error codes to answer
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def codes_to(self, phone: str) -> list[str]:
        with self.lock:
            return [code for to, code in self.delivered if to == phone]

    def reset(self) -> None:
        with self.lock:
            self.delivered.clear()
            self.refused.clear()
            self.fail_next.clear()

    def _refuse(self, code: str) -> None:
        with self.lock:
            self.refused.append(code)

    def _next_failure(self) -> str | None:
        with self.lock:
            return self.fail_next.pop(0) if self.fail_next else None

    def app(self) -> FastAPI:
        raise NotImplementedError


class FakeTencentSms(FakeSms):
    """`POST /` with X-TC-Action: SendSms, answered as API 3.0 does."""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/")
        async def api(request: Request) -> JSONResponse:
            payload = await request.body()
            error = self._check(request, payload)
            if error is not None:
                self._refuse(error[0])
                return _tencent({"Error": {"Code": error[0], "Message": error[1]}})
            body = json.loads(payload)
            phone = body["PhoneNumberSet"][0]
            failure = self._next_failure()
            if failure is not None:
                self._refuse(failure)
                status = {"Code": failure, "Message": "refused by the fake", "PhoneNumber": phone}
            else:
                with self.lock:
                    self.delivered.append((phone.removeprefix("+86"), body["TemplateParamSet"][0]))
                status = {
                    "SerialNo": uuid.uuid4().hex,
                    "PhoneNumber": phone,
                    "Fee": 1,
                    "SessionContext": "",
                    "Code": "Ok",
                    "Message": "send success",
                    "IsoCode": "CN",
                }
            return _tencent({"SendStatusSet": [status]})

        return app

    def _check(self, request: Request, payload: bytes) -> tuple[str, str] | None:
        headers = request.headers
        if headers.get("x-tc-action") != "SendSms" or headers.get("x-tc-version") != "2021-01-11":
            return ("InvalidAction", "未知的接口或版本。")
        found = AUTHORIZATION.fullmatch(headers.get("authorization", ""))
        if found is None:
            return ("AuthFailure.InvalidAuthorization", "Authorization 格式不正确。")
        if found["id"] != TENCENT_SECRET_ID:
            return ("AuthFailure.SecretIdNotFound", "密钥不存在。")
        timestamp = int(headers.get("x-tc-timestamp", "0"))
        if abs(time.time() - timestamp) > 300:
            return ("AuthFailure.SignatureExpire", "签名过期。")
        signed = found["headers"]
        if "content-type" not in signed.split(";") or "host" not in signed.split(";"):
            return (
                "AuthFailure.InvalidAuthorization",
                "SignedHeaders 必须包含 content-type 和 host。",
            )
        expected = tc3_signature(
            TENCENT_SECRET_KEY,
            host=headers.get("host", ""),
            payload=payload,
            timestamp=timestamp,
            signed_headers=signed,
        )
        if found["signature"] != expected or headers.get("content-type") != (
            "application/json; charset=utf-8"
        ):
            return ("AuthFailure.SignatureFailure", "请求签名验证失败。")
        body = json.loads(payload)
        if body.get("SmsSdkAppId") != TENCENT_APP_ID:
            return ("FailedOperation.SmsSdkAppIdVerifyFail", "SdkAppId 校验失败。")
        if body.get("SignName") != SIGN_NAME or body.get("TemplateId") != TEMPLATE:
            return ("FailedOperation.SignatureIncorrectOrUnapproved", "签名或模板未审批。")
        return None


def _tencent(response: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"Response": {**response, "RequestId": str(uuid.uuid4())}})


class FakeAliyunSms(FakeSms):
    """The dysmsapi RPC endpoint: form-encoded `SendSms`, signature version 1.0."""

    def __init__(self) -> None:
        super().__init__()
        self.nonces: set[str] = set()

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/")
        async def api(request: Request) -> JSONResponse:
            params = {k: str(v) for k, v in (await request.form()).items()}
            error = self._check(params)
            if error is not None:
                status, code, message = error
                self._refuse(code)
                return _aliyun(code, message, status)
            failure = self._next_failure()
            if failure is not None:
                self._refuse(failure)
                return _aliyun(failure, "触发号码天级流控Permits:10")
            with self.lock:
                self.delivered.append(
                    (params["PhoneNumbers"], json.loads(params["TemplateParam"])["code"])
                )
            return _aliyun("OK", "OK", biz_id=f"{int(time.time())}^0")

        return app

    def _check(self, params: dict[str, str]) -> tuple[int, str, str] | None:
        if params.get("Action") != "SendSms" or params.get("Version") != "2017-05-25":
            return (400, "InvalidAction.NotFound", "Specified api is not found.")
        if params.get("AccessKeyId") != ALIYUN_KEY_ID:
            return (404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        if params.get("SignatureMethod") != "HMAC-SHA1" or params.get("SignatureVersion") != "1.0":
            return (400, "InvalidSignatureMethod", "Specified signature method is not supported.")
        signature = params.pop("Signature", "")
        if signature != rpc_signature(ALIYUN_KEY_SECRET, "POST", params):
            return (
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
            )
        try:
            stamp = calendar.timegm(time.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ"))
        except (KeyError, ValueError):
            return (400, "InvalidTimeStamp.Format", "Specified time stamp is not valid.")
        if abs(time.time() - stamp) > 15 * 60:
            return (
                400,
                "InvalidTimeStamp.Expired",
                "Specified time stamp or date value is expired.",
            )
        nonce = params.get("SignatureNonce", "")
        with self.lock:
            if not nonce or nonce in self.nonces:
                return (400, "SignatureNonceUsed", "Specified signature nonce was used already.")
            self.nonces.add(nonce)
        if params.get("SignName") != SIGN_NAME:
            return (200, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        if params.get("TemplateCode") != TEMPLATE:
            return (200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        if not re.fullmatch(r"1\d{10}", params.get("PhoneNumbers", "")):
            return (200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        return None


def _aliyun(code: str, message: str, status: int = 200, biz_id: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"Code": code, "Message": message, "RequestId": str(uuid.uuid4())}
    if biz_id is not None:
        body["BizId"] = biz_id
    return JSONResponse(body, status_code=status)


@contextmanager
def running(fake: FakeSms) -> Iterator[FakeSms]:
    with serving(fake.app(), fake.port):
        yield fake


def tencent_settings(fake: FakeSms) -> dict[str, str]:
    """The app's environment for Tencent Cloud SMS pointed at `fake`."""
    return {
        "SMS_PROVIDER": "tencent",
        "TENCENT_SMS_SECRET_ID": TENCENT_SECRET_ID,
        "TENCENT_SMS_SECRET_KEY": TENCENT_SECRET_KEY,
        "TENCENT_SMS_SDK_APP_ID": TENCENT_APP_ID,
        "TENCENT_SMS_SIGN_NAME": SIGN_NAME,
        "TENCENT_SMS_TEMPLATE_ID": TEMPLATE,
        "TENCENT_SMS_BASE_URL": fake.url,
    }
