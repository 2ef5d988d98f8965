"""Staff accounts: Argon2 password hashes, the password rules, and signed-in sessions.

A session row (its id is the token's `jti`) is what a signed token stands for: each request
reads it together with the account (one primary-key lookup), so a token of a deleted or
disabled account, of a signed-out session, or claiming a role the account does not have
is refused everywhere at once, whichever app worker it reaches."""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pwdlib import PasswordHash
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from integrations.property.interface import InvalidTransition, PropertyError
from integrations.property.models import StaffRole, StaffSession, StaffUser, utcnow
from integrations.property.services._base import Service

hasher = PasswordHash.recommended()
MIN_PASSWORD = 10

# The most used passwords in Chinese and international leaks that are 10 characters or longer
# (shorter ones are refused by length already); compared without case.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "0123456789",
        "9876543210",
        "12345678910",
        "123456789a",
        "a123456789",
        "a1234567890",
        "1234567890a",
        "123456789q",
        "q123456789",
        "qwertyuiop",
        "qwertyuiop123",
        "1qaz2wsx3edc",
        "1q2w3e4r5t",
        "1q2w3e4r5t6y",
        "q1w2e3r4t5",
        "zaq12wsxcde3",
        "asdfghjkl;",
        "asdfghjkl123",
        "zxcvbnm123",
        "password12",
        "password123",
        "password1234",
        "password!",
        "passw0rd123",
        "p@ssw0rd123",
        "p@ssword123",
        "iloveyou123",
        "woaini1314",
        "woaini520520",
        "woaini123456",
        "5201314520",
        "1314520520",
        "52013145201314",
        "admin12345",
        "admin123456",
        "administrator",
        "admin@1234",
        "admin@12345",
        "admin@123456",
        "root123456",
        "qazwsxedc123",
        "qazwsxedcrfv",
        "abc1234567",
        "abcd123456",
        "abcd1234567",
        "abc123456789",
        "aa123456789",
        "qq123456789",
        "wang123456",
        "zhang123456",
        "li123456789",
        "changeme123",
        "welcome123",
        "letmein123",
        "sunshine123",
        "football123",
        "princess123",
        "monkey12345",
        "dragon12345",
        "superman123",
        "trustno1234",
        "computer123",
        "internet123",
        "wuye123456",
        "wuye12345678",
        "xingfujiayuan",
        "ww123456789",
        "123qweasdzxc",
        "qweasdzxc123",
        "147258369a",
        "1472583690",
        "3141592653",
        "1357924680",
        "11223344556",
        "1122334455",
        "asd123456789",
        "zxc123456789",
    }
)
_SEPARATORS = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class StaffAccount:
    username: str
    display_name: str
    role: str
    active: bool


def _is_sequence(text: str) -> bool:
    """1234567890, abcdefghij, 9876543210, 1111111111, ababababab."""
    if len(set(text)) <= 2:
        return True
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return len(steps) == 1 and steps <= {-1, 1}


def password_problem(username: str, password: str) -> str | None:
    """Why this password may not be used for this account (in Chinese), or None."""
    if len(password) < MIN_PASSWORD:
        return f"密码至少{MIN_PASSWORD}位。"
    lowered = password.lower()
    name = username.lower()
    core = _SEPARATORS.sub("", lowered).strip("0123456789")
    if name and (core == name or lowered == name[::-1] or _SEPARATORS.sub("", lowered) == name):
        return "密码不能与用户名相同。"
    if lowered in COMMON_PASSWORDS or _is_sequence(lowered):
        return "密码太常见，容易被猜中，请换一个。"
    return None


def check_password(username: str, password: str) -> None:
    problem = password_problem(username, password)
    if problem is not None:
        raise PropertyError(problem)


class StaffService(Service):
    def create(self, username: str, password: str, *, display_name: str, role: str) -> None:
        check_password(username, password)
        if role not in {r.value for r in StaffRole}:
            raise PropertyError("角色只能是员工或管理员。")
        with self._tx() as session:
            if session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
                raise InvalidTransition(f"用户名 {username} 已经存在。")
            # Handoffs are claimed by display name: two accounts may not share one.
            if session.scalar(select(StaffUser.id).where(StaffUser.display_name == display_name)):
                raise InvalidTransition(f"姓名 {display_name} 已被其他账号使用。")
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
        """A new password; every session of the account ends."""
        check_password(username, password)
        with self._tx() as session:
            user = session.scalar(select(StaffUser).where(StaffUser.username == username))
            if user is None:
                raise LookupError(username)
            user.password_hash = hasher.hash(password)
            _revoke_all(session, user.id)

    def set_active(self, username: str, active: bool) -> None:
        """Disable (or enable again) an account; disabling ends its sessions at once."""
        with self._tx() as session:
            user = session.scalar(select(StaffUser).where(StaffUser.username == username))
            if user is None:
                raise LookupError(username)
            user.active = active
            if not active:
                _revoke_all(session, user.id)

    def authenticate(self, username: str, password: str) -> StaffUser | None:
        with self._tx() as session:
            user = session.scalar(select(StaffUser).where(StaffUser.username == username))
            if user is None or not user.active:
                hasher.hash(password)  # same cost either way: no user enumeration by timing
                return None
            return user if hasher.verify(password, user.password_hash) else None

    def start_session(self, username: str, lifetime: timedelta) -> tuple[str, datetime]:
        """A new session of this account: (its id, when it expires). Expired rows go."""
        now = utcnow()
        session_id = secrets.token_hex(16)
        with self._tx() as session:
            user_id = session.scalar(select(StaffUser.id).where(StaffUser.username == username))
            if user_id is None:
                raise LookupError(username)
            session.execute(delete(StaffSession).where(StaffSession.expires_at < now))
            expires = now + lifetime
            session.add(
                StaffSession(id=session_id, staff_id=user_id, created_at=now, expires_at=expires)
            )
        return session_id, expires

    def session_account(self, session_id: str) -> StaffAccount | None:
        """The account behind a live session, as it is now; None when the session was
        signed out or expired, or the account is gone or disabled."""
        with self._tx() as session:
            row = session.execute(
                select(StaffUser, StaffSession.revoked_at, StaffSession.expires_at)
                .join(StaffSession, StaffSession.staff_id == StaffUser.id)
                .where(StaffSession.id == session_id)
            ).first()
            if row is None:
                return None
            user, revoked_at, expires_at = row
            if revoked_at is not None or expires_at <= utcnow() or not user.active:
                return None
            return StaffAccount(user.username, user.display_name, user.role.value, user.active)

    def end_session(self, session_id: str) -> None:
        with self._tx() as session:
            session.execute(
                update(StaffSession)
                .where(StaffSession.id == session_id, StaffSession.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )


def _revoke_all(session: Session, staff_id: int) -> None:
    session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
