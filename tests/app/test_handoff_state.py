"""Handoff state shared by the app's workers through Redis, the property system the truth."""

from __future__ import annotations

import anyio

from app.conversations.handoff_state import HandoffState
from app.kv import RedisKV
from integrations.property import LocalPropertySystem
from integrations.property.interface import HandoffInfo


async def test_an_opening_and_a_closing_in_one_worker_are_seen_by_another_at_once(
    system: LocalPropertySystem, kv: RedisKV
) -> None:
    worker_a = HandoffState(system.handoffs, kv)
    worker_b = HandoffState(system.handoffs, kv)
    # Worker A has just looked (and remembered): the bot has the conversation.
    assert await worker_a.active("demo-resident-1") is None

    handoff = system.handoffs.open("demo-resident-1", channel="oa", reason="住户要求人工")
    await worker_b.opened("demo-resident-1", handoff.id)
    assert await worker_a.active("demo-resident-1") == handoff.id

    system.handoffs.close(handoff.id, staff="客服小王")
    await worker_b.closed("demo-resident-1")
    assert await worker_a.active("demo-resident-1") is None


async def test_a_reader_that_found_nothing_never_hides_an_opening_made_meanwhile(
    system: LocalPropertySystem, kv: RedisKV
) -> None:
    opener = HandoffState(system.handoffs, kv)
    opened: list[int] = []

    class OpensRightAfterTheRead:
        """The real service; between worker A's database read and its fill, worker B opens
        a handoff and writes it through."""

        def active_for(self, conversation: str) -> HandoffInfo | None:
            found = system.handoffs.active_for(conversation)
            handoff = system.handoffs.open(conversation, channel="oa", reason="住户要求人工")
            anyio.from_thread.run(opener.opened, conversation, handoff.id)
            opened.append(handoff.id)
            return found

    reader = HandoffState(OpensRightAfterTheRead(), kv)  # type: ignore[arg-type]
    assert await reader.active("demo-resident-2") is None  # what it read
    assert await reader.active("demo-resident-2") == opened[0]  # its fill did not win


async def test_without_redis_every_read_asks_the_database(system: LocalPropertySystem) -> None:
    for cache in (None, RedisKV("redis://127.0.0.1:9/0")):
        state = HandoffState(system.handoffs, cache)
        handoff = system.handoffs.open("demo-resident-3", channel="oa", reason="住户要求人工")
        await state.opened("demo-resident-3", handoff.id)  # nowhere to write: no error

        assert await state.active("demo-resident-3") == handoff.id
        system.handoffs.close(handoff.id, staff="客服小王")
        assert await state.active("demo-resident-3") is None
