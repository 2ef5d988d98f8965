"""Staff authentication: OAuth2 password flow, signed bearer tokens (JWT, HS256)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer

from app.settings import get_settings

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)
UNAUTHORISED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="请先登录员工账号。",
    headers={"WWW-Authenticate": "Bearer"},
)


@dataclass(frozen=True)
class Staff:
    username: str
    display_name: str
    role: str


@lru_cache
def signing_key() -> str:
    settings = get_settings()
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    if settings.app_env == "production":
        raise RuntimeError("SECRET_KEY must be set in production")
    return secrets.token_urlsafe(32)  # development: tokens last until the app restarts


def issue_token(staff: Staff) -> str:
    expires = datetime.now(UTC) + timedelta(minutes=get_settings().staff_token_minutes)
    claims = {"sub": staff.username, "name": staff.display_name, "role": staff.role, "exp": expires}
    return jwt.encode(claims, signing_key(), algorithm="HS256")


def current_staff(token: Annotated[str | None, Depends(oauth2)]) -> Staff:
    if not token:
        raise UNAUTHORISED
    try:
        claims = jwt.decode(token, signing_key(), algorithms=["HS256"])
    except jwt.PyJWTError:
        raise UNAUTHORISED from None
    return Staff(username=claims["sub"], display_name=claims["name"], role=claims["role"])


StaffUser = Annotated[Staff, Depends(current_staff)]
