"""The attacks of issue 14 are made against the same freshly built app as tests/app; the
actions' attacks against the staff group's robot on a fake WeChat."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

import actions.base
from app.conversations.handoff_state import HandoffState
from app.conversations.handoff_state import install as install_handoff_state
from app.conversations.log import MessageLog
from app.conversations.outbox import Outbox
from app.conversations.staff_alerts import STAFF_GROUP, StaffAlerts
from app.conversations.staff_alerts import install as install_staff_alerts
from app.kv import RedisKV
from integrations.property import LocalPropertySystem
from integrations.property.db import session_factory
from integrations.wechat.api import GroupRobot
from integrations.wechat.push import GroupRobotPush
from tests.app.conftest import make_client
from tests.wechat.fake_server import ROBOT, FakeWeChat, running_fake_wechat

__all__ = ["make_client"]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWeChat]:
    with running_fake_wechat() as server:
        yield server


@pytest.fixture
async def staff_group(
    system: LocalPropertySystem, kv: RedisKV, fake: FakeWeChat, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Outbox]:
    """The app's wiring for actions: this database, the staff group's robot on the fake."""
    fake.reset()
    monkeypatch.setattr(actions.base, "property_system", lambda: system)
    async with httpx.AsyncClient(trust_env=False) as http:
        robot = GroupRobot(http, kv, f"{fake.url}{ROBOT}?key=k-{uuid.uuid4().hex[:6]}")
        outbox = Outbox(
            MessageLog(session_factory(system.engine)), {STAFF_GROUP: GroupRobotPush(robot)}
        )
        install_staff_alerts(StaffAlerts(outbox))
        install_handoff_state(HandoffState(system.handoffs, None))
        try:
            yield outbox
            await outbox.drain()
        finally:
            install_staff_alerts(None)
            install_handoff_state(None)
