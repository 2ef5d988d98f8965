"""`make run`: prepare the database and model, start Rasa and the app, stop both on Ctrl-C.

Ports and hosts come from APP_HOST / APP_PORT / RASA_PORT (defaults 127.0.0.1, 8000, 5005).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType

import httpx

from app.cli import init_db
from app.settings import get_settings
from scripts import model
from scripts.rasa_endpoints import endpoints_file
from scripts.rasa_env import MODEL, RASA, ROOT, rasa_environ

READY_TIMEOUT_SECONDS = 300
READY_BANNER = "物业助手已启动"  # the integration tests and `make bench` wait for it
STOP_TIMEOUT_SECONDS = 20


class Stack:
    def __init__(self) -> None:
        self.app_host = os.environ.get("APP_HOST", "127.0.0.1")
        self.app_port = int(os.environ.get("APP_PORT", "8000"))
        self.rasa_port = int(os.environ.get("RASA_PORT", "5005"))
        self.app_url = f"http://127.0.0.1:{self.app_port}"
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False

    def start(self) -> None:
        settings = get_settings()
        action_url = os.environ.get("ACTION_ENDPOINT_URL", f"{self.app_url}/rasa/webhook")
        endpoints = endpoints_file(settings, action_url)
        self.processes["rasa"] = subprocess.Popen(
            [
                str(RASA),
                "run",
                "--enable-api",
                "-i",
                "127.0.0.1",
                "-p",
                str(self.rasa_port),
                "-m",
                str(MODEL),
                "--endpoints",
                str(endpoints),
                "--credentials",
                "bot/credentials.yml",
            ],
            cwd=ROOT,
            env=rasa_environ(
                ACTION_ENDPOINT_URL=action_url, SANIC_WORKERS=str(settings.rasa_workers)
            ),
        )
        app_env = dict(os.environ, RASA_URL=os.environ.get("RASA_URL", self.rasa_url))
        self.processes["app"] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:app",
                "--host",
                self.app_host,
                "--port",
                str(self.app_port),
                "--no-access-log",
                "--workers",
                str(settings.app_workers),
            ],
            cwd=ROOT,
            env=app_env,
        )

    def exited(self) -> str | None:
        return next((name for name, p in self.processes.items() if p.poll() is not None), None)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not self.stopping and time.monotonic() < deadline:
            if (name := self.exited()) is not None:
                raise SystemExit(f"{name} 启动失败 / {name} exited during start-up")
            try:
                if httpx.get(f"{self.app_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        if not self.stopping:
            raise SystemExit("启动超时 / the stack did not become healthy in time")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def banner(stack: Stack) -> str:
    settings = get_settings()
    password_file = settings.admin_password_file
    if settings.admin_password is not None:
        password = "（来自环境变量 ADMIN_PASSWORD / from ADMIN_PASSWORD）"
    elif password_file.exists():
        password = password_file.read_text().strip()
    else:
        password = "（未知 / unknown: the database was seeded elsewhere）"
    return "\n".join(
        [
            "",
            f"{READY_BANNER} / 物业助手 is running",
            f"  应用 App          {stack.app_url}   (API docs {stack.app_url}/docs)",
            f"  健康检查 Health    {stack.app_url}/healthz",
            f"  Rasa              {stack.rasa_url}   (REST channel /webhooks/rest/webhook)",
            f"  管理员 Staff admin  admin / {password}",
            f"  进程 Processes     app ×{settings.app_workers}, Rasa ×{settings.rasa_workers}"
            + (", tracker store PostgreSQL" if settings.rasa_tracker_store_url else ""),
            "  试一试 Try:",
            f"    curl -s {stack.rasa_url}/webhooks/rest/webhook \\",
            '      -d \'{"sender": "demo-resident-1", "message": "我家这个月物业费多少"}\'',
            "按 Ctrl-C 停止 / press Ctrl-C to stop",
            "",
        ]
    )


def main() -> None:
    init_db(seed=True)
    model.ensure()
    stack = Stack()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stack.stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stack.start()
    try:
        stack.wait_ready()
        if not stack.stopping:
            print(banner(stack), flush=True)
        while not stack.stopping and stack.exited() is None:
            time.sleep(0.5)
    finally:
        crashed = None if stack.stopping else stack.exited()
        print("正在停止 / stopping…", flush=True)
        stack.stop()
        print("已停止 / stopped", flush=True)
    if crashed:
        raise SystemExit(f"{crashed} 意外退出 / {crashed} exited unexpectedly")


if __name__ == "__main__":
    main()
