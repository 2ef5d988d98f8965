"""Whether a person has a conversation, asked on every message a resident sends: Redis
(shared by all app workers) in front of the property system, which stays the truth.

An opening (the actions) and a closing (the staff desk) write the state through once their
transaction has committed. A reader that finds nothing fills it from the database with
SET NX, so a filling reader never overwrites a newer opening or closing. Entries live a
minute, which bounds what a lost write could leave behind. Without Redis, or while it is
unreachable, every read asks the database: per-worker memory could not see another
worker's opening.
"""

from __future__ import annotations

import contextlib

import anyio
import structlog
from redis.exceptions import RedisError

from app.kv import KeyValue
from integrations.property.services.handoffs import HandoffService

log = structlog.get_logger(__name__)

NO_HANDOFF = "-"
TTL_SECONDS = 60
_installed: HandoffState | None = None


class HandoffState:
    def __init__(self, handoffs: HandoffService, cache: KeyValue | None) -> None:
        self.handoffs = handoffs
        self.cache = cache

    async def active(self, conversation: str) -> int | None:
        """The open handoff's id, or None while the bot has the conversation."""
        cached, reachable = None, self.cache is not None
        if self.cache is not None:
            try:
                cached = await self.cache.get(_key(conversation))
            except (RedisError, OSError):
                reachable = False
        if cached is not None:
            return None if cached == NO_HANDOFF else int(cached)
        handoff = await anyio.to_thread.run_sync(self.handoffs.active_for, conversation)
        state = NO_HANDOFF if handoff is None else str(handoff.id)
        if reachable and self.cache is not None:
            with contextlib.suppress(RedisError, OSError):
                await self.cache.set_if_absent(_key(conversation), state, TTL_SECONDS)
        return None if handoff is None else handoff.id

    async def opened(self, conversation: str, handoff_id: int) -> None:
        await self._write(conversation, str(handoff_id))

    async def closed(self, conversation: str) -> None:
        await self._write(conversation, NO_HANDOFF)

    async def _write(self, conversation: str, state: str) -> None:
        if self.cache is None:
            return
        try:
            await self.cache.set(_key(conversation), state, TTL_SECONDS)
        except (RedisError, OSError) as error:  # readers see the database within a minute
            log.warning("handoff_state_not_written", error=type(error).__name__)


def _key(conversation: str) -> str:
    return f"handoff:{conversation}"


def install(state: HandoffState | None) -> None:
    global _installed
    _installed = state


def handoff_opened_from_thread(conversation: str, handoff_id: int) -> None:
    """For the actions, which run in a worker thread of the app's event loop."""
    if _installed is not None:
        anyio.from_thread.run(_installed.opened, conversation, handoff_id)
