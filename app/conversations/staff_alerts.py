"""Alerts to the staff WeCom group (emergencies, 催单): kept in the outbox, sent in its lane.

The robot renders markdown, so whatever a resident wrote is passed through `resident_text`
before it goes into an alert: a resident's `[打开客服工作台](http://…)` or
`<font color="warning">` reads as the characters typed, never as a link or markup beside
the real console link.
"""

from __future__ import annotations

import re

import anyio
import structlog
from sqlalchemy.exc import OperationalError

from app.conversations.models import STAFF_GROUP, Priority
from app.conversations.outbox import Outbox
from app.settings import get_settings

log = structlog.get_logger(__name__)

__all__ = ["STAFF_GROUP", "StaffAlerts", "alert_staff_from_thread", "resident_text"]
_installed: StaffAlerts | None = None
# Markdown and HTML the robot understands, as full-width look-alikes that it does not.
_MARKUP = str.maketrans(
    {
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "<": "＜",
        ">": "＞",
        "*": "＊",
        "_": "＿",
        "~": "～",
        "`": "｀",
        "#": "＃",
        "&": "＆",
        "\\": "＼",
    }
)
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def resident_text(text: str | None) -> str:
    """Untrusted text for one line of robot markdown: no markup, no line of its own, no
    address the robot would make clickable."""
    return _LINE_BREAKS.sub(" ", text or "").translate(_MARKUP).replace("://", "：//")


class StaffAlerts:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def send(
        self, title: str, text: str, *, urgent: bool = False, dedupe_key: str | None = None
    ) -> None:
        """Recorded before this returns (once per `dedupe_key`); delivered in the robot's
        lane, urgent ones first, retried until the robot accepts it. If the database cannot
        take it, it is sent once unrecorded rather than not at all."""
        priority = Priority.URGENT if urgent else Priority.ROUTINE
        try:
            await self.outbox.post(
                STAFF_GROUP,
                STAFF_GROUP,
                text,
                title=title,
                priority=priority,
                dedupe_key=dedupe_key,
            )
        except OperationalError as error:
            log.error("staff_alert_not_recorded", title=title, error=type(error).__name__)
            self.outbox.push_unrecorded(STAFF_GROUP, STAFF_GROUP, text, title=title)


def console_link(handoff_id: int) -> str:
    return f"[打开客服工作台]({get_settings().public_base_url}/console/handoffs/{handoff_id})"


def install(alerts: StaffAlerts | None) -> None:
    global _installed
    _installed = alerts


def alert_staff_from_thread(
    title: str, text: str, *, urgent: bool = False, dedupe_key: str | None = None
) -> None:
    """For code running in a worker thread of the app's event loop (the actions)."""
    if _installed is None:
        log.warning("staff_alert_not_sent", reason="no app wiring", title=title)
        return
    alerts = _installed
    anyio.from_thread.run(lambda: alerts.send(title, text, urgent=urgent, dedupe_key=dedupe_key))
