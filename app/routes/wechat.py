"""WeChat callbacks: the Official Account, the WeCom group robot and the WeCom staff app.

Every rejection is a 4xx with one log line; nothing is processed twice; no 500s. A request
is checked (signature, freshness, mode, decryption, message shape) and its nonce admitted
(`integrations/wechat/replay.py`) before anything is written to the message log.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from app.conversations.router import UNSUPPORTED, Answer
from app.wiring import Wiring
from integrations.wechat.errors import ChannelError, NotConfigured, OversizeBody
from integrations.wechat.messages import Incoming, from_official_account
from integrations.wechat.replay import NonceMemory
from integrations.wechat.wecom import bot_incoming

router = APIRouter(prefix="/wechat", tags=["wechat"])
log = structlog.get_logger(__name__)
XML = "application/xml; charset=utf-8"


def _wiring(request: Request) -> Wiring:
    return request.app.state.wiring


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise OversizeBody(f"declared {declared} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise OversizeBody(f"more than {limit} bytes")
    return bytes(body)


def _rejected(request: Request, error: ChannelError) -> Response:
    log.warning(
        "wechat_rejected",
        path=request.url.path,
        reason=error.reason,
        detail=str(error)[:200],
        client=request.client.host if request.client else None,
    )
    return PlainTextResponse(f"{error.reason}: {error.message}", status_code=error.status_code)


async def _admit(request: Request, channel: str, message: Mapping[str, Any]) -> None:
    wiring = _wiring(request)
    memory = NonceMemory(wiring.kv, wiring.settings.signature_max_age_seconds)
    await memory.admit(channel, request.query_params, message)


CONFIG_HINTS = {
    "official_account": "WECHAT_TOKEN / WECHAT_APP_ID",
    "wecom_bot": "WECOM_BOT_TOKEN / WECOM_BOT_ENCODING_AES_KEY",
    "wecom_app": "WECOM_CORP_ID / WECOM_APP_TOKEN / WECOM_APP_ENCODING_AES_KEY",
}


def _channel(request: Request, name: str) -> Any:
    channel = getattr(_wiring(request), name)
    if channel is None:
        raise NotConfigured(f"{CONFIG_HINTS[name]} not set")
    return channel


def _verify(request: Request, name: str) -> Response:
    """The GET each platform sends when the callback URL is configured."""
    try:
        return PlainTextResponse(_channel(request, name).verify_url(request.query_params))
    except ChannelError as error:
        return _rejected(request, error)


async def _answer(request: Request, incoming: Incoming) -> Answer:
    settings = _wiring(request).settings
    return await _wiring(request).router.handle(incoming, settings.reply_deadline_seconds)


async def _xml_reply(
    request: Request, incoming: Incoming, render: Callable[[str, str], str]
) -> Response:
    """A passive XML reply rendered by `render(text, nonce)`, or `success` when deferred."""
    try:
        answer = await _answer(request, incoming)
    except ChannelError as error:
        return _rejected(request, error)
    if answer.deferred or not answer.replies:
        return PlainTextResponse("success")
    nonce = request.query_params.get("nonce", "")
    return Response(render(answer.replies[0], nonce), media_type=XML)


@router.get("/oa")
async def official_account_verify(request: Request) -> Response:
    return _verify(request, "official_account")


@router.post("/oa")
async def official_account_message(request: Request) -> Response:
    try:
        account = _channel(request, "official_account")
        body = await _body(request, _wiring(request).settings.max_body_bytes)
        fields, encrypted = account.open(request.query_params, body)
        incoming = from_official_account(fields)
        await _admit(request, incoming.channel, fields)
    except ChannelError as error:
        return _rejected(request, error)
    return await _xml_reply(
        request,
        incoming,
        lambda text, nonce: account.render_reply(fields, text, encrypted=encrypted, nonce=nonce),
    )


@router.get("/wecom-bot")
async def wecom_bot_verify(request: Request) -> Response:
    return _verify(request, "wecom_bot")


@router.post("/wecom-bot")
async def wecom_bot_message(request: Request) -> Response:
    try:
        bot = _channel(request, "wecom_bot")
        body = await _body(request, _wiring(request).settings.max_body_bytes)
        message = bot.open(request.query_params, body)
        incoming = bot_incoming(message)
        await _admit(request, incoming.channel, message)
        answer = await _answer(request, incoming)
    except ChannelError as error:
        return _rejected(request, error)
    if answer.deferred or not answer.replies:
        return PlainTextResponse("")
    text = answer.replies[0]
    if incoming.group and text != UNSUPPORTED:
        text = f"@{incoming.sender_name or incoming.sender} {text}"
    payload: dict[str, Any] = {
        "msgtype": "stream",
        "stream": {"id": uuid.uuid4().hex, "finish": True, "content": text},
    }
    return JSONResponse(bot.encrypt_reply(payload, request.query_params.get("nonce")))


@router.get("/wecom-app")
async def wecom_app_verify(request: Request) -> Response:
    return _verify(request, "wecom_app")


@router.post("/wecom-app")
async def wecom_app_message(request: Request) -> Response:
    try:
        app = _channel(request, "wecom_app")
        body = await _body(request, _wiring(request).settings.max_body_bytes)
        fields, incoming = app.open(request.query_params, body)
        await _admit(request, incoming.channel, fields)
    except ChannelError as error:
        return _rejected(request, error)
    return await _xml_reply(
        request, incoming, lambda text, nonce: app.render_reply(fields, text, nonce)
    )
