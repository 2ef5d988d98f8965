"""The Rasa action endpoint: rasa-sdk's executor mounted in the app.

Rasa calls `POST /rasa/webhook?token=…` (bot/endpoints.yml) on the action listener (never
the public one, see `app.listeners`); this mirrors rasa-sdk's own Sanic endpoint so the
actions run in the app process, next to the property services. Without a configured
token nothing is served: a forged tracker would act as any resident.
"""

from __future__ import annotations

import json
import secrets
import zlib
from functools import lru_cache
from typing import Any

import structlog
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import (
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
)

from app.settings import get_settings

router = APIRouter(prefix="/rasa", tags=["rasa"])
log = structlog.get_logger(__name__)


@lru_cache
def executor() -> ActionExecutor:
    action_executor = ActionExecutor()
    action_executor.register_package("actions")
    return action_executor


def _authorise(request: Request) -> None:
    token = get_settings().action_endpoint_token
    expected = token.get_secret_value().encode() if token else b""
    given = request.query_params.get("token", "").encode()
    if not expected or not secrets.compare_digest(given, expected):
        raise HTTPException(status_code=401, detail="invalid action endpoint token")


def _inflate(body: bytes, limit: int) -> bytes:
    """Rasa compresses action calls with zlib; a small bomb must not expand without bound."""
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(body, limit)
    except zlib.error:
        raise HTTPException(status_code=400, detail="invalid deflate body") from None
    if inflater.unconsumed_tail:
        raise HTTPException(status_code=413, detail="请求内容过大。")
    return inflated


@router.post("/webhook")
async def webhook(request: Request) -> JSONResponse:
    _authorise(request)
    body = await request.body()
    encoding = request.headers.get("content-encoding", "identity").lower()
    if encoding == "deflate":
        body = _inflate(body, get_settings().action_max_body_bytes)
    elif encoding != "identity":
        return JSONResponse({"error": f"unsupported encoding {encoding}"}, status_code=415)
    try:
        action_call: dict[str, Any] = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return JSONResponse({"error": "Invalid body request"}, status_code=400)
    if not isinstance(action_call, dict):
        return JSONResponse({"error": "Invalid body request"}, status_code=400)
    try:
        result = await executor().run(action_call)
    except ActionExecutionRejection as e:
        return JSONResponse({"error": e.message, "action_name": e.action_name}, status_code=400)
    except ActionNotFoundException as e:
        log.error("action_not_found", action=e.action_name)
        return JSONResponse({"error": e.message, "action_name": e.action_name}, status_code=404)
    except ActionMissingDomainException as e:
        return JSONResponse({"error": e.message, "action_name": e.action_name}, status_code=449)
    return JSONResponse(result.model_dump() if result else None)


@router.get("/actions")
def list_actions(request: Request) -> list[dict[str, Any]]:
    _authorise(request)
    return [item.model_dump() for item in executor().list_actions()]
