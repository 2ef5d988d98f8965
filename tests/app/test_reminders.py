"""Booking reminders go out once, through the outbox, even with two app processes."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.conversations.log import MessageLog
from app.conversations.outbox import Outbox
from app.conversations.reminders import send_due_reminders
from integrations.property import LocalPropertySystem
from integrations.property.db import session_factory
from integrations.property.services.numbering import LOCAL_TZ


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def push(self, recipient: str, text: str, *, title: str) -> str:
        self.sent.append((recipient, text))
        return "recorded"


NOW = datetime(2026, 11, 21, 14, 10, tzinfo=LOCAL_TZ)


async def test_a_booking_soon_is_reminded_once_by_whichever_worker_comes_first(
    system: LocalPropertySystem,
) -> None:
    start = NOW.replace(hour=15, minute=0)
    system.bookings.book("demo-resident-1", "健身房", start, now=NOW)
    system.bookings.book("demo-resident-2", "健身房", start + timedelta(hours=3), now=NOW)
    channel = Recorder()
    outboxes = [
        Outbox(MessageLog(session_factory(system.engine)), {"oa": channel}) for _ in range(2)
    ]

    sent = [await send_due_reminders(system, o, timedelta(hours=1), NOW) for o in outboxes]
    for outbox in outboxes:
        await outbox.drain()

    assert sent == [1, 0]
    [(recipient, text)] = channel.sent
    assert recipient == "demo-resident-1"
    assert text.startswith(
        f"提醒：您预约的健身房（会所地下一层）将于{start.month}月{start.day}日 {start:%H:%M}"
    )
