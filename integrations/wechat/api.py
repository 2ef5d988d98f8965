"""WeChat's and WeCom's server APIs (async): access token, customer-service, template and
app messages, media, the group-robot webhook.

The access token is shared by all workers through the key-value store and refreshed by
one of them under a lock; calls are retried with exponential backoff.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import httpx

from integrations.wechat.text import split_message

TOKEN_ERRORS = {40001, 40014, 42001}
BUSY_ERRORS = {-1, 45009, 45033}


class Store(Protocol):
    async def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool: ...
    async def set(self, key: str, value: str, ttl_seconds: float) -> None: ...
    async def get(self, key: str) -> str | None: ...
    async def delete(self, key: str) -> None: ...


class WeChatAPIError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class TokenAPI:
    """A WeChat-style API that authenticates with `?access_token=`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        store: Store,
        *,
        base_url: str,
        token_path: str,
        token_params: dict[str, str],
        name: str,
        attempts: int = 3,
        backoff_seconds: float = 0.5,
    ) -> None:
        self.http = http
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.token_path = token_path
        self.token_params = token_params
        self.token_key = f"wechat:token:{name}"
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds

    @classmethod
    def official_account(
        cls,
        http: httpx.AsyncClient,
        store: Store,
        *,
        base_url: str,
        app_id: str,
        app_secret: str,
        **kwargs: Any,
    ) -> TokenAPI:
        return cls(
            http,
            store,
            base_url=base_url,
            token_path="/cgi-bin/token",
            token_params={"grant_type": "client_credential", "appid": app_id, "secret": app_secret},
            name=f"oa:{app_id}",
            **kwargs,
        )

    @classmethod
    def wecom(
        cls,
        http: httpx.AsyncClient,
        store: Store,
        *,
        base_url: str,
        corp_id: str,
        corp_secret: str,
        **kwargs: Any,
    ) -> TokenAPI:
        return cls(
            http,
            store,
            base_url=base_url,
            token_path="/cgi-bin/gettoken",
            token_params={"corpid": corp_id, "corpsecret": corp_secret},
            name=f"wecom:{corp_id}",
            **kwargs,
        )

    async def access_token(self, *, stale: str | None = None) -> str:
        """The cached token, or a new one when there is none or `stale` was refused."""
        cached = await self.store.get(self.token_key)
        if cached and cached != stale:
            return cached
        lock = self.token_key + ":lock"
        if await self.store.set_if_absent(lock, "1", 10):
            try:
                data = await self._request("GET", self.token_path, params=self.token_params)
                token = str(data["access_token"])
                ttl = max(60, int(data.get("expires_in", 7200)) - 300)
                await self.store.set(self.token_key, token, ttl)
                return token
            finally:
                await self.store.delete(lock)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # another worker is refreshing it
            await asyncio.sleep(0.05)
            cached = await self.store.get(self.token_key)
            if cached and cached != stale:
                return cached
        raise WeChatAPIError(-1, "timed out waiting for the access token")

    async def call(
        self, method: str, path: str, *, body: Any = None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        token = await self.access_token()
        for _ in range(2):
            try:
                return await self._request(
                    method, path, body=body, params={**(params or {}), "access_token": token}
                )
            except WeChatAPIError as error:
                if error.errcode not in TOKEN_ERRORS:
                    raise
                token = await self.access_token(stale=token)
        return await self._request(
            method, path, body=body, params={**(params or {}), "access_token": token}
        )

    async def download(self, path: str, params: dict[str, str]) -> bytes:
        token = await self.access_token()
        response = await self._send("GET", path, params={**params, "access_token": token})
        if response.headers.get("content-type", "").startswith(("application/json", "text/")):
            _raise_for_errcode(response.json())
        return response.content

    async def _request(
        self, method: str, path: str, *, body: Any = None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        for attempt in range(self.attempts):
            response = await self._send(method, path, body=body, params=params)
            data = response.json()
            errcode = int(data.get("errcode", 0) or 0)
            if errcode in BUSY_ERRORS and attempt + 1 < self.attempts:
                await asyncio.sleep(self.backoff_seconds * 2**attempt)
                continue
            _raise_for_errcode(data)
            return data
        raise AssertionError("unreachable")

    async def _send(
        self, method: str, path: str, *, body: Any = None, params: dict[str, str] | None = None
    ) -> httpx.Response:
        url = path if path.startswith("http") else self.base_url + path
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"} if content else {}
        error: Exception | None = None
        for attempt in range(self.attempts):
            try:
                response = await self.http.request(
                    method, url, params=params, content=content, headers=headers, timeout=5
                )
                if response.status_code < 500:
                    response.raise_for_status()
                    return response
                error = httpx.HTTPStatusError(
                    f"HTTP {response.status_code}", request=response.request, response=response
                )
            except httpx.TransportError as transport_error:
                error = transport_error
            if attempt + 1 < self.attempts:
                await asyncio.sleep(self.backoff_seconds * 2**attempt)
        raise WeChatAPIError(-2, f"{method} {path} failed: {error}")


def _raise_for_errcode(data: dict[str, Any]) -> None:
    errcode = int(data.get("errcode", 0) or 0)
    if errcode:
        raise WeChatAPIError(errcode, str(data.get("errmsg", "")))


class OfficialAccountAPI:
    def __init__(self, api: TokenAPI) -> None:
        self.api = api

    async def send_text(self, openid: str, text: str) -> None:
        """Customer-service text messages (inside the 48-hour window), split to fit."""
        for part in split_message(text):
            await self.api.call(
                "POST",
                "/cgi-bin/message/custom/send",
                body={"touser": openid, "msgtype": "text", "text": {"content": part}},
            )

    async def send_template(
        self, openid: str, template_id: str, data: dict[str, str], url: str | None = None
    ) -> None:
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {k: {"value": v} for k, v in data.items()},
        }
        if url:
            body["url"] = url
        await self.api.call("POST", "/cgi-bin/message/template/send", body=body)

    async def download_media(self, media_id: str) -> bytes:
        return await self.api.download("/cgi-bin/media/get", {"media_id": media_id})


class WeComAppAPI:
    def __init__(self, api: TokenAPI, agent_id: str) -> None:
        self.api = api
        self.agent_id = agent_id

    async def send_text(self, userid: str, text: str) -> None:
        for part in split_message(text):
            await self.api.call(
                "POST",
                "/cgi-bin/message/send",
                body={
                    "touser": userid,
                    "msgtype": "text",
                    "agentid": self.agent_id,
                    "text": {"content": part},
                },
            )


class GroupRobot:
    """The staff group's robot webhook: send-only, at most `per_minute` messages a minute.

    Sends are spread over slots of 60 / (per_minute - 1) seconds, one message per slot,
    reserved in the shared store, so all workers together stay within the limit for any
    sliding minute. `wait_turn` waits for this worker's next slot; `post_markdown` then
    sends, so a caller can choose what to send once its turn has come.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        store: Store,
        webhook_url: str,
        per_minute: int = 20,
        clock: Any = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = http
        self.store = store
        self.webhook_url = webhook_url
        self.slot_seconds = 60 / max(1, per_minute - 1)
        self.clock = clock
        self.sleep = sleep

    async def reserve_slot(self) -> float:
        slot = math.floor(self.clock() / self.slot_seconds)
        while not await self.store.set_if_absent(f"robot:slot:{slot}", "1", 120):
            slot += 1
        return slot * self.slot_seconds

    async def wait_turn(self) -> None:
        """Reserve the next free slot and wait for it."""
        delay = await self.reserve_slot() - self.clock()
        if delay > 0:
            await self.sleep(delay)

    async def send_markdown(self, content: str) -> None:
        await self.wait_turn()
        await self.post_markdown(content)

    async def post_markdown(self, content: str) -> None:
        """Send now: only after `wait_turn`, or the rate limit is not kept."""
        response = await self.http.post(
            self.webhook_url,
            timeout=5,
            content=json.dumps(
                {"msgtype": "markdown", "markdown": {"content": content}}, ensure_ascii=False
            ).encode(),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        response.raise_for_status()
        _raise_for_errcode(response.json())
