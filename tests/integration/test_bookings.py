"""Booking facilities by conversation, through the real Rasa server, the app and the database."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import httpx
import pytest

from integrations.property import LocalPropertySystem
from integrations.property.services.numbering import LOCAL_TZ
from tests.integration.conftest import say
from tests.integration.test_repairs import HOME_101, HOME_202, resident
from tests.wechat.fake_server import FakeWeChat

WEEKDAYS = "一二三四五六日"


def tomorrow() -> date:
    return (datetime.now(LOCAL_TZ) + timedelta(days=1)).date()


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), LOCAL_TZ)


def label(day: date) -> str:
    return f"{day.month}月{day.day}日（周{WEEKDAYS[day.isoweekday() - 1]}）"


def turn(rasa: httpx.Client, sender: str, message: str) -> list[dict]:
    response = rasa.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})
    response.raise_for_status()
    return response.json()


@pytest.fixture
def court() -> str:
    """A facility no other test books, so that its slots are as the test leaves them."""
    return "篮球场"


def test_everything_said_at_once_is_booked_after_one_confirmation(
    rasa: httpx.Client, stack_system: LocalPropertySystem, fake_wechat: FakeWeChat
) -> None:
    me = resident(stack_system, HOME_101)
    day = tomorrow()

    [confirm] = turn(rasa, me, "明天下午三点订羽毛球场")
    assert confirm["text"] == f"确认预约：羽毛球场 {label(day)}15:00–16:00？"
    assert [b["title"] for b in confirm["buttons"]] == ["确认", "不订了"]
    [done] = say(rasa, me, "确认")

    [booking] = stack_system.bookings.for_resident(me)
    assert (booking.facility, booking.starts_at) == ("羽毛球场", at(day, 15))
    assert done.startswith(f"预约成功：羽毛球场（会所二楼）{label(day)}15:00–16:00")
    assert f"预约号 {booking.number}" in done
    # The stack reminds three days ahead (conftest), so the reminder loop picks it up.
    reminder = fake_wechat.wait_for(
        "/cgi-bin/message/template/send",
        lambda body: body["touser"] == me and "提醒：您预约的羽毛球场" in str(body["data"]),
    )
    assert f"{day.month}月{day.day}日 15:00–16:00" in reminder["data"]["remark"]["value"]


def test_only_what_is_missing_is_asked_and_free_starts_are_offered(
    rasa: httpx.Client, stack_system: LocalPropertySystem, court: str
) -> None:
    me = resident(stack_system, HOME_101)
    day = tomorrow()
    stack_system.bookings.book(resident(stack_system, HOME_202), court, at(day, 14))

    assert say(rasa, me, "我想订个场地")[0] == "请问要预约哪个场地？"
    assert say(rasa, me, court)[0].startswith(f"想订{court}的哪天几点")
    [offer] = turn(rasa, me, "明天下午")

    assert offer["text"] == f"{court}{label(day)}这些时间还空，选一个直接预约："
    titles = [b["title"] for b in offer["buttons"]]
    assert titles == ["13:00", "15:00", "16:00", "17:00"]  # 14:00 is taken
    [done] = say(rasa, me, offer["buttons"][2]["payload"])

    assert done.startswith(f"预约成功：{court}")
    assert [b.starts_at for b in stack_system.bookings.for_resident(me)] == [at(day, 16)]


def test_a_taken_slot_is_answered_with_the_nearest_free_ones(
    rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    me = resident(stack_system, HOME_101)
    day = tomorrow()
    stack_system.bookings.book(resident(stack_system, HOME_202), "乒乓球室", at(day, 10))
    stack_system.bookings.book(resident(stack_system, HOME_202), "乒乓球室", at(day, 10))

    turn(rasa, me, "明天上午十点订乒乓球室")
    [taken] = turn(rasa, me, "确认")

    assert taken["text"].startswith(f"乒乓球室 {label(day)}10:00–11:00 已经被订了。")
    assert [b["title"] for b in taken["buttons"]] == ["08:00", "09:00", "11:00"]
    assert stack_system.bookings.for_resident(me) == []
    [done] = say(rasa, me, taken["buttons"][2]["payload"])
    assert done.startswith("预约成功：乒乓球室") and "11:00–12:00" in done


def test_saying_no_books_nothing(rasa: httpx.Client, stack_system: LocalPropertySystem) -> None:
    me = resident(stack_system, HOME_101)

    say(rasa, me, "明天上午九点订羽毛球场")
    [stopped] = say(rasa, me, "不用了")

    assert stopped.startswith("好的，这次先不订了")
    assert stack_system.bookings.for_resident(me) == []


def test_availability_is_answered_from_the_database(
    rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    me = resident(stack_system, HOME_101)
    monday = datetime.now(LOCAL_TZ).date() + timedelta(days=7 - datetime.now(LOCAL_TZ).weekday())

    [closed] = say(rasa, me, "下周一活动室有空吗")
    assert closed == f"活动室{label(monday)}不开放。"
    [free] = say(rasa, me, "明天棋牌室还空着吗")
    expected = stack_system.bookings.availability("棋牌室", tomorrow())
    starts = "、".join(f"{s.astimezone(LOCAL_TZ):%H:%M}" for s in expected.free)
    assert starts.startswith("09:00、11:00")
    assert free == f"棋牌室{label(tomorrow())}还可以预约：{starts}（每场120分钟）。"


def test_the_resident_lists_changes_and_cancels_their_bookings(
    rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    me = resident(stack_system, HOME_101)
    day = tomorrow()
    badminton = stack_system.bookings.book(me, "羽毛球场", at(day, 9))
    stack_system.bookings.book(me, "健身房", at(day, 7))

    [listing] = say(rasa, me, "我订了哪些场地")
    assert f"羽毛球场 {label(day)}09:00–10:00（预约号 {badminton.number}）" in listing
    [moved] = say(rasa, me, "把羽毛球场改到明天下午四点")
    assert moved == f"已改期：羽毛球场 {label(day)}16:00–17:00。"

    [which] = turn(rasa, me, "取消预约")
    assert which["text"] == "您有2个预约，要取消哪一个？"
    [cancelled] = say(rasa, me, which["buttons"][1]["payload"])

    assert cancelled == f"已取消：羽毛球场 {label(day)}16:00–17:00。"
    assert [b.facility for b in stack_system.bookings.for_resident(me)] == ["健身房"]


def test_someone_not_bound_is_sent_to_binding_first(
    rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    [reply] = turn(rasa, "o-booking-stranger", "明天下午三点订羽毛球场")

    assert reply["text"] == "预约小区场地需要先绑定房屋。"
    assert reply["buttons"] == [{"title": "绑定房屋", "payload": "/bind_house"}]
