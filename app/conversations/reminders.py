"""Reminders before a booking, sent through the outbox like every push.

Each reminder is queued under a key of its booking's own before the booking is marked
reminded: a crash between the two leaves the booking due, and queueing it again (this
process after a restart, or a second worker at the same moment) finds it already queued,
so a reminder is neither lost nor sent twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

import anyio

from app.conversations.outbox import Outbox
from app.conversations.router import push_target
from integrations.property.interface import BookingInfo, PropertySystem
from integrations.property.services.numbering import LOCAL_TZ


async def send_due_reminders(
    system: PropertySystem, outbox: Outbox, ahead: timedelta, now: datetime | None = None
) -> int:
    """How many reminders this call queued."""
    due = await anyio.to_thread.run_sync(
        lambda: system.bookings.due_reminders(ahead=ahead, now=now)
    )
    queued = 0
    for booking in due:
        if booking.resident_openid:
            channel, recipient = push_target(booking.resident_openid)
            if await outbox.post(
                channel,
                recipient,
                reminder_text(booking),
                title="预约提醒",
                dedupe_key=reminder_key(booking),
            ):
                queued += 1
        await anyio.to_thread.run_sync(partial(system.bookings.mark_reminded, booking.id, now=now))
    return queued


def reminder_key(booking: BookingInfo) -> str:
    return f"reminder:{booking.id}:{booking.starts_at.isoformat()}"[:64]


def reminder_text(booking: BookingInfo) -> str:
    start = booking.starts_at.astimezone(LOCAL_TZ)
    end = booking.ends_at.astimezone(LOCAL_TZ)
    return (
        f"提醒：您预约的{booking.facility}（{booking.location}）将于"
        f"{start.month}月{start.day}日 {start:%H:%M}–{end:%H:%M} 开始，请准时到场。"
        "不能来的话请回复“取消预约”，把场地让给邻居。"
    )
