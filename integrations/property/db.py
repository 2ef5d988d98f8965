"""Engine, sessions and migrations of the built-in property database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import structlog
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
# Waits before trying a transaction again after its connection was lost (a restart).
RECONNECT_DELAYS = (0.5, 1.0, 2.0)
T = TypeVar("T")
log = structlog.get_logger(__name__)


async def through_reconnects(work: Callable[[], T], what: str) -> T:
    """`work` (synchronous, one transaction) in a worker thread, again after a lost database
    connection (PostgreSQL restarting): a transaction that failed wrote nothing, so trying
    again cannot do anything twice."""
    for delay in RECONNECT_DELAYS:
        try:
            return await anyio.to_thread.run_sync(work)
        except OperationalError:
            log.warning("database_reconnect", work=what, retry_in=delay)
            await anyio.sleep(delay)
    return await anyio.to_thread.run_sync(work)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain `postgresql://` URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # Each of the app's worker threads (anyio runs up to 40) holds a connection while it
    # works; with SQLAlchemy's default of 5 kept, busy moments opened and closed a new
    # PostgreSQL connection per query, dearer than the query.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)
