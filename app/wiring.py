"""Builds the app's long-lived parts from the settings, and runs its background loops."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import anyio
import httpx
import structlog
from pydantic import SecretStr

from app.conversations.handoff_state import HandoffState
from app.conversations.handoff_state import install as install_handoff_state
from app.conversations.log import MessageLog
from app.conversations.outbox import Outbox
from app.conversations.rasa import RasaClient
from app.conversations.reminders import send_due_reminders
from app.conversations.router import Router
from app.conversations.staff_alerts import STAFF_GROUP, StaffAlerts
from app.conversations.staff_alerts import install as install_staff_alerts
from app.deps import local_property_system
from app.kv import FallbackKV, KeyValue, MemoryKV, RedisKV
from app.settings import Settings
from integrations.property.db import session_factory
from integrations.wechat.api import GroupRobot, OfficialAccountAPI, TokenAPI, WeComAppAPI
from integrations.wechat.official_account import OfficialAccount
from integrations.wechat.push import (
    GroupRobotPush,
    OfficialAccountPush,
    PushChannel,
    WeComAppPush,
)
from integrations.wechat.wecom import WeComApp, WeComBot

log = structlog.get_logger(__name__)


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


class _DegradationLog:
    """One warning a minute while Redis is unreachable, not one per request."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, error: Exception) -> None:
        if time.monotonic() - self.last > 60:
            self.last = time.monotonic()
            log.warning("redis_unavailable_using_memory", error=f"{type(error).__name__}: {error}")


@dataclass
class Wiring:
    settings: Settings
    http: httpx.AsyncClient
    kv: KeyValue
    message_log: MessageLog
    outbox: Outbox
    router: Router
    handoffs: HandoffState
    official_account: OfficialAccount | None = None
    wecom_bot: WeComBot | None = None
    wecom_app: WeComApp | None = None
    group_robot: GroupRobot | None = None
    _loops: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def build(cls, settings: Settings) -> Wiring:
        http = httpx.AsyncClient(trust_env=False)
        redis = RedisKV(settings.redis_url) if settings.redis_url else None
        kv: KeyValue = FallbackKV(redis, _DegradationLog()) if redis else MemoryKV()
        system = local_property_system()
        handoffs = HandoffState(system.handoffs, redis)
        message_log = MessageLog(session_factory(system.engine))
        channels: dict[str, PushChannel] = {}
        official_account = wecom_bot = wecom_app = group_robot = None
        age = settings.signature_max_age_seconds

        if settings.wechat_token and settings.wechat_app_id:
            official_account = OfficialAccount(
                _secret(settings.wechat_token),
                settings.wechat_app_id,
                _secret(settings.wechat_encoding_aes_key),
                age,
            )
        if settings.wechat_app_id and settings.wechat_app_secret:
            api = OfficialAccountAPI(
                TokenAPI.official_account(
                    http,
                    kv,
                    base_url=settings.wechat_api_base,
                    app_id=settings.wechat_app_id,
                    app_secret=_secret(settings.wechat_app_secret),
                )
            )

            async def last_seen(openid: str) -> datetime | None:
                return await anyio.to_thread.run_sync(message_log.last_inbound_at, "oa", openid)

            channels["oa"] = OfficialAccountPush(api, last_seen, settings.wechat_notice_template_id)
        if settings.wecom_bot_token and settings.wecom_bot_encoding_aes_key:
            wecom_bot = WeComBot(
                _secret(settings.wecom_bot_token),
                _secret(settings.wecom_bot_encoding_aes_key),
                age,
            )
        if (
            settings.wecom_app_token
            and settings.wecom_app_encoding_aes_key
            and settings.wecom_corp_id
        ):
            wecom_app = WeComApp(
                _secret(settings.wecom_app_token),
                _secret(settings.wecom_app_encoding_aes_key),
                settings.wecom_corp_id,
                age,
            )
        if settings.wecom_corp_id and settings.wecom_corp_secret and settings.wecom_agent_id:
            wecom_push = WeComAppPush(
                WeComAppAPI(
                    TokenAPI.wecom(
                        http,
                        kv,
                        base_url=settings.wecom_api_base,
                        corp_id=settings.wecom_corp_id,
                        corp_secret=_secret(settings.wecom_corp_secret),
                    ),
                    settings.wecom_agent_id,
                )
            )
            channels["wecom-bot"] = channels["wecom-app"] = wecom_push
        if settings.wecom_robot_webhook_url:
            group_robot = GroupRobot(
                http,
                kv,
                _secret(settings.wecom_robot_webhook_url),
                settings.wecom_robot_per_minute,
            )
            channels[STAFF_GROUP] = GroupRobotPush(group_robot)

        outbox = Outbox(message_log, channels)
        install_staff_alerts(StaffAlerts(outbox))
        install_handoff_state(handoffs)
        router = Router(
            kv,
            message_log,
            RasaClient(
                http,
                settings.rasa_url,
                settings.rasa_timeout_seconds,
                _secret(settings.rasa_token),
            ),
            system,
            handoffs,
            outbox,
            dedupe_ttl_seconds=settings.dedupe_ttl_seconds,
        )
        return cls(
            settings,
            http,
            kv,
            message_log,
            outbox,
            router,
            handoffs,
            official_account,
            wecom_bot,
            wecom_app,
            group_robot,
        )

    def start(self) -> None:
        self._loops.append(asyncio.create_task(self._every(self._recover)))
        self._loops.append(asyncio.create_task(self._every(self._remind)))

    async def _remind(self) -> None:
        ahead = timedelta(minutes=self.settings.booking_reminder_minutes)
        await send_due_reminders(local_property_system(), self.outbox, ahead)

    async def _recover(self) -> None:
        await self.router.recover(self.settings.recovery_after_seconds)
        await self.outbox.retry_due()

    async def _every(self, job: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(self.settings.recovery_interval_seconds)
            try:
                await job()
            except Exception:  # the loop must survive a database restart
                log.exception("background_job_failed")

    async def stop(self) -> None:
        for loop in self._loops:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.router.drain(), timeout=10)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.outbox.drain(), timeout=10)
        install_staff_alerts(None)
        install_handoff_state(None)
        await self.http.aclose()
