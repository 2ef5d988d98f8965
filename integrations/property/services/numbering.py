"""Order numbers residents can read out on the phone: prefix, local date, sequence."""

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
