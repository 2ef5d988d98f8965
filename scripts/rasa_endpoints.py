"""Rasa's endpoints for this run: the action endpoint always (bot/endpoints.yml); in the
production topology also the SQL tracker store (conversations survive restarts and are
shared by every Sanic worker) and the Redis lock store (one turn at a time per
conversation across workers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from app.settings import Settings
from scripts.rasa_env import ROOT

LOCK_KEY_PREFIX = "wuye-rasa-lock"


def tracker_store(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return {
        "type": "SQL",
        "dialect": "postgresql",
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "db": parts.path.lstrip("/"),
        "username": parts.username or "postgres",
        "password": parts.password or "",
        **({"query": query} if query else {}),
    }


def lock_store(redis_url: str) -> dict[str, Any]:
    parts = urlsplit(redis_url)
    return {
        "type": "redis",
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 6379,
        "db": int(parts.path.lstrip("/") or 0),
        "password": parts.password,
        "key_prefix": LOCK_KEY_PREFIX,
    }


def endpoints_file(settings: Settings, action_url: str) -> Path:
    """bot/endpoints.yml as it is, or a copy in VAR_DIR with the production stores added."""
    base = ROOT / "bot" / "endpoints.yml"
    if settings.rasa_tracker_store_url is None and settings.rasa_workers == 1:
        return base
    if settings.rasa_tracker_store_url is None or settings.redis_url is None:
        raise SystemExit("RASA_WORKERS > 1 needs RASA_TRACKER_STORE_URL (PostgreSQL) and REDIS_URL")
    endpoints = yaml.safe_load(base.read_text())
    endpoints["tracker_store"] = tracker_store(settings.rasa_tracker_store_url)
    endpoints["lock_store"] = lock_store(settings.redis_url)
    path = settings.var_dir / "rasa-endpoints.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    endpoints["action_endpoint"]["url"] = action_url
    path.write_text(yaml.safe_dump(endpoints, allow_unicode=True, sort_keys=False))
    return path
