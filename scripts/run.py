"""`make run`: prepare the database and model, start Rasa and the app, stop both on Ctrl-C.

Ports and hosts come from APP_HOST / APP_PORT / ACTION_PORT / RASA_PORT (defaults 127.0.0.1,
8000, 5055, 5005). In development the tokens between the app and Rasa (RASA_TOKEN,
ACTION_ENDPOINT_TOKEN) are made anew for each run unless set, and left in VAR_DIR (0600) for
`make shell` and curl; production refuses to start without them (app/startup_checks.py).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from types import FrameType

import httpx

from app.cli import init_db
from app.settings import Settings, get_settings
from scripts import model
from scripts.processes import descendants
from scripts.rasa_endpoints import endpoints_file
from scripts.rasa_env import MODEL, RASA_PYTHON, ROOT, rasa_environ

READY_TIMEOUT_SECONDS = 300
READY_BANNER = "物业助手已启动"  # the integration tests and `make bench` wait for it
STOP_TIMEOUT_SECONDS = 20


class Stack:
    def __init__(self) -> None:
        settings = get_settings()
        self.rasa_port = int(os.environ.get("RASA_PORT", "5005"))
        self.app_url = f"http://127.0.0.1:{settings.app_port}"
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.action_url = f"http://{settings.action_host}:{settings.action_port}/rasa/webhook"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False

    def start(self) -> None:
        settings = get_settings()
        action_url = os.environ.get("ACTION_ENDPOINT_URL", self.action_url)
        endpoints = endpoints_file(settings, action_url)
        secrets_env = development_secrets(settings)
        self.processes["rasa"] = subprocess.Popen(
            [
                str(RASA_PYTHON),
                "-m",
                "bot.serve",
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
                **secrets_env,
                ACTION_ENDPOINT_URL=action_url,
                SANIC_WORKERS=str(settings.rasa_workers),
            ),
        )
        app_env = dict(
            os.environ, **secrets_env, RASA_URL=os.environ.get("RASA_URL", self.rasa_url)
        )
        self.processes["app"] = subprocess.Popen(
            [sys.executable, "-m", "app.serve"], cwd=ROOT, env=app_env
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
        """SIGTERM to each process, SIGKILL after the timeout; then whatever they started
        (uvicorn's and Sanic's worker processes) is ended too, so nothing is left running."""
        trees = {name: descendants(p.pid) for name, p in self.processes.items()}
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
        for name, process in self.processes.items():
            for pid in {*trees[name], *descendants(process.pid)}:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


SECRET_FILES = {"RASA_TOKEN": "rasa-token.txt", "ACTION_ENDPOINT_TOKEN": "action-token.txt"}


def development_secrets(settings: Settings) -> dict[str, str]:
    """The two tokens of this run: from the environment, else (development) new ones."""
    found: dict[str, str] = {}
    for name, file in SECRET_FILES.items():
        found[name] = os.environ.get(name, "")
        if found[name]:
            continue
        if settings.app_env == "production":
            raise SystemExit(f"{name} must be set in production")
        found[name] = secrets.token_urlsafe(32)
        path = settings.var_dir / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(found[name] + "\n")
    return found


def banner(stack: Stack) -> str:
    """Where everything is. Never the admin password itself: the terminal's scrollback and
    a service manager's journal keep what is printed; the file is readable by its owner only."""
    settings = get_settings()
    password_file = settings.admin_password_file
    if settings.admin_password is not None:
        password = "密码来自环境变量 ADMIN_PASSWORD / password from ADMIN_PASSWORD"
    elif password_file.exists():
        password = f"密码见 / password in {password_file} (0600)"
    else:
        password = "密码未知 / password unknown: the database was seeded elsewhere"
    token_file = settings.var_dir / SECRET_FILES["RASA_TOKEN"]
    return "\n".join(
        [
            "",
            f"{READY_BANNER} / 物业助手 is running",
            f"  应用 App          {stack.app_url}   (API docs {stack.app_url}/docs)",
            f"  健康检查 Health    {stack.app_url}/healthz",
            f"  Rasa (private)    {stack.rasa_url}   (REST channel /webhooks/rest/webhook?token=…)",
            f"  动作接口 Actions   {stack.action_url}   (Rasa only)",
            f"  管理员 Staff admin  admin / {password}",
            f"  进程 Processes     app ×{settings.app_workers}, Rasa ×{settings.rasa_workers}"
            + (", tracker store PostgreSQL" if settings.rasa_tracker_store_url else ""),
            "  试一试 Try:",
            f'    curl -s "{stack.rasa_url}/webhooks/rest/webhook?token=$(cat {token_file})" \\',
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
