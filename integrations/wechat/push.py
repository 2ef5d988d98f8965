"""Proactive messages to a resident or staff member: one interface, a channel each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from integrations.wechat.api import GroupRobot, OfficialAccountAPI, WeComAppAPI

CUSTOMER_SERVICE_WINDOW = timedelta(hours=48)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


class PushFailed(Exception):
    pass


class PushChannel(Protocol):
    async def push(self, recipient: str, text: str, *, title: str) -> str:
        """Deliver `text`; returns how it went out (e.g. "custom", "template")."""
        ...


@runtime_checkable
class PacedChannel(PushChannel, Protocol):
    """A rate-limited channel: `push` only once `wait_turn` has returned, one message a
    turn (the outbox then sends whatever is most urgent when the turn comes)."""

    async def wait_turn(self) -> None: ...


class OfficialAccountPush:
    """Customer-service message inside the 48-hour window, template message outside it."""

    def __init__(
        self,
        api: OfficialAccountAPI,
        last_seen: Callable[[str], Awaitable[datetime | None]],
        template_id: str | None,
    ) -> None:
        self.api = api
        self.last_seen = last_seen
        self.template_id = template_id

    async def push(self, recipient: str, text: str, *, title: str) -> str:
        seen = await self.last_seen(recipient)
        if seen is not None and datetime.now(UTC) - seen < CUSTOMER_SERVICE_WINDOW:
            await self.api.send_text(recipient, text)
            return "custom"
        if not self.template_id:
            raise PushFailed("outside the 48-hour window and WECHAT_NOTICE_TEMPLATE_ID is not set")
        now = datetime.now(LOCAL_TZ)
        await self.api.send_template(
            recipient,
            self.template_id,
            {
                "first": title or "物业通知",
                "keyword1": title or "物业通知",
                "keyword2": f"{now:%Y-%m-%d %H:%M}",
                "remark": text[:200],
            },
        )
        return "template"


class WeComAppPush:
    def __init__(self, api: WeComAppAPI) -> None:
        self.api = api

    async def push(self, recipient: str, text: str, *, title: str) -> str:
        await self.api.send_text(recipient, f"【{title}】\n{text}" if title else text)
        return "wecom-app"


class GroupRobotPush:
    """The staff group's robot: the recipient is the group the webhook belongs to."""

    def __init__(self, robot: GroupRobot) -> None:
        self.robot = robot

    async def wait_turn(self) -> None:
        await self.robot.wait_turn()

    async def push(self, recipient: str, text: str, *, title: str) -> str:
        await self.robot.post_markdown(f"**{title}**\n{text}" if title else text)
        return "group-robot"
