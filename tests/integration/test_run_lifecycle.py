"""`make run`: serves on a fresh data directory, stops cleanly, reuses what is built on restart."""

from __future__ import annotations

import os
import stat

import httpx

from scripts.stack import RunningStack, port_open, processes_marked
from tests.integration.stack import require_rasa


def process_group_gone(stack: RunningStack) -> bool:
    assert stack.process is not None
    try:
        os.killpg(stack.process.pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_run_serves_stops_on_signals_and_restarts_reusing_what_is_built(tmp_path) -> None:
    require_rasa()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'wuye.db'}", "VAR_DIR": str(tmp_path)}

    first = RunningStack(env=env, log=tmp_path / "first.log")
    first.start()
    password_file = tmp_path / "admin-password.txt"
    password = password_file.read_text().strip()
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    printed = first.output()
    assert "已写入演示小区" in printed
    assert first.app_url in printed and first.rasa_url in printed
    assert password not in printed and f"admin / 密码见 / password in {password_file}" in printed
    assert httpx.get(f"{first.app_url}/healthz", timeout=10).json()["status"] == "ok"

    assert first.interrupt() == 0
    assert "已停止" in first.output()
    assert process_group_gone(first), "Rasa or the app outlived Ctrl-C"
    assert first.leftovers == [], "a worker process outlived Ctrl-C"
    assert not port_open(first.app_port) and not port_open(first.rasa_port)

    second = RunningStack(env=env, log=tmp_path / "second.log")
    second.start()
    printed = second.output()
    assert "模型是最新的" in printed and "训练模型中" not in printed
    assert "已写入演示小区" not in printed
    assert password not in printed and f"admin / 密码见 / password in {password_file}" in printed
    with second.rasa_client(timeout=30) as rasa:
        reply = rasa.post(
            "/webhooks/rest/webhook",
            json={"sender": "demo-resident-1", "message": "我家这个月物业费多少"},
        )
    assert "1栋1单元101" in reply.json()[0]["text"]

    # A service manager stops it with SIGTERM to the run script alone.
    assert second.process is not None
    second.process.terminate()
    assert second.process.wait(timeout=60) == 0
    assert process_group_gone(second), "Rasa or the app outlived SIGTERM"
    assert processes_marked(second.marker) == [], "a worker process outlived SIGTERM"
