"""Proactive messages that are never lost: written first, sent, retried with backoff.

A rate-limited channel (the staff group's robot) has a lane per process: when its next
send slot comes, the lane claims the most urgent message due and sends it. A message is
claimed only when it can go out at once, so its lease never runs out while it waits in a
queue (a lease that did would let the recovery loop send it a second time), and an
emergency queued behind twenty routine alerts is the next one out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import anyio
import structlog

from app.conversations.log import MessageLog
from app.conversations.models import Priority
from integrations.wechat.push import PacedChannel, PushChannel

log = structlog.get_logger(__name__)


class Outbox:
    def __init__(self, message_log: MessageLog, channels: dict[str, PushChannel]) -> None:
        self.log = message_log
        self.channels = channels
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._more: set[str] = set()

    async def send(
        self,
        channel: str,
        recipient: str,
        text: str,
        *,
        title: str = "",
        priority: int = Priority.ROUTINE,
        dedupe_key: str | None = None,
    ) -> bool:
        """Record, then try once now (a rate-limited channel: in its lane, not waited for).
        False means it is left for a retry, or was recorded before under `dedupe_key`."""
        outbound_id = await self._record(channel, recipient, text, title, priority, dedupe_key)
        if outbound_id is None:
            return False
        if self._paced(channel):
            self._kick(channel)
            return False
        return await self._attempt(outbound_id, channel, recipient, text, title)

    async def post(
        self,
        channel: str,
        recipient: str,
        text: str,
        *,
        title: str = "",
        priority: int = Priority.ROUTINE,
        dedupe_key: str | None = None,
    ) -> bool:
        """Record now, send in the background (for callers that must not wait on it).
        False when it was recorded before under `dedupe_key` (nothing more is done)."""
        outbound_id = await self._record(channel, recipient, text, title, priority, dedupe_key)
        if outbound_id is None:
            return False
        if self._paced(channel):
            self._kick(channel)
        else:
            self._spawn(self._attempt(outbound_id, channel, recipient, text, title))
        return True

    def push_unrecorded(self, channel: str, recipient: str, text: str, *, title: str) -> None:
        """One best-effort send of a message the database could not take (logged)."""

        async def once() -> None:
            pusher = self.channels.get(channel)
            if pusher is None:
                return
            try:
                if isinstance(pusher, PacedChannel):
                    await pusher.wait_turn()
                await pusher.push(recipient, text, title=title)
            except Exception as error:
                log.error("unrecorded_push_failed", channel=channel, error=repr(error))

        self._spawn(once())

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def retry_due(self) -> int:
        """Wake the lanes and retry the other channels' due messages."""
        paced = [channel for channel in self.channels if self._paced(channel)]
        for channel in paced:
            self._kick(channel)
        due = await anyio.to_thread.run_sync(
            lambda: self.log.claim_due_outbound(skip_channels=paced)
        )
        for row in due:
            await self._attempt(row.id, row.channel, row.recipient, row.text, row.title)
        return len(due)

    async def _record(
        self,
        channel: str,
        recipient: str,
        text: str,
        title: str,
        priority: int,
        dedupe_key: str | None,
    ) -> int | None:
        leased = not self._paced(channel)
        return await anyio.to_thread.run_sync(
            lambda: self.log.enqueue(
                channel,
                recipient,
                text,
                title,
                priority=priority,
                dedupe_key=dedupe_key,
                leased=leased,
            )
        )

    def _paced(self, channel: str) -> bool:
        return isinstance(self.channels.get(channel), PacedChannel)

    def _kick(self, channel: str) -> None:
        self._more.add(channel)
        lane = self._lanes.get(channel)
        if lane is None or lane.done():
            self._lanes[channel] = self._spawn(self._lane(channel))

    async def _lane(self, channel: str) -> None:
        pusher = self.channels[channel]
        assert isinstance(pusher, PacedChannel)
        try:
            while True:
                self._more.discard(channel)
                if not await anyio.to_thread.run_sync(self.log.has_due, channel):
                    if channel in self._more:  # queued while we looked
                        continue
                    return
                await pusher.wait_turn()
                claimed = await anyio.to_thread.run_sync(
                    lambda: self.log.claim_due_outbound(1, channel=channel)
                )
                for row in claimed:
                    await self._attempt(row.id, row.channel, row.recipient, row.text, row.title)
        except Exception:  # the recovery loop starts the lane again
            log.exception("outbox_lane_failed", channel=channel)

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

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
