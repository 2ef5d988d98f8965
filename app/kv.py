"""A small key-value store: Redis when REDIS_URL is set, else in-process memory.

Shared state across app workers (dedupe, reply cache, access tokens, rate limits) goes
through this; with the memory store the app must run a single worker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError


class KeyValue(Protocol):
    async def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool: ...

    async def set(self, key: str, value: str, ttl_seconds: float) -> None: ...

    async def get(self, key: str) -> str | None: ...

    async def delete(self, key: str) -> None: ...

    # A counter living ttl_seconds from its first count: (count, seconds left). Login throttle.
    async def incr(self, key: str, ttl_seconds: float, amount: int = 1) -> tuple[int, float]: ...

    async def ping(self) -> None: ...


class RedisKV:
    def __init__(self, url: str, prefix: str = "wuye:") -> None:
        # A connection that hiccups (a busy moment) is tried twice more within ~0.3 s before
        # the caller hears of it (and the app falls back to memory).
        self._redis = aioredis.Redis.from_url(
            url,
            socket_timeout=1,
            socket_connect_timeout=1,
            decode_responses=True,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 2),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
        )
        self._prefix = prefix

    async def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        ms = max(1, int(ttl_seconds * 1000))
        return bool(await self._redis.set(self._prefix + key, value, nx=True, px=ms))

    async def set(self, key: str, value: str, ttl_seconds: float) -> None:
        await self._redis.set(self._prefix + key, value, px=max(1, int(ttl_seconds * 1000)))

    async def get(self, key: str) -> str | None:
        return await self._redis.get(self._prefix + key)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def incr(self, key: str, ttl_seconds: float, amount: int = 1) -> tuple[int, float]:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, nx=True, px=max(1, int(ttl_seconds * 1000)))
            pipe.incrby(name, amount)
            pipe.pttl(name)
            _, count, left_ms = await pipe.execute()
        return int(count), max(0, int(left_ms)) / 1000

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


class MemoryKV:
    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float]] = {}
        self._lock = asyncio.Lock()

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] <= time.monotonic():
            del self._data[key]
            return None
        return item[0]

    async def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        async with self._lock:
            if self._live(key) is not None:
                return False
            self._data[key] = (value, time.monotonic() + ttl_seconds)
            return True

    async def set(self, key: str, value: str, ttl_seconds: float) -> None:
        self._data[key] = (value, time.monotonic() + ttl_seconds)

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def incr(self, key: str, ttl_seconds: float, amount: int = 1) -> tuple[int, float]:
        async with self._lock:
            if self._live(key) is None:
                self._data[key] = ("0", time.monotonic() + ttl_seconds)
            value, expires = self._data[key]
            count = int(value) + amount
            self._data[key] = (str(count), expires)
            return count, max(0.0, expires - time.monotonic())

    async def ping(self) -> None:
        return None


class FallbackKV:
    """Redis, degrading to process memory while Redis is unreachable (logged, not raised)."""

    def __init__(self, primary: KeyValue, on_degraded: Callable[[Exception], None]) -> None:
        self._primary = primary
        self._fallback = MemoryKV()
        self._on_degraded = on_degraded

    async def _call(self, method: str, *args: object) -> object:
        try:
            return await getattr(self._primary, method)(*args)
        except (RedisError, OSError) as error:
            self._on_degraded(error)
            return await getattr(self._fallback, method)(*args)

    async def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        return bool(await self._call("set_if_absent", key, value, ttl_seconds))

    async def set(self, key: str, value: str, ttl_seconds: float) -> None:
        await self._call("set", key, value, ttl_seconds)

    async def get(self, key: str) -> str | None:
        value = await self._call("get", key)
        return value if isinstance(value, str) else None

    async def delete(self, key: str) -> None:
        await self._call("delete", key)

    async def incr(self, key: str, ttl_seconds: float, amount: int = 1) -> tuple[int, float]:
        result = await self._call("incr", key, ttl_seconds, amount)
        assert isinstance(result, tuple)
        return result

    async def ping(self) -> None:
        await self._primary.ping()
