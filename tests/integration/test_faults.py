"""Parts of the stack failing under a resident's message: Redis gone. (Rasa down, a crash
mid-message and an action whose database is gone are in test_wechat_channels.py and
tests/app/test_action_endpoint.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

import httpx
import pytest

from integrations.property import LocalPropertySystem
from scripts.stack import RunningStack
from tests.integration.stack import AppProcess
from tests.integration.test_repairs import HOME_101, resident
from tests.integration.test_wechat_channels import property_fee
from tests.integration.wechat_peer import OfficialAccountPeer


def test_with_redis_gone_the_app_keeps_answering_and_says_why_in_its_log(
    stack: RunningStack, stack_system: LocalPropertySystem, tmp_path
) -> None:
    log = tmp_path / "no-redis.log"
    app = AppProcess(
        env={**stack.env, "RASA_URL": stack.rasa_url, "REDIS_URL": "redis://127.0.0.1:9/0"},
        log=log,
    )
    app.start()
    try:
        peer = OfficialAccountPeer(app.url)
        me = resident(stack_system, HOME_101)
        message = peer.text(me, "这个月物业费多少")
        first = peer.reply(peer.post(message, "aes"))["Content"]
        retry = peer.reply(peer.post(message, "aes"))["Content"]  # dedupe falls back too
    finally:
        app.stop()

    assert property_fee(stack_system, me) in first and retry == first
    events = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    degraded = [e for e in events if e.get("event") == "redis_unavailable_using_memory"]
    assert degraded and "Connection" in degraded[0]["error"]


def test_with_the_database_down_a_message_is_refused_for_a_retry_not_lost_or_crashed(
    stack: RunningStack, stack_system: LocalPropertySystem, tmp_path
) -> None:
    """While PostgreSQL restarts nothing can be written down, so nothing is answered: 503
    (never a 500), and WeChat's retry a few seconds later is taken as the first delivery."""
    dead = "postgresql://postgres@127.0.0.1:9/test"
    down = AppProcess(env={**stack.env, "DATABASE_URL": dead}, log=tmp_path / "no-db.log")
    down.start()
    try:
        peer = OfficialAccountPeer(down.url)
        me = resident(stack_system, HOME_101)
        message = peer.text(me, "这个月物业费多少")
        refused = peer.post(message, "aes")
    finally:
        down.stop()

    # The reason, then what it means in Chinese (integrations/wechat/errors.py).
    assert (refused.status_code, refused.text) == (503, "store_unavailable: 系统繁忙，请稍后重试")
    retry = OfficialAccountPeer(stack.app_url).post(message, "aes")  # the database is back
    assert (
        property_fee(stack_system, me) in OfficialAccountPeer(stack.app_url).reply(retry)["Content"]
    )


def restart_postgresql() -> None:
    version = next(Path("/etc/postgresql").iterdir()).name
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        timeout=120,
    )


def test_postgresql_restarting_mid_load_loses_and_duplicates_no_repair_order(
    stack: RunningStack, stack_system: LocalPropertySystem
) -> None:
    if not stack.env["DATABASE_URL"].startswith("postgresql") or os.geteuid() != 0:
        pytest.skip("needs the stack on PostgreSQL and the right to restart it")
    residents = [resident(stack_system, HOME_101) for _ in range(8)]
    wechat = OfficialAccountPeer(stack.app_url)
    messages = {me: wechat.text(me, "客厅空调不制冷，明天下午来修") for me in residents}

    def deliver(me: str) -> int:
        """As WeChat does: the same message again while the answer is not a 200."""
        for _ in range(8):
            with suppress(httpx.HTTPError):
                response = wechat.post(messages[me], "aes", timeout=15)
                if response.status_code == 200:
                    return 200
            time.sleep(1)
        return response.status_code

    with ThreadPoolExecutor(max_workers=9) as pool:
        early = [pool.submit(deliver, me) for me in residents[:4]]
        restarted = pool.submit(restart_postgresql)
        late = [pool.submit(deliver, me) for me in residents[4:]]
        restarted.result()
        statuses = [f.result() for f in early + late]

    assert statuses == [200] * len(residents)
    deadline = time.monotonic() + 90  # answers held up by the restart come by push
    while time.monotonic() < deadline:
        orders = {me: len(stack_system.repairs.for_resident(me)) for me in residents}
        if all(count == 1 for count in orders.values()):
            break
        time.sleep(1)
    assert orders == dict.fromkeys(residents, 1)
