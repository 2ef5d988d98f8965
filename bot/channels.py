"""The REST channel, with a token: the app (and the tests) reach Rasa through it at
`/webhooks/rest/webhook?token=…`, the same token as Rasa's HTTP API (`--auth-token`). Any
other caller could speak as any resident, so without the token nothing is answered."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse


class TokenRestInput(RestInput):
    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("the REST channel needs a token (RASA_TOKEN)")
        self.token = token

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TokenRestInput:
        return cls(str((credentials or {}).get("token") or ""))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def authorise(request: Request) -> HTTPResponse | None:
            given = request.args.get("token", "")
            if hmac.compare_digest(given.encode(), self.token.encode()):
                return None
            return response.json({"error": "invalid token"}, status=401)

        return webhook
