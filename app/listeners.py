"""One process, two listeners: the public one (WeChat callbacks, the console, `/api`) and the
action endpoint's, which only Rasa reaches. A request is served by the app of the socket it
arrived on, so no path of one listener is reachable through the other; every body is capped
(413) before an app reads it."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LARGE = json.dumps({"detail": "请求内容过大。"}, ensure_ascii=False).encode()


class BodyLimit:
    """Refuses a body larger than `limit` bytes, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await _refuse(send)
            return
        seen = 0
        started = refused = False

        async def counted() -> Message:
            # Past the limit the caller is answered 413 at once and the app sees the client
            # go away, whatever it does with a body error (FastAPI turns them into 400s).
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    if not started and not refused:
                        refused = True
                        await _refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not refused:
                raise


async def _refuse(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(TOO_LARGE)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": TOO_LARGE})


class ByListener:
    """Sends each request to the app of the listener (local port) it arrived on; lifespan
    events go to the public app, which owns the process's long-lived parts."""

    def __init__(self, public: ASGIApp, actions: ASGIApp, action_port: int) -> None:
        self.public = public
        self.actions = actions
        self.action_port = action_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        if scope["type"] != "lifespan" and server and int(server[1]) == self.action_port:
            await self.actions(scope, receive, send)
        else:
            await self.public(scope, receive, send)
