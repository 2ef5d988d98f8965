from __future__ import annotations

from pwdlib import PasswordHash
from sqlalchemy import select

from integrations.property.models import StaffRole, StaffUser
from integrations.property.services._base import Service

hasher = PasswordHash.recommended()


class StaffService(Service):
    def create(self, username: str, password: str, *, display_name: str, role: str) -> None:
        with self._tx() as session:
            session.add(
                StaffUser(
                    username=username,
                    display_name=display_name,
                    password_hash=hasher.hash(password),
                    role=StaffRole(role),
                )
            )

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
