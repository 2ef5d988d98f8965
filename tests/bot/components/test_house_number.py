from __future__ import annotations

import pytest

from bot.components.house_number import find_house_parts
from bot.components.numerals import to_digits


def values(text: str) -> dict[str, str]:
    return {part.entity: part.value for part in find_house_parts(text)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3栋2单元501", {"building": "3", "unit": "2", "room": "501"}),
        ("我家是3-2-501", {"building": "3", "unit": "2", "room": "501"}),
        ("三号楼二单元五零一室", {"building": "3", "unit": "2", "room": "501"}),
        ("12幢1单元1102室漏水", {"building": "12", "unit": "1", "room": "1102"}),
        ("12幢1102", {"building": "12", "room": "1102"}),
        ("3#楼2门501的马桶", {"building": "3", "unit": "2", "room": "501"}),
        ("二十一栋三单元一零二", {"building": "21", "unit": "3", "room": "102"}),
        ("１栋１单元１０１", {"building": "1", "unit": "1", "room": "101"}),
        ("5号楼3单元电梯坏了", {"building": "5", "unit": "3"}),
        ("3栋楼道灯不亮", {"building": "3"}),
        ("我家这个月物业费多少", {}),
        ("电话13800000001", {}),
        ("订单2026-11-21", {}),
    ],
)
def test_house_numbers_are_found_and_normalised(text: str, expected: dict[str, str]) -> None:
    assert values(text) == expected


def test_spans_point_at_the_numbers_the_resident_wrote() -> None:
    text = "我住三号楼二单元五零一"
    assert [text[p.start : p.end] for p in find_house_parts(text)] == ["三", "二", "五零一"]


@pytest.mark.parametrize(
    ("numeral", "digits"),
    [
        ("12", "12"),
        ("05", "5"),
        ("0501", "0501"),
        ("十二", "12"),
        ("二十一", "21"),
        ("五零一", "501"),
        ("幺零二", "102"),
        ("一千一百零二", "1102"),
        ("两", "2"),
        ("３", "3"),
    ],
)
def test_numerals(numeral: str, digits: str) -> None:
    assert to_digits(numeral) == digits
