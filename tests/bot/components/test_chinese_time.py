from __future__ import annotations

from datetime import datetime

import pytest

from bot.components.chinese_time import LOCAL_TZ, find_times

# Saturday 21 November 2026, 10:00 in Shanghai.
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=LOCAL_TZ)


def spans(text: str) -> list[tuple[str, str, str]]:
    return [
        (text[t.start : t.end], t.value["start"], t.value["end"]) for t in find_times(text, NOW)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "明天下午三点订羽毛球场",
            [("明天下午三点", "2026-11-22T15:00:00+08:00", "2026-11-22T16:00:00+08:00")],
        ),
        (
            "后天晚上七点到九点活动室有空吗",
            [("后天晚上七点到九点", "2026-11-23T19:00:00+08:00", "2026-11-23T21:00:00+08:00")],
        ),
        (
            "下周六上午想约个师傅",
            [("下周六上午", "2026-11-28T07:00:00+08:00", "2026-11-28T12:00:00+08:00")],
        ),
        (
            "我家这个月物业费多少",
            [("这个月", "2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00")],
        ),
        (
            "上个月水费多少钱",
            [("上个月", "2026-10-01T00:00:00+08:00", "2026-11-01T00:00:00+08:00")],
        ),
        ("今年物业费交了没", [("今年", "2026-01-01T00:00:00+08:00", "2027-01-01T00:00:00+08:00")]),
        ("明早8点来修", [("明早8点", "2026-11-22T08:00:00+08:00", "2026-11-22T09:00:00+08:00")]),
        (
            "帮我订明天3点的乒乓球室",
            [("明天3点", "2026-11-22T15:00:00+08:00", "2026-11-22T16:00:00+08:00")],
        ),
        ("凌晨3点漏水了", [("凌晨3点", "2026-11-21T03:00:00+08:00", "2026-11-21T04:00:00+08:00")]),
        (
            "下午两点半到四点订会议室",
            [("下午两点半到四点", "2026-11-21T14:30:00+08:00", "2026-11-21T16:00:00+08:00")],
        ),
        ("周五活动室有空吗", [("周五", "2026-11-27T00:00:00+08:00", "2026-11-28T00:00:00+08:00")]),
        ("3栋2单元501漏水", []),
        ("", []),
    ],
)
def test_time_expressions_resolve_against_the_message_time(
    text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert spans(text) == expected


def test_month_arithmetic_crosses_the_year() -> None:
    january = datetime(2027, 1, 15, 9, 0, tzinfo=LOCAL_TZ)
    [last_month] = find_times("上个月电费", january)
    assert last_month.value == {
        "start": "2026-12-01T00:00:00+08:00",
        "end": "2027-01-01T00:00:00+08:00",
    }
