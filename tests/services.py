"""Real PostgreSQL and Redis for the tests: in CI (`CI=true`) a missing one fails, never skips."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import redis

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(service: str, error: Exception) -> None:
    message = f"{service} is not reachable ({error})"
    if IN_CI:
        pytest.fail(f"{message}; CI must run the tests that need it", pytrace=False)
    pytest.skip(message)


def postgres_available() -> bool:
    try:
        psycopg.connect(PG_URL, connect_timeout=2).close()
    except psycopg.Error:
        return False
    return True


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema; yields a URL whose connections use it. Dropped afterwards."""
    try:
        admin = psycopg.connect(PG_URL, autocommit=True, connect_timeout=2)
    except psycopg.Error as error:
        unavailable("PostgreSQL", error)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        separator = "&" if "?" in PG_URL else "?"
        yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        # A new connection: a test may have restarted PostgreSQL meanwhile.
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=10) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _redis_error() -> redis.RedisError | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        return error
    return None


def redis_available() -> bool:
    return _redis_error() is None


def redis_url() -> str:
    error = _redis_error()
    if error is not None:
        unavailable("Redis", error)
    return REDIS_URL
