"""The production topology on this machine: two app workers, two Rasa (Sanic) workers,
PostgreSQL for the property data and Rasa's tracker store, Redis for dedupe, tokens, handoff
state and Rasa's lock store. A conversation keeps its state across the workers and a restart."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis

from integrations.property import LocalPropertySystem
from scripts.processes import child_pids
from scripts.stack import RunningStack
from tests.integration.conftest import says, staff_client
from tests.integration.stack import require_rasa
from tests.integration.test_repairs import HOME_101, resident
from tests.integration.wechat_peer import OfficialAccountPeer, wechat_settings
from tests.services import postgres_schema, redis_url
from tests.wechat.fake_server import FakeWeChat


def workers(stack: RunningStack) -> dict[str, int]:
    """How many worker processes the app (uvicorn) and Rasa (Sanic) each run."""
    assert stack.process is not None
    found = {}
    for pid in child_pids(stack.process.pid):
        name = "rasa" if b".venv-rasa" in command_of(pid) else "app"
        found[name] = sum(1 for c in child_pids(pid) if b"resource_tracker" not in command_of(c))
    return found


def command_of(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


@pytest.fixture(scope="module")
def topology_env(
    tmp_path_factory: pytest.TempPathFactory, fake_wechat: FakeWeChat
) -> Iterator[dict[str, str]]:
    require_rasa()
    with ExitStack() as resources:
        property_db = resources.enter_context(postgres_schema())
        tracker_db = resources.enter_context(postgres_schema())
        yield {
            "DATABASE_URL": property_db,
            "RASA_TRACKER_STORE_URL": tracker_db,
            "REDIS_URL": redis_url(),
            "APP_WORKERS": "2",
            "RASA_WORKERS": "2",
            "VAR_DIR": str(tmp_path_factory.mktemp("topology")),
            "LOG_FORMAT": "json",
            **wechat_settings(fake_wechat),
        }


def test_a_conversation_keeps_its_state_across_workers_and_a_restart(
    topology_env: dict[str, str], tmp_path: Path
) -> None:
    system = LocalPropertySystem.from_url(topology_env["DATABASE_URL"])
    first = RunningStack(env=topology_env, log=tmp_path / "first.log")
    first.start()
    try:
        assert workers(first) == {"app": 2, "rasa": 2}, first.output()[-3000:]
        me = resident(system, HOME_101)
        wechat = OfficialAccountPeer(first.app_url)
        assert says(wechat, me, "我要报修").startswith("请问是什么需要维修")
        assert says(wechat, me, "马桶").startswith("在什么位置")
    finally:
        first.interrupt()
    assert first.leftovers == [], "a Rasa or app worker outlived the stack"

    second = RunningStack(env=topology_env, log=tmp_path / "second.log")
    second.start()
    try:
        wechat = OfficialAccountPeer(second.app_url)
        # Rasa's memory is gone; the conversation is in PostgreSQL: the form carries on.
        assert says(wechat, me, "卫生间").startswith("请简单说说是什么问题")
        assert says(wechat, me, "堵了，冲不下去").startswith("您希望师傅什么时间上门")
        done = says(wechat, me, "尽快")

        # A person takes over: whichever app worker a message reaches, the bot stays silent
        # and the words reach the staff, until they hand the conversation back.
        assert says(wechat, me, "转人工").startswith("已为您转接人工客服")
        handoff = system.handoffs.active_for(me)
        assert handoff is not None
        shared_state = redis.Redis.from_url(redis_url(), decode_responses=True)
        assert shared_state.get(f"wuye:handoff:{me}") == str(handoff.id)
        words = ["喂", "在吗", "有人吗", "师傅什么时候到", "麻烦快一点"]
        assert [says(wechat, me, text) for text in words] == [""] * len(words)
        transcript = system.handoffs.get(handoff.id).transcript
        assert [line["text"] for line in transcript[-len(words) :]] == words
        staff_client(second).post(f"/api/handoffs/{handoff.id}/close").raise_for_status()
        assert "物业费" in says(wechat, me, "这个月物业费多少")
    finally:
        second.interrupt()
    assert second.leftovers == [], "a Rasa or app worker outlived the stack"

    [order] = system.repairs.for_resident(me)
    assert f"单号 {order.number}" in done
    assert (order.item, order.location, order.description) == ("马桶", "卫生间", "堵了，冲不下去")
