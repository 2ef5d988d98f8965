"""Staff authentication: signed tokens (JWT, HS256) carried as a bearer header (the REST
API, OAuth2 password flow) or as an HttpOnly, SameSite=Strict cookie (the console).

A token names a session (`jti`) and nothing else that is trusted: every request reads the
session and its account from the database (one primary-key lookup), so signing out, a
disabled or deleted account, and a changed role take effect at once on every worker, and a
forged `role` claim means nothing. Sign-in is throttled (app/staff/throttle.py)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

import anyio
import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from app.deps import local_property_system
from app.settings import get_settings
from app.staff.throttle import LoginRefused, LoginThrottle, argon2_limiter, check_capacity

COOKIE = "wuye_staff"
ADMIN = "admin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRONG_PASSWORD = "用户名或密码错误。"
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)
UNAUTHORISED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="请先登录员工账号。",
    headers={"WWW-Authenticate": "Bearer"},
)
FORBIDDEN = HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="只有管理员可以这样做。")
CROSS_SITE = HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="请求来源不正确。")
# Development without SECRET_KEY: tokens last until the app restarts. Production never gets
# here: the start-up check (app/startup_checks.py) refuses to serve without a 32-byte key.
_DEVELOPMENT_KEY = secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Staff:
    username: str
    display_name: str
    role: str
    session_id: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


def signing_key() -> str:
    settings = get_settings()
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    if settings.app_env == "production":  # create_app refused to start; a guard, not a path
        raise RuntimeError("SECRET_KEY must be set in production")
    return _DEVELOPMENT_KEY


def token_lifetime() -> timedelta:
    return timedelta(minutes=get_settings().staff_token_minutes)


def issue_token(username: str) -> str:
    """A new session of this account, and the signed token naming it (blocking: DB)."""
    session_id, expires = local_property_system().staff.start_session(username, token_lifetime())
    claims = {"sub": username, "jti": session_id, "iat": datetime.now(UTC), "exp": expires}
    return jwt.encode(claims, signing_key(), algorithm="HS256")


def _session_id(token: str | None) -> str | None:
    if not token:
        return None
    try:
        claims = jwt.decode(
            token, signing_key(), algorithms=["HS256"], options={"require": ["exp", "jti", "sub"]}
        )
    except jwt.PyJWTError:
        return None
    session_id = claims["jti"]
    return session_id if isinstance(session_id, str) else None


def staff_of(token: str | None) -> Staff | None:
    """Who this token signs in, as the database says now (blocking: one query)."""
    session_id = _session_id(token)
    if session_id is None:
        return None
    account = local_property_system().staff.session_account(session_id)
    if account is None:
        return None
    return Staff(account.username, account.display_name, account.role, session_id)


def sign_out(staff: Staff) -> None:
    if staff.session_id:
        local_property_system().staff.end_session(staff.session_id)


async def sign_in(request: Request, username: str, password: str) -> str:
    """A token for these credentials, or LoginRefused (401 wrong, 429 throttled, 503 busy).

    Each attempt is counted before the password is checked, so a flood of parallel guesses
    gets no more checks than the limit; a success takes its attempt back."""
    throttle = LoginThrottle(request.app.state.wiring.kv, get_settings())
    address = request.client.host if request.client else "unknown"
    await throttle.attempt(username, address)
    limiter = argon2_limiter(request.app)
    check_capacity(limiter)
    system = local_property_system()
    user = await anyio.to_thread.run_sync(
        system.staff.authenticate, username, password, limiter=limiter
    )
    if user is None:
        raise LoginRefused(status.HTTP_401_UNAUTHORIZED, WRONG_PASSWORD)
    await throttle.succeeded(username, address)
    return await anyio.to_thread.run_sync(issue_token, user.username)


def same_origin(request: Request) -> bool:
    """A cookie rides along on any request to us; a change must come from our own pages.
    (SameSite=Strict already keeps other sites' requests cookie-less; this is the second lock.)"""
    origin = request.headers.get("origin") or request.headers.get("referer")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


def current_staff(request: Request, bearer: Annotated[str | None, Depends(oauth2)]) -> Staff:
    if bearer:
        staff = staff_of(bearer)
    else:
        staff = staff_of(request.cookies.get(COOKIE))
        if staff is not None and request.method not in SAFE_METHODS and not same_origin(request):
            raise CROSS_SITE
    if staff is None:
        raise UNAUTHORISED
    return staff


def admin_staff(staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
    if not staff.is_admin:
        raise FORBIDDEN
    return staff


StaffUser = Annotated[Staff, Depends(current_staff)]
AdminUser = Annotated[Staff, Depends(admin_staff)]
