"""Reminders before a booking: claimed in the database (a restart or a second worker
neither loses nor repeats one), then sent through the outbox like every push."""

from __future__ import annotations

from datetime import datetime, timedelta

import anyio

from app.conversations.outbox import Outbox
from app.conversations.router import push_target
from integrations.property.interface import BookingInfo, PropertySystem
from integrations.property.services.numbering import LOCAL_TZ


async def send_due_reminders(
    system: PropertySystem, outbox: Outbox, ahead: timedelta, now: datetime | None = None
) -> int:
    due = await anyio.to_thread.run_sync(
        lambda: system.bookings.claim_reminders(ahead=ahead, now=now)
    )
    for booking in due:
        if booking.resident_openid:
            channel, recipient = push_target(booking.resident_openid)
            await outbox.send(channel, recipient, reminder_text(booking), title="预约提醒")
    return len(due)


def reminder_text(booking: BookingInfo) -> str:
    start = booking.starts_at.astimezone(LOCAL_TZ)
    end = booking.ends_at.astimezone(LOCAL_TZ)
    return (
        f"提醒：您预约的{booking.facility}（{booking.location}）将于"
        f"{start.month}月{start.day}日 {start:%H:%M}–{end:%H:%M} 开始，请准时到场。"
        "不能来的话请回复“取消预约”，把场地让给邻居。"
    )
