from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from integrations.property import LocalPropertySystem
from scripts.stack import RunningStack
from tests.integration.stack import require_rasa
from tests.integration.wechat_peer import OfficialAccountPeer, wechat_settings
from tests.services import (
    IN_CI,
    postgres_available,
    postgres_schema,
    redis_available,
    redis_url,
)
from tests.wechat.fake_server import FakeWeChat, running_fake_wechat


@pytest.fixture(scope="session")
def fake_wechat() -> Iterator[FakeWeChat]:
    with running_fake_wechat() as fake:
        yield fake


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory, fake_wechat: FakeWeChat
) -> Iterator[RunningStack]:
    """One real stack for the whole suite: Rasa with the trained model, the app, a database.

    PostgreSQL and Redis when they are there (always in CI), else embedded SQLite.
    """
    require_rasa()
    var = tmp_path_factory.mktemp("stack")
    with ExitStack() as resources:
        if IN_CI or postgres_available():
            database_url = resources.enter_context(postgres_schema())
        else:
            database_url = f"sqlite:///{var / 'wuye.db'}"
        env = {
            "DATABASE_URL": database_url,
            "VAR_DIR": str(var),
            "LOG_FORMAT": "json",
            # Every booking the tests make (tomorrow at the latest) is due for its reminder.
            "BOOKING_REMINDER_MINUTES": str(3 * 24 * 60),
            **wechat_settings(fake_wechat),
        }
        if IN_CI or redis_available():
            env["REDIS_URL"] = redis_url()
        running = RunningStack(env=env, log=var / "stack.log")
        running.start()
        yield running
        running.interrupt()


@pytest.fixture(scope="session")
def stack_system(stack: RunningStack) -> LocalPropertySystem:
    """The property system the stack runs on, to check what it wrote."""
    return LocalPropertySystem.from_url(stack.env["DATABASE_URL"])


@pytest.fixture(scope="session")
def rasa(stack: RunningStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.rasa_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def staff(stack: RunningStack) -> httpx.Client:
    return staff_client(stack)


def staff_client(stack: RunningStack) -> httpx.Client:
    """The staff API, signed in as the admin."""
    password = (Path(stack.env["VAR_DIR"]) / "admin-password.txt").read_text().strip()
    client = httpx.Client(base_url=stack.app_url, timeout=30)
    token = client.post("/api/auth/token", data={"username": "admin", "password": password})
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client


@pytest.fixture(scope="session")
def wechat(stack: RunningStack) -> OfficialAccountPeer:
    """WeChat's servers calling the Official Account callback, as residents write."""
    return OfficialAccountPeer(stack.app_url)


def says(wechat: OfficialAccountPeer, openid: str, text: str) -> str:
    """What the resident reads in the passive reply ("" when the app answers `success`)."""
    response = wechat.post(wechat.text(openid, text))
    response.raise_for_status()
    return "" if response.content in (b"success", b"") else wechat.reply(response)["Content"]


def say(rasa: httpx.Client, sender: str, message: str) -> list[str]:
    """What the resident reads after sending `message` through Rasa's REST channel."""
    response = rasa.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})
    response.raise_for_status()
    return [m["text"] for m in response.json() if "text" in m]
