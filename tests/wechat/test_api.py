"""The WeChat API client against a local server speaking WeChat's protocol, with real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.kv import RedisKV
from integrations.wechat.api import GroupRobot, OfficialAccountAPI, TokenAPI
from integrations.wechat.push import OfficialAccountPush, PushFailed
from tests.wechat.fake_server import CUSTOM, PNG, ROBOT, FakeWeChat, running_fake_wechat


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWeChat]:
    with running_fake_wechat() as server:
        yield server


def oa_api(http: httpx.AsyncClient, kv: RedisKV, fake: FakeWeChat) -> OfficialAccountAPI:
    return OfficialAccountAPI(
        TokenAPI.official_account(
            http,
            kv,
            base_url=fake.url,
            app_id=f"wx{uuid.uuid4().hex[:16]}",
            app_secret="s",
            backoff_seconds=0.01,
        )
    )


async def test_workers_share_one_access_token(fake: FakeWeChat, kv: RedisKV) -> None:
    fake.reset()
    async with httpx.AsyncClient() as http:
        app_id = f"wx{uuid.uuid4().hex[:16]}"
        workers = [
            OfficialAccountAPI(
                TokenAPI.official_account(
                    http, kv, base_url=fake.url, app_id=app_id, app_secret="s"
                )
            )
            for _ in range(2)
        ]
        issued_before = len(fake.tokens_issued)

        await asyncio.gather(*(workers[i % 2].send_text(f"o-{i}", f"消息{i}") for i in range(20)))

    assert len(fake.tokens_issued) - issued_before == 1
    sent = fake.sent(CUSTOM)
    assert sorted(b["text"]["content"] for b in sent) == sorted(f"消息{i}" for i in range(20))


async def test_a_revoked_token_is_refreshed_once_and_the_message_still_goes(
    fake: FakeWeChat, kv: RedisKV
) -> None:
    fake.reset()
    async with httpx.AsyncClient() as http:
        api = oa_api(http, kv, fake)
        await api.send_text("o-1", "第一条")
        fake.revoked.add(fake.tokens_issued[-1])
        issued_before = len(fake.tokens_issued)

        await api.send_text("o-1", "第二条")

    assert len(fake.tokens_issued) == issued_before + 1
    assert [b["text"]["content"] for b in fake.sent(CUSTOM)] == [
        "第一条",
        "第二条",
    ]


async def test_server_errors_are_retried_with_backoff(fake: FakeWeChat, kv: RedisKV) -> None:
    fake.reset()
    async with httpx.AsyncClient() as http:
        api = oa_api(http, kv, fake)
        await api.api.access_token()
        fake.fail_next.extend([502, 503])

        await api.send_text("o-2", "重试后送达")

    assert [b["touser"] for b in fake.sent(CUSTOM)] == ["o-2"]


async def test_long_text_goes_out_as_several_messages(fake: FakeWeChat, kv: RedisKV) -> None:
    fake.reset()
    async with httpx.AsyncClient() as http:
        await oa_api(http, kv, fake).send_text("o-3", "这是一句很长的话。" * 300)

    parts = [b["text"]["content"] for b in fake.sent(CUSTOM)]
    assert len(parts) > 1 and "".join(parts) == "这是一句很长的话。" * 300


async def test_media_is_downloaded(fake: FakeWeChat, kv: RedisKV) -> None:
    async with httpx.AsyncClient() as http:
        assert await oa_api(http, kv, fake).download_media("media-1") == PNG


async def test_push_uses_customer_service_inside_48_hours_and_templates_outside(
    fake: FakeWeChat, kv: RedisKV
) -> None:
    fake.reset()
    seen = {
        "recent": datetime.now(UTC) - timedelta(hours=47),
        "long-ago": datetime.now(UTC) - timedelta(hours=49),
    }

    async def last_seen(openid: str) -> datetime | None:
        return seen.get(openid)

    async with httpx.AsyncClient() as http:
        api = oa_api(http, kv, fake)
        push = OfficialAccountPush(api, last_seen, template_id="TEMPLATE-1")
        assert await push.push("recent", "您的报修已完成", title="报修进度") == "custom"
        assert await push.push("long-ago", "您的报修已完成", title="报修进度") == "template"
        with pytest.raises(PushFailed):
            await OfficialAccountPush(api, last_seen, None).push("never", "x", title="t")

    assert fake.sent(CUSTOM)[0]["touser"] == "recent"
    [template] = fake.sent("/cgi-bin/message/template/send")
    assert template["touser"] == "long-ago" and template["template_id"] == "TEMPLATE-1"
    assert template["data"]["remark"]["value"] == "您的报修已完成"


async def test_the_group_robot_never_exceeds_its_rate_in_any_minute(kv: RedisKV) -> None:
    now = 1_000_000.0
    async with httpx.AsyncClient() as http:
        robot = GroupRobot(http, kv, "http://unused", per_minute=20, clock=lambda: now)
        starts = [await robot.reserve_slot() for _ in range(45)]

    assert starts == sorted(starts)
    for first in starts:
        in_window = [s for s in starts if first <= s < first + 60]
        assert len(in_window) <= 20


async def test_the_group_robot_posts_markdown_to_its_webhook(fake: FakeWeChat, kv: RedisKV) -> None:
    fake.reset()
    async with httpx.AsyncClient() as http:
        robot = GroupRobot(http, kv, f"{fake.url}/cgi-bin/webhook/send?key=k1")
        await robot.send_markdown("**新投诉** TS2611210001")

    assert fake.sent(ROBOT) == [
        {"msgtype": "markdown", "markdown": {"content": "**新投诉** TS2611210001"}}
    ]
