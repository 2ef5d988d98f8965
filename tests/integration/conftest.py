"""What the integration tests say and read through the stack (the stack itself and its
clients are fixtures in tests/conftest.py, shared with tests/security)."""

from __future__ import annotations

from pathlib import Path

import httpx

from scripts.stack import RunningStack
from tests.integration.wechat_peer import OfficialAccountPeer


def staff_client(stack: RunningStack) -> httpx.Client:
    """The staff API, signed in as the admin."""
    password = (Path(stack.env["VAR_DIR"]) / "admin-password.txt").read_text().strip()
    client = httpx.Client(base_url=stack.app_url, timeout=30)
    token = client.post("/api/auth/token", data={"username": "admin", "password": password})
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client


def says(wechat: OfficialAccountPeer, openid: str, text: str) -> str:
    """What the resident reads in the passive reply ("" when the app answers `success`)."""
    response = wechat.post(wechat.text(openid, text))
    response.raise_for_status()
    return "" if response.content in (b"success", b"") else wechat.reply(response)["Content"]


def say(rasa: httpx.Client, sender: str, message: str) -> list[str]:
    """What the resident reads after sending `message` through Rasa's REST channel."""
    response = rasa.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})
    response.raise_for_status()
    return [m["text"] for m in response.json() if "text" in m]
