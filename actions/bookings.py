"""Booking facilities: one turn when everything is said (after a one-line confirmation),
otherwise only what is missing; taken slots answered with the nearest free ones."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import anyio
from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import BIND_BUTTON, PropertyAction, latest_entity
from app.deps import property_system
from integrations.property.interface import (
    BookingInfo,
    NotBound,
    PropertyError,
    PropertySystem,
    SlotTaken,
)
from integrations.property.services.bookings import NEEDS_HOUSE, day_label, span_label
from integrations.property.services.numbering import LOCAL_TZ

FORM_SLOTS = ("facility", "booking_window", "booking_time", "booking_confirmed")
CHANGE_WORDS = ("改到", "改成", "换到", "换成", "改期", "改时间", "挪到")
NUMBER = re.compile(r"YY\d{10,}", re.IGNORECASE)
LONGEST_SINGLE_BOOKING = timedelta(hours=2)
BARE_HOUR = timedelta(hours=1)  # how the time extractor reads "三点": 15:00–16:00
MAX_CHOICES = 8
DAY_WORDS = ("今", "明", "后天", "周", "星期", "礼拜", "号", "日")
YES, NO = "yes", "no"


def when(booking: BookingInfo) -> str:
    return span_label(booking.starts_at, booking.ends_at)


def exact_or_window(value: Any) -> tuple[dict[str, str] | None, dict[str, str] | None]:
    """A `time` entity as (an exact booking, a window to choose a start in)."""
    if not isinstance(value, dict) or "start" not in value:
        return None, None
    start = datetime.fromisoformat(value["start"])
    end = datetime.fromisoformat(value.get("end") or value["start"])
    if start.minute == 0 and timedelta(0) < end - start <= LONGEST_SINGLE_BOOKING:
        return value, None
    return None, value


def on_day_asked(exact: dict[str, str], window: Any, text: str) -> dict[str, str]:
    """ "四点" answering a question about Saturday means Saturday, not today."""
    if not isinstance(window, dict) or any(word in text for word in DAY_WORDS):
        return exact
    day = datetime.fromisoformat(window["start"]).date()
    start = datetime.fromisoformat(exact["start"])
    end = datetime.fromisoformat(exact.get("end") or exact["start"])
    shift = day - start.date()
    return {"start": (start + shift).isoformat(), "end": (end + shift).isoformat()}


def start_choice(facility: str, start: datetime) -> dict[str, str]:
    payload = json.dumps(
        {"facility": facility, "booking_start": start.isoformat()}, ensure_ascii=False
    )
    return {"title": f"{start.astimezone(LOCAL_TZ):%H:%M}", "payload": f"/book_facility{payload}"}


def booking_span(value: dict[str, str], slot_minutes: int) -> tuple[datetime, datetime]:
    """The start and end to book: a bare hour ("三点", read as 15:00–16:00) is one slot."""
    start = datetime.fromisoformat(value["start"])
    end = datetime.fromisoformat(value.get("end") or value["start"])
    if end - start <= BARE_HOUR:
        end = start + timedelta(minutes=slot_minutes)
    return start, end


def slot_minutes_of(system: PropertySystem, facility: str) -> int:
    return next((f.slot_minutes for f in system.facilities.list() if f.name == facility), 60)


class ActionStartBooking(PropertyAction):
    """Seeds the form with what the request said; a change of an existing booking
    ("把羽毛球场改到明天四点") is done at once."""

    def name(self) -> str:
        return "action_start_booking"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        resident = system.residents.by_openid(tracker.sender_id)
        if resident is None or not resident.houses:
            dispatcher.utter_message(text=NEEDS_HOUSE, buttons=BIND_BUTTON)
            return [SlotSet("booking_flow", "done"), *clear_form()]
        facility = latest_entity(tracker, "facility")
        chosen = latest_entity(tracker, "booking_start")
        exact, window = exact_or_window(latest_entity(tracker, "time"))
        text = tracker.latest_message.get("text") or ""
        if any(word in text for word in CHANGE_WORDS) and not chosen:
            self.change(dispatcher, tracker, system, facility, exact)
            return [SlotSet("booking_flow", "done"), *clear_form()]
        if chosen:  # picked from the free slots offered: that choice is the confirmation
            exact = {"start": chosen}
        return [
            SlotSet("booking_flow", "form"),
            SlotSet("facility", facility),
            SlotSet("booking_window", window),
            SlotSet("booking_time", exact),
            SlotSet("booking_confirmed", YES if chosen else None),
        ]

    def change(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        system: PropertySystem,
        facility: str | None,
        exact: dict[str, str] | None,
    ) -> None:
        mine = [
            b
            for b in system.bookings.for_resident(tracker.sender_id)
            if facility in (None, b.facility)
        ]
        if not mine:
            dispatcher.utter_message(text="您目前没有可以改期的预约。")
            return
        if exact is None:
            dispatcher.utter_message(
                text="请告诉我改到什么时间，比如“把羽毛球场改到明天下午四点”。"
            )
            return
        booking = mine[0]
        start = datetime.fromisoformat(exact["start"])
        said_end = datetime.fromisoformat(exact.get("end") or exact["start"])
        # "改到四点" (read as one hour) keeps the booking's length; "两点到四点" is as said.
        length = booking.ends_at - booking.starts_at
        end = said_end if said_end - start > BARE_HOUR else start + length
        try:
            moved = system.bookings.change(tracker.sender_id, booking.id, start, end)
        except SlotTaken as taken:
            dispatcher.utter_message(text=f"{taken.message}原来的预约 {when(booking)} 保持不变。")
            return
        dispatcher.utter_message(text=f"已改期：{moved.facility} {when(moved)}。")


class ValidateBookingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_booking_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("booking_time") is not None:
            return [s for s in domain_slots if s != "booking_window"]
        return domain_slots

    async def extract_facility(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        facility = latest_entity(tracker, "facility")
        return {"facility": facility} if facility and not tracker.get_slot("facility") else {}

    async def extract_booking_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("booking_time") is not None:
            return {}
        chosen = latest_entity(tracker, "booking_start")
        if chosen:  # picked from the free slots offered: that choice is the confirmation
            return {"booking_time": {"start": chosen}, "booking_confirmed": YES}
        exact, window = exact_or_window(latest_entity(tracker, "time"))
        if exact:
            text = tracker.latest_message.get("text") or ""
            return {"booking_time": on_day_asked(exact, tracker.get_slot("booking_window"), text)}
        return {"booking_window": window} if window else {}

    async def extract_booking_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "booking_confirmed":
            return {}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        answer = {"affirm": YES, "deny": NO, "cancel_booking": NO}.get(intent or "")
        return {"booking_confirmed": answer} if answer else {}

    async def validate_facility(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:  # cleared when the form starts: nothing to check yet
            return {"facility": None}
        names = [f.name for f in await anyio.to_thread.run_sync(property_system().facilities.list)]
        if value in names:
            return {"facility": value}
        dispatcher.utter_message(text=f"可以预约的场地有：{'、'.join(names)}。")
        return {"facility": None}


class ActionAskFacility(PropertyAction):
    def name(self) -> str:
        return "action_ask_facility"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text="请问要预约哪个场地？",
            buttons=[
                {"title": f.name, "payload": f'/inform{{"facility": "{f.name}"}}'}
                for f in system.facilities.list()
            ],
        )
        return []


class ActionAskBookingWindow(PropertyAction):
    def name(self) -> str:
        return "action_ask_booking_window"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text=f"想订{tracker.get_slot('facility')}的哪天几点？"
            "比如“明天下午三点”“周六上午十点到十二点”。"
        )
        return []


class ActionAskBookingTime(PropertyAction):
    """Offers the free starts of the day (or part of it) the resident named, as choices."""

    def name(self) -> str:
        return "action_ask_booking_time"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        facility = tracker.get_slot("facility")
        window = tracker.get_slot("booking_window")
        if not isinstance(window, dict):
            return ActionAskBookingWindow().act(dispatcher, tracker, system)
        first = datetime.fromisoformat(window["start"])
        last = datetime.fromisoformat(window.get("end") or window["start"])
        day = system.bookings.availability(facility, first.astimezone(LOCAL_TZ).date())
        free = [s for s in day.free if first <= s < last][:MAX_CHOICES]
        if day.closed:
            text = f"{facility}{day_label(day.day)}不开放，请换一天。"
        elif not free:
            text = f"{facility}{day_label(day.day)}这个时段已经订满了，请换个时间。"
        else:
            dispatcher.utter_message(
                text=f"{facility}{day_label(day.day)}这些时间还空，选一个直接预约：",
                buttons=[start_choice(facility, start) for start in free],
            )
            return []
        dispatcher.utter_message(text=text)
        return [SlotSet("booking_window", None)]


class ActionAskBookingConfirmed(PropertyAction):
    def name(self) -> str:
        return "action_ask_booking_confirmed"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        facility = tracker.get_slot("facility")
        span = booking_span(tracker.get_slot("booking_time"), slot_minutes_of(system, facility))
        dispatcher.utter_message(
            text=f"确认预约：{facility} {span_label(*span)}？",
            buttons=[
                {"title": "确认", "payload": "/affirm"},
                {"title": "不订了", "payload": "/deny"},
            ],
        )
        return []


class ActionBookFacility(PropertyAction):
    def name(self) -> str:
        return "action_book_facility"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        facility = tracker.get_slot("facility")
        cleared = [SlotSet("booking_flow", None), *clear_form()]
        if tracker.get_slot("booking_confirmed") != YES:
            dispatcher.utter_message(response="utter_booking_stopped")
            return cleared
        start, end = booking_span(
            tracker.get_slot("booking_time"), slot_minutes_of(system, facility)
        )
        try:
            booking = system.bookings.book(
                tracker.sender_id, facility, start, end, idempotency_key=self.key(tracker)
            )
        except SlotTaken as taken:
            dispatcher.utter_message(
                text=f"{taken.message}离您想要的时间最近的空场，选一个直接预约："
                if taken.alternatives
                else f"{taken.message}这两天都订满了，请换个场地或日期。",
                buttons=[start_choice(facility, s) for s in taken.alternatives],
            )
            return cleared
        except NotBound as refused:
            dispatcher.utter_message(text=refused.message, buttons=BIND_BUTTON)
            return cleared
        except PropertyError as refused:
            dispatcher.utter_message(text=refused.message)
            return cleared
        dispatcher.utter_message(
            text=f"预约成功：{booking.facility}（{booking.location}）{when(booking)}，"
            f"预约号 {booking.number}。开始前1小时会提醒您；不能来的话回复“取消预约”。"
        )
        return cleared


class ActionQueryBooking(PropertyAction):
    """With a facility or a day: what is free. Otherwise: the resident's own bookings."""

    def name(self) -> str:
        return "action_query_booking"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        facility = latest_entity(tracker, "facility")
        value = latest_entity(tracker, "time")
        if facility is None:
            mine = system.bookings.for_resident(tracker.sender_id)
            lines = [f"· {b.facility} {when(b)}（预约号 {b.number}）" for b in mine]
            dispatcher.utter_message(
                text="您的预约：\n" + "\n".join(lines)
                if mine
                else "您目前没有预约。想订场地可以直接说，比如“明天下午三点订羽毛球场”。"
            )
            return []
        first = (
            datetime.fromisoformat(value["start"])
            if isinstance(value, dict)
            else datetime.now(LOCAL_TZ)
        )
        day = system.bookings.availability(facility, first.astimezone(LOCAL_TZ).date())
        if day.closed:
            text = f"{facility}{day_label(day.day)}不开放。"
        elif not day.free:
            text = f"{facility}{day_label(day.day)}已经订满了。"
        else:
            starts = "、".join(f"{s.astimezone(LOCAL_TZ):%H:%M}" for s in day.free)
            text = (
                f"{facility}{day_label(day.day)}还可以预约：{starts}"
                f"（每场{day.slot_minutes}分钟）。"
            )
        dispatcher.utter_message(text=text)
        return []


class ActionCancelBooking(PropertyAction):
    def name(self) -> str:
        return "action_cancel_booking"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        mine = system.bookings.for_resident(tracker.sender_id)
        picked = latest_entity(tracker, "booking_id")
        quoted = NUMBER.search(tracker.latest_message.get("text") or "")
        facility = latest_entity(tracker, "facility")
        if picked:
            mine = [b for b in mine if str(b.id) == str(picked)]
        elif quoted:
            mine = [b for b in mine if b.number == quoted.group(0).upper()]
        elif facility:
            mine = [b for b in mine if b.facility == facility]
        if not mine:
            dispatcher.utter_message(text="没有找到可以取消的预约。")
        elif len(mine) > 1:
            dispatcher.utter_message(
                text=f"您有{len(mine)}个预约，要取消哪一个？",
                buttons=[
                    {
                        "title": f"{b.facility} {when(b)}",
                        "payload": f'/cancel_booking{{"booking_id": "{b.id}"}}',
                    }
                    for b in mine
                ],
            )
        else:
            cancelled = system.bookings.cancel(tracker.sender_id, mine[0].id)
            dispatcher.utter_message(text=f"已取消：{cancelled.facility} {when(cancelled)}。")
        return []


def clear_form() -> list[dict[str, Any]]:
    return [SlotSet(name, None) for name in FORM_SLOTS]
