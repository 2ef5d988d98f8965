"""Proactive messages that are never lost: written first, sent, retried with backoff."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import structlog

from app.conversations.log import MessageLog
from integrations.wechat.push import PushChannel

log = structlog.get_logger(__name__)


class Outbox:
    def __init__(self, message_log: MessageLog, channels: dict[str, PushChannel]) -> None:
        self.log = message_log
        self.channels = channels
        self._tasks: set[asyncio.Task[Any]] = set()

    async def send(self, channel: str, recipient: str, text: str, *, title: str = "") -> bool:
        """Record, then try once now; False means it is queued for a retry."""
        outbound_id = await anyio.to_thread.run_sync(
            self.log.enqueue, channel, recipient, text, title
        )
        return await self._attempt(outbound_id, channel, recipient, text, title)

    async def post(self, channel: str, recipient: str, text: str, *, title: str = "") -> None:
        """Record now, send in the background (for callers that must not wait on it)."""
        outbound_id = await anyio.to_thread.run_sync(
            self.log.enqueue, channel, recipient, text, title
        )
        task = asyncio.ensure_future(self._attempt(outbound_id, channel, recipient, text, title))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def retry_due(self) -> int:
        due = await anyio.to_thread.run_sync(self.log.claim_due_outbound)
        for row in due:
            await self._attempt(row.id, row.channel, row.recipient, row.text, row.title)
        return len(due)

    async def _attempt(
        self, outbound_id: int, channel: str, recipient: str, text: str, title: str
    ) -> bool:
        pusher = self.channels.get(channel)
        try:
            if pusher is None:
                raise LookupError(f"no push channel configured for {channel!r}")
            via = await pusher.push(recipient, text, title=title)
        except Exception as error:  # kept and retried whatever went wrong
            log.warning(
                "push_failed",
                channel=channel,
                outbound_id=outbound_id,
                error=f"{type(error).__name__}: {error}",
            )
            await anyio.to_thread.run_sync(self.log.send_failed, outbound_id, str(error))
            return False
        await anyio.to_thread.run_sync(self.log.sent, outbound_id, via)
        return True
