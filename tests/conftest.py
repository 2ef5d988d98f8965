from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import Engine

from app.kv import RedisKV
from integrations.property import LocalPropertySystem
from integrations.property.db import make_engine, migrate, session_factory
from integrations.property.seed import seed_demo
from tests.services import postgres_schema, redis_url

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
