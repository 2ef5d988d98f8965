from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack

import httpx
import pytest
from sqlalchemy import Engine

from app.kv import RedisKV
from integrations.property import LocalPropertySystem
from integrations.property.db import make_engine, migrate, session_factory
from integrations.property.seed import seed_demo
from scripts.stack import RunningStack
from tests.integration.conftest import staff_client
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

ADMIN_PASSWORD = "test-admin-password"
# The NLU components' tests run in the Rasa environment (see `make test`).
collect_ignore = ["bot/components"]


@pytest.fixture
async def kv() -> AsyncIterator[RedisKV]:
    """Redis, with a key prefix of this test's own."""
    store = RedisKV(redis_url(), prefix=f"test-{uuid.uuid4().hex[:8]}:")
    yield store
    await store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A migrated, empty property database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'wuye.db'}"
        _migrate(url)
        yield url
    else:
        with postgres_schema() as url:
            _migrate(url)
            yield url


def _migrate(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def system(engine: Engine) -> LocalPropertySystem:
    """The property system with the demo community seeded."""
    with session_factory(engine).begin() as session:
        seed_demo(session, admin_password=ADMIN_PASSWORD)
    return LocalPropertySystem(engine)


# The real stack, one for the whole session (tests/integration, tests/security).


@pytest.fixture(autouse=True, scope="session")
def no_stack_outlives_the_tests() -> Iterator[None]:
    """A test that fails half-way leaves its stack running; it is stopped when the run ends."""
    yield
    for started in RunningStack.started:
        started.ensure_stopped()


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
        assert running.leftovers == [], "processes of the stack outlived it"


@pytest.fixture(scope="session")
def stack_system(stack: RunningStack) -> LocalPropertySystem:
    """The property system the stack runs on, to check what it wrote."""
    return LocalPropertySystem.from_url(stack.env["DATABASE_URL"])


@pytest.fixture(scope="session")
def rasa(stack: RunningStack) -> Iterator[httpx.Client]:
    with stack.rasa_client(timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def staff(stack: RunningStack) -> httpx.Client:
    return staff_client(stack)


@pytest.fixture(scope="session")
def wechat(stack: RunningStack) -> OfficialAccountPeer:
    """WeChat's servers calling the Official Account callback, as residents write."""
    return OfficialAccountPeer(stack.app_url)
