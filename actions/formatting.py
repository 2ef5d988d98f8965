"""How residents expect to read amounts and dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from integrations.property.services.numbering import LOCAL_TZ


def yuan(amount: Decimal) -> str:
    return f"¥{amount:,.2f}"


def month(first_day: date) -> str:
    return f"{first_day.year}年{first_day.month}月"


def visit_window(value: object) -> str:
    """A `time` entity value ({"start", "end"} in ISO 8601) as a resident reads it."""
    if not isinstance(value, dict) or "start" not in value:
        return "尽快安排"
    start = datetime.fromisoformat(value["start"]).astimezone(LOCAL_TZ)
    end = datetime.fromisoformat(value.get("end") or value["start"]).astimezone(LOCAL_TZ)
    day = f"{start.month}月{start.day}日"
    midnight = end.time() == time(0)
    if end <= start:
        return f"{day} {start:%H:%M}"
    if start.time() == time(0) and midnight and end - start == timedelta(days=1):
        return f"{day}（全天）"
    if end.date() == start.date() or (midnight and end - start < timedelta(days=1)):
        return f"{day} {start:%H:%M}–{'24:00' if midnight else f'{end:%H:%M}'}"
    return f"{day} {start:%H:%M} – {end.month}月{end.day}日 {end:%H:%M}"
