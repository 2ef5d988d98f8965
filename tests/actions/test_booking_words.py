"""How the booking actions read times (the parts that need no server)."""

from __future__ import annotations

from datetime import datetime

import pytest

from actions.bookings import booking_span, exact_or_window, on_day_asked

SAT_15 = {"start": "2026-11-28T15:00:00+08:00", "end": "2026-11-28T16:00:00+08:00"}
AFTERNOON = {"start": "2026-11-22T13:00:00+08:00", "end": "2026-11-22T18:00:00+08:00"}
WHOLE_DAY = {"start": "2026-11-28T00:00:00+08:00", "end": "2026-11-29T00:00:00+08:00"}
TWO_TO_FOUR = {"start": "2026-11-22T14:00:00+08:00", "end": "2026-11-22T16:00:00+08:00"}


@pytest.mark.parametrize(
    ("value", "exact", "window"),
    [
        (SAT_15, SAT_15, None),
        (TWO_TO_FOUR, TWO_TO_FOUR, None),
        (AFTERNOON, None, AFTERNOON),
        (WHOLE_DAY, None, WHOLE_DAY),
        (None, None, None),
    ],
)
def test_a_time_is_an_exact_booking_or_a_window_to_choose_in(
    value: object, exact: object, window: object
) -> None:
    assert exact_or_window(value) == (exact, window)


def test_a_bare_hour_is_one_slot_of_the_facility() -> None:
    start, end = booking_span(SAT_15, slot_minutes=120)
    assert (start.hour, end.hour) == (15, 17)
    assert [t.hour for t in booking_span(TWO_TO_FOUR, slot_minutes=60)] == [14, 16]


def test_an_hour_answering_a_question_about_a_day_is_on_that_day() -> None:
    today_four = {"start": "2026-11-21T16:00:00+08:00", "end": "2026-11-21T17:00:00+08:00"}

    moved = on_day_asked(today_four, WHOLE_DAY, "四点")
    kept = on_day_asked(today_four, WHOLE_DAY, "今天四点")

    assert datetime.fromisoformat(moved["start"]).day == 28
    assert kept == today_four
