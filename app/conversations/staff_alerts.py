"""Alerts to the staff WeCom group (emergencies, 催单): kept in the outbox, sent at once."""

from __future__ import annotations

import anyio
import structlog

from app.conversations.outbox import Outbox
from app.settings import get_settings

log = structlog.get_logger(__name__)

STAFF_GROUP = "staff-group"
_installed: StaffAlerts | None = None


class StaffAlerts:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def send(self, title: str, text: str) -> None:
        """Recorded before this returns; delivered in the background (the robot is rate
        limited), retried by the outbox until it goes out."""
        await self.outbox.post(STAFF_GROUP, STAFF_GROUP, text, title=title)


def console_link(handoff_id: int) -> str:
    return f"[打开客服工作台]({get_settings().public_base_url}/console/handoffs/{handoff_id})"


def install(alerts: StaffAlerts | None) -> None:
    global _installed
    _installed = alerts


def alert_staff_from_thread(title: str, text: str) -> None:
    """For code running in a worker thread of the app's event loop (the actions)."""
    if _installed is None:
        log.warning("staff_alert_not_sent", reason="no app wiring", title=title)
        return
    anyio.from_thread.run(_installed.send, title, text)
