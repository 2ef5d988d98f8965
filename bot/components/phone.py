"""Mainland mobile numbers: 13800000001, 138 0000 0001, 138-0000-0001, +86 13800000001."""

from __future__ import annotations

import re
from dataclasses import dataclass

MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|＋)?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")


@dataclass(frozen=True)
class Phone:
    value: str
    start: int
    end: int


def find_phones(text: str) -> list[Phone]:
    return [Phone("".join(m.groups()), m.start(), m.end()) for m in MOBILE.finditer(text)]
