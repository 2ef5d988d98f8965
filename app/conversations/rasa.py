"""The app's client of Rasa's REST channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx


class RasaUnavailable(Exception):
    pass


@dataclass(frozen=True)
class BotMessage:
    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)


class RasaClient:
    def __init__(
        self, http: httpx.AsyncClient, base_url: str, timeout_seconds: float, token: str
    ) -> None:
        self.http = http
        self.url = base_url.rstrip("/") + "/webhooks/rest/webhook"
        self.timeout_seconds = timeout_seconds
        self.params = {"token": token}

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[BotMessage]:
        try:
            response = await self.http.post(
                self.url,
                params=self.params,
                json={"sender": sender, "message": text, "metadata": metadata or {}},
                timeout=self.timeout_seconds,
            )
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise RasaUnavailable(f"{type(error).__name__}: {error}") from error
        messages = []
        for item in data if isinstance(data, list) else []:
            buttons = [
                (str(b.get("title", "")), str(b.get("payload", "")))
                for b in item.get("buttons") or []
            ]
            if item.get("text") or buttons:
                messages.append(BotMessage(text=str(item.get("text") or ""), buttons=buttons))
        return messages
