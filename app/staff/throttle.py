"""Staff sign-in throttle and the bound on concurrent password checks.

Attempts are counted per username and per client address in the app's key-value store
(Redis when REDIS_URL is set: shared by every worker) over a fixed window that starts with
the first attempt. A success clears its username's count and takes its own attempt back
from the address, so only failures remain. Past the limit the answer is 429 with
Retry-After, before any password is checked.

Each Argon2 check takes 64 MiB: at most ARGON2_CONCURRENCY run at once per worker, and
when more than MAX_WAITING sign-ins already wait for one the answer is 503 at once."""

from __future__ import annotations

import hashlib
import math

import anyio
from fastapi import FastAPI

from app.kv import KeyValue
from app.settings import Settings

ARGON2_CONCURRENCY = 2
MAX_WAITING = 16
BUSY_RETRY_SECONDS = 5
BUSY = "登录的人太多，请稍后再试。"


class LoginRefused(Exception):
    def __init__(self, status_code: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


def locked_message(minutes: int) -> str:
    return f"登录失败次数过多，请{minutes}分钟后再试。"


class LoginThrottle:
    def __init__(self, kv: KeyValue, settings: Settings) -> None:
        self._kv = kv
        self._window = settings.login_lockout_minutes * 60
        self._minutes = settings.login_lockout_minutes
        self._per_username = settings.login_failures_per_username
        self._per_address = settings.login_failures_per_address

    @staticmethod
    def _user_key(username: str) -> str:
        # Hashed: any length or character a visitor types makes a short, safe key.
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        return f"login:user:{digest}"

    @staticmethod
    def _address_key(address: str) -> str:
        return f"login:addr:{hashlib.sha256(address.encode()).hexdigest()[:32]}"

    async def attempt(self, username: str, address: str) -> None:
        """Count this attempt; LoginRefused(429) when the username or address is over."""
        user_count, user_left = await self._kv.incr(self._user_key(username), self._window)
        address_count, address_left = await self._kv.incr(self._address_key(address), self._window)
        waits = []
        if user_count > self._per_username:
            waits.append(user_left)
        if address_count > self._per_address:
            waits.append(address_left)
        if waits:
            raise LoginRefused(429, locked_message(self._minutes), max(1, math.ceil(max(waits))))

    async def succeeded(self, username: str, address: str) -> None:
        await self._kv.delete(self._user_key(username))
        await self._kv.incr(self._address_key(address), self._window, -1)


def argon2_limiter(app: FastAPI) -> anyio.CapacityLimiter:
    """Per app (and so per event loop): anyio's limiter belongs to the loop that made it."""
    limiter = getattr(app.state, "argon2_limiter", None)
    if limiter is None:
        limiter = anyio.CapacityLimiter(ARGON2_CONCURRENCY)
        app.state.argon2_limiter = limiter
    return limiter


def check_capacity(limiter: anyio.CapacityLimiter) -> None:
    if limiter.statistics().tasks_waiting >= MAX_WAITING:
        raise LoginRefused(503, BUSY, BUSY_RETRY_SECONDS)
