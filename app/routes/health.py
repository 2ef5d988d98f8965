from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.deps import property_system, redis_client
from app.settings import get_settings

router = APIRouter()


def _check(probe: Any) -> dict[str, Any]:
    try:
        detail = probe()
    except Exception as exc:  # every failure is reported, none is raised
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"status": "ok", **(detail if isinstance(detail, dict) else {})}


def _rasa() -> dict[str, Any]:
    settings = get_settings()
    token = settings.rasa_token.get_secret_value() if settings.rasa_token else ""
    response = httpx.get(f"{settings.rasa_url}/status", params={"token": token}, timeout=2)
    response.raise_for_status()
    return {"model_file": response.json().get("model_file")}


@router.get("/healthz")
def healthz() -> JSONResponse:
    """State of the database, Redis (when configured) and Rasa; 503 when any is down."""
    client = redis_client()
    checks = {
        "database": _check(property_system().ping),
        "redis": _check(client.ping) if client else {"status": "not_configured"},
        "rasa": _check(_rasa),
    }
    healthy = all(c["status"] in ("ok", "not_configured") for c in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", "checks": checks},
        status_code=200 if healthy else 503,
    )
