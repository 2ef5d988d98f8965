"""The Rasa action endpoint: rasa-sdk's executor mounted in the app.

Rasa calls `POST /rasa/webhook` (bot/endpoints.yml); this mirrors rasa-sdk's own
Sanic endpoint so the actions run in the app process, next to the property services.
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
    expected = get_settings().action_endpoint_token
    if expected is None:
        return
    given = request.query_params.get("token", "")
    if not secrets.compare_digest(given, expected.get_secret_value()):
        raise HTTPException(status_code=401, detail="invalid action endpoint token")


@router.post("/webhook")
async def webhook(request: Request) -> JSONResponse:
    _authorise(request)
    body = await request.body()
    if request.headers.get("content-encoding") == "deflate":
        body = zlib.decompress(body)
    try:
        action_call: dict[str, Any] = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
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
def list_actions() -> list[dict[str, Any]]:
    return [item.model_dump() for item in executor().list_actions()]
