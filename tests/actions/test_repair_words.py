"""How the repair actions read residents' words (the parts that need no server)."""

from __future__ import annotations

import pytest

from actions.formatting import visit_window
from actions.ratings import comment_beside_score, score_of
from actions.repairs import says_what_is_wrong


@pytest.mark.parametrize(
    ("text", "score", "comment"),
    [
        ("5", 5, None),
        ("打5分", 5, None),
        ("4分吧", 4, None),
        ("3分，来得有点晚", 3, "来得有点晚"),
        ("两分，师傅迟到了一个小时", 2, "师傅迟到了一个小时"),
        ("还行，四星", 4, "还行"),
        ("满分，谢谢师傅", 5, "谢谢师傅"),
        ("五星好评", 5, None),
        ("差评，弄得一地脏", 1, "差评，弄得一地脏"),
        ("15分", None, None),
        ("我要评价", None, None),
    ],
)
def test_a_score_and_the_comment_beside_it(
    text: str, score: int | None, comment: str | None
) -> None:
    assert score_of(text) == score
    if score is not None:
        assert comment_beside_score(text) == comment


@pytest.mark.parametrize(
    ("text", "item", "location", "described"),
    [
        ("厨房水管漏水了", "水管", "厨房", True),
        ("楼道的灯坏了", "灯", "楼道", True),
        ("我要报修", None, None, False),
        ("帮我报修一下马桶", "马桶", None, False),
        ("卫生间马桶", "马桶", "卫生间", False),
    ],
)
def test_a_report_says_what_is_wrong_only_beyond_item_and_place(
    text: str, item: str | None, location: str | None, described: bool
) -> None:
    assert says_what_is_wrong(text, item, location) is described


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (
            {"start": "2026-11-22T09:00:00+08:00", "end": "2026-11-22T12:00:00+08:00"},
            "11月22日 09:00–12:00",
        ),
        (
            {"start": "2026-11-22T00:00:00+08:00", "end": "2026-11-23T00:00:00+08:00"},
            "11月22日（全天）",
        ),
        (
            {"start": "2026-11-22T19:00:00+08:00", "end": "2026-11-23T00:00:00+08:00"},
            "11月22日 19:00–24:00",
        ),
        ({"start": "2026-11-22T15:00:00+08:00"}, "11月22日 15:00"),
        ("尽快", "尽快安排"),
    ],
)
def test_the_visit_window_as_residents_read_it(value: object, shown: str) -> None:
    assert visit_window(value) == shown
