"""Staff authentication: signed tokens (JWT, HS256) carried as a bearer header (the REST
API, OAuth2 password flow) or as an HttpOnly, SameSite=Strict cookie (the console)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated
from urllib.parse import urlsplit

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from app.settings import get_settings

COOKIE = "wuye_staff"
ADMIN = "admin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)
UNAUTHORISED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="请先登录员工账号。",
    headers={"WWW-Authenticate": "Bearer"},
)
FORBIDDEN = HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="只有管理员可以这样做。")
CROSS_SITE = HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="请求来源不正确。")


@dataclass(frozen=True)
class Staff:
    username: str
    display_name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


@lru_cache
def signing_key() -> str:
    settings = get_settings()
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    if settings.app_env == "production":
        raise RuntimeError("SECRET_KEY must be set in production")
    return secrets.token_urlsafe(32)  # development: tokens last until the app restarts


def token_lifetime() -> timedelta:
    return timedelta(minutes=get_settings().staff_token_minutes)


def issue_token(staff: Staff) -> str:
    expires = datetime.now(UTC) + token_lifetime()
    claims = {"sub": staff.username, "name": staff.display_name, "role": staff.role, "exp": expires}
    return jwt.encode(claims, signing_key(), algorithm="HS256")


def staff_of(token: str | None) -> Staff | None:
    if not token:
        return None
    try:
        claims = jwt.decode(token, signing_key(), algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    return Staff(username=claims["sub"], display_name=claims["name"], role=claims["role"])


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
