from __future__ import annotations

from dataclasses import dataclass

from pwdlib import PasswordHash
from sqlalchemy import select

from integrations.property.interface import InvalidTransition, PropertyError
from integrations.property.models import StaffRole, StaffUser
from integrations.property.services._base import Service

hasher = PasswordHash.recommended()
MIN_PASSWORD = 8


@dataclass(frozen=True)
class StaffAccount:
    username: str
    display_name: str
    role: str
    active: bool


class StaffService(Service):
    def create(self, username: str, password: str, *, display_name: str, role: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise PropertyError(f"密码至少{MIN_PASSWORD}位。")
        if role not in {r.value for r in StaffRole}:
            raise PropertyError("角色只能是员工或管理员。")
        with self._tx() as session:
            if session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
                raise InvalidTransition(f"用户名 {username} 已经存在。")
            session.add(
                StaffUser(
                    username=username,
                    display_name=display_name,
                    password_hash=hasher.hash(password),
                    role=StaffRole(role),
                )
            )

    def accounts(self) -> list[StaffAccount]:
        with self._tx() as session:
            return [
                StaffAccount(u.username, u.display_name, u.role.value, u.active)
                for u in session.scalars(select(StaffUser).order_by(StaffUser.id))
            ]

    def set_password(self, username: str, password: str) -> None:
        with self._tx() as session:
            user = session.scalar(select(StaffUser).where(StaffUser.username == username))
            if user is None:
                raise LookupError(username)
            user.password_hash = hasher.hash(password)

    def authenticate(self, username: str, password: str) -> StaffUser | None:
        with self._tx() as session:
            user = session.scalar(select(StaffUser).where(StaffUser.username == username))
            if user is None or not user.active:
                hasher.hash(password)  # same cost either way: no user enumeration by timing
                return None
            return user if hasher.verify(password, user.password_hash) else None
