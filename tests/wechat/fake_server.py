"""A local stand-in for WeChat's and WeCom's servers, speaking their HTTP protocol.

Started by the tests on a free port; records every call so tests can assert on what
residents and staff would have received.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from scripts.stack import free_port
from tests.local_server import serving

# Where pushes land: a customer-service message to a resident; the staff group robot.
CUSTOM = "/cgi-bin/message/custom/send"
ROBOT = "/cgi-bin/webhook/send"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@dataclass
class FakeWeChat:
    port: int = field(default_factory=free_port)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tokens_issued: list[str] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)  # HTTP statuses to answer first
    revoked: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sent(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [body for p, body in self.calls if p == path]

    def wait_for(
        self, path: str, predicate: Any = lambda _: True, timeout: float = 20
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for body in self.sent(path):
                if predicate(body):
                    return body
            time.sleep(0.05)
        raise AssertionError(f"nothing matching was sent to {path}; calls: {self.calls}")

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()

    def app(self) -> FastAPI:
        app = FastAPI()

        def issue() -> JSONResponse:
            token = secrets.token_hex(8)
            with self.lock:
                self.tokens_issued.append(token)
            return JSONResponse({"access_token": token, "expires_in": 7200})

        def checked(request: Request) -> JSONResponse | None:
            with self.lock:
                if self.fail_next:
                    return JSONResponse({"errmsg": "busy"}, status_code=self.fail_next.pop(0))
            token = request.query_params.get("access_token")
            if token not in self.tokens_issued or token in self.revoked:
                return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
            return None

        async def record(request: Request) -> JSONResponse:
            refusal = checked(request)
            if refusal is not None:
                return refusal
            body = json.loads(await request.body() or b"{}")
            with self.lock:
                self.calls.append((request.url.path, body))
            return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": len(self.calls)})

        @app.get("/cgi-bin/token")
        def oa_token(grant_type: str, appid: str, secret: str) -> JSONResponse:
            return issue()

        @app.get("/cgi-bin/gettoken")
        def wecom_token(corpid: str, corpsecret: str) -> JSONResponse:
            return issue()

        for path in (
            "/cgi-bin/message/custom/send",
            "/cgi-bin/message/template/send",
            "/cgi-bin/message/send",
        ):
            app.post(path)(record)

        @app.get("/cgi-bin/media/get")
        def media(request: Request, media_id: str) -> Response:
            refusal = checked(request)
            return refusal or Response(PNG, media_type="image/png")

        @app.post("/cgi-bin/webhook/send")
        async def webhook(request: Request, key: str) -> JSONResponse:
            body = json.loads(await request.body())  # not awaited under the lock
            with self.lock:
                self.calls.append((request.url.path, body))
            return JSONResponse({"errcode": 0, "errmsg": "ok"})

        return app


@contextmanager
def running_fake_wechat() -> Iterator[FakeWeChat]:
    fake = FakeWeChat()
    with serving(fake.app(), fake.port):
        yield fake
