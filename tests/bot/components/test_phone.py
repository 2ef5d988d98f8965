from __future__ import annotations

import pytest

from bot.components.phone import find_phones


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的电话13800000001", ["13800000001"]),
        ("手机 138 0000 0002", ["13800000002"]),
        ("138-0000-0003", ["13800000003"]),
        ("+86 13900001111 或 15012345678", ["13900001111", "15012345678"]),
        ("订单号 2026112100012345", []),
        ("座机 0571-88880000", []),
        ("12800000001", []),
    ],
)
def test_mobile_numbers(text: str, expected: list[str]) -> None:
    assert [p.value for p in find_phones(text)] == expected
