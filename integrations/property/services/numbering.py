"""Order numbers residents can read out on the phone (prefix, local date, sequence), and
the local time they read next to them."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def placeholder() -> str:
    """Unique until the row id is known (see `assign`)."""
    return uuid.uuid4().hex[:20]


def assign(prefix: str, created_at: datetime, row_id: int) -> str:
    return f"{prefix}{created_at.astimezone(LOCAL_TZ):%y%m%d}{row_id:04d}"


def moment_label(at: datetime) -> str:
    """ "11月21日 14:05", in the community's time."""
    local = at.astimezone(LOCAL_TZ)
    return f"{local.month}月{local.day}日 {local:%H:%M}"
