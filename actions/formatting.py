"""How residents expect to read amounts and dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal


def yuan(amount: Decimal) -> str:
    return f"¥{amount:,.2f}"


def month(first_day: date) -> str:
    return f"{first_day.year}年{first_day.month}月"
