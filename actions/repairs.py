"""Reporting a repair: emergencies at once, otherwise a form that asks only what is missing."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import anyio
import structlog
from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import OperationalError

from actions.base import BIND_BUTTON, PropertyAction, derived, latest_entity, may_retry
from actions.formatting import visit_window
from actions.handoffs import open_handoff
from app.conversations.staff_alerts import alert_staff_from_thread, console_link, resident_text
from app.deps import property_system
from bot.components.emergencies import emergency_of
from integrations.property.interface import (
    HandoffInfo,
    House,
    NotBound,
    PropertyError,
    PropertySystem,
    RepairInfo,
)
from integrations.property.services.numbering import LOCAL_TZ
from integrations.property.services.places import PUBLIC_ITEMS, is_public_area
from integrations.property.services.repairs import NEEDS_HOUSE

log = structlog.get_logger(__name__)

FORM_SLOTS = (
    "repair_item",
    "repair_location",
    "repair_house",
    "repair_description",
    "repair_time",
)
ASAP = "尽快"
# Intents an answer to the form's questions comes with ("尽快" reads as urge_repair); any
# other request (a bill question, "不用了") is not taken as an answer.
ANSWER_INTENTS = frozenset({"inform", "report_repair", "urge_repair", "nlu_fallback"})
SHORT_ANSWER = 8  # characters
ASAP_WORDS = ("尽快", "越快越好", "随时", "都可以", "都行", "马上", "立刻", "现在", "今天就")
# Words that say a repair is wanted but not what is wrong.
FILLER = re.compile(
    r"我要|我想|我家|家里|帮我|麻烦|请|报修|维修|报个修|修一下|修理|一下|师傅|来|的|了|吧|呢|啊"
    r"|[\s，。！？!?,.~、]"
)
HOUSE = re.compile(r"(\d+)\D{0,3}?(\d+)\D{0,3}?(\d{3,4})")
EMERGENCY_UNFILED = "系统暂时无法登记，请立即拨打物业24小时值班电话；有人员危险请拨打119或110。"
EMERGENCY_ITEMS = {"电梯困人": "电梯", "燃气泄漏": "燃气", "漏电起火": "电路", "大面积漏水": "水管"}
EMERGENCY_ADVICE = {
    "电梯困人": "请保持冷静，按电梯里的警铃或对讲按钮等待救援，不要扒门。",
    "燃气泄漏": "请不要开关电器、不要用明火，马上开窗通风，关闭燃气总阀，人员撤到室外。",
    "漏电起火": "请远离冒火花、冒烟的地方，确保安全时断开电闸；已经起火请立即拨打119。",
    "大面积漏水": "如果可以，请先关闭入户总水阀，断开附近的电源，把贵重物品移到高处。",
}


class ActionStartRepair(PropertyAction):
    """Files an emergency at once; otherwise seeds the form with what the report said."""

    def name(self) -> str:
        return "action_start_repair"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        item = latest_entity(tracker, "repair_item")
        location = latest_entity(tracker, "location") or (item if item in PUBLIC_ITEMS else None)
        kind = emergency_of(text)
        if kind is not None:
            self.file_emergency(dispatcher, tracker, system, kind, item, location)
            return [SlotSet("repair_flow", "done"), *clear_form()]
        if is_public_area(item, location) is False and not houses_of(system, tracker.sender_id):
            dispatcher.utter_message(text=NEEDS_HOUSE, buttons=BIND_BUTTON)
            return [SlotSet("repair_flow", "done"), *clear_form()]
        return [
            SlotSet("repair_flow", "form"),
            SlotSet("repair_item", item),
            SlotSet("repair_location", location),
            SlotSet("repair_house", house_named(tracker, text)),
            SlotSet(
                "repair_description", text if says_what_is_wrong(text, item, location) else None
            ),
            SlotSet("repair_time", latest_entity(tracker, "time")),
        ]

    def file_emergency(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        system: PropertySystem,
        kind: str,
        item: str | None,
        location: str | None,
    ) -> None:
        """An urgent order at once, a person to follow it up (the conversation is handed to
        the staff), the 24-hour number and what to do meanwhile.

        A lost connection before the last attempt is left to `_act_through_reconnects`: the
        attempt after it finds the order and handoff by their keys. "Not filed" is said only
        when no order exists; once one does, the resident hears its number and the staff
        group is alerted, whatever failed after it."""
        text = tracker.latest_message.get("text") or ""
        key = self.key(tracker)
        order: RepairInfo | None = None
        handoff: HandoffInfo | None = None
        phone: str | None = None
        try:
            order = system.repairs.create(
                tracker.sender_id,
                item=item or EMERGENCY_ITEMS[kind],
                location=location,
                description=text,
                public_area=is_public_area(item, location) is True,
                emergency=True,
                idempotency_key=key,
            )
            handoff = open_handoff(
                tracker, system, f"紧急报修：{kind}", key=derived(key, "handoff")
            )
            phone = system.residents.contacts(tracker.sender_id).emergency_phone
        except Exception as error:  # the advice and whom to call must reach the resident anyway
            if isinstance(error, OperationalError) and may_retry():
                raise
            log.exception("emergency_not_filed", conversation_id=tracker.sender_id, kind=kind)
            if order is None:
                dispatcher.utter_message(text=f"{EMERGENCY_UNFILED}\n{EMERGENCY_ADVICE[kind]}")
                return
        call = (
            f"24小时应急电话：{phone}，情况危急请立即拨打。"
            if phone
            else "情况危急请立即拨打物业24小时值班电话。"
        )
        follows = "接下来您发的消息会直接转给值班人员。" if handoff else ""
        dispatcher.utter_message(
            text=f"已为您紧急报修（{kind}），单号 {order.number}，值班人员已收到通知，"
            f"会马上处理，{follows}\n{call}\n{EMERGENCY_ADVICE[kind]}"
        )
        link = f"\n{console_link(handoff.id)}" if handoff else ""
        alert_staff_from_thread(
            f"【紧急报修】{kind}",
            staff_summary(order, text) + link,
            urgent=True,
            dedupe_key=derived(key, "alert"),
        )


class ValidateRepairForm(FormValidationAction):
    def name(self) -> str:
        return "validate_repair_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        public = is_public_area(
            tracker.get_slot("repair_item"), tracker.get_slot("repair_location")
        )
        if public:
            return [s for s in domain_slots if s not in ("repair_house", "repair_time")]
        houses = await anyio.to_thread.run_sync(houses_of, property_system(), tracker.sender_id)
        if public is False and not houses:
            return []  # nothing more to ask: filing it explains that binding comes first
        if len(houses) <= 1:
            return [s for s in domain_slots if s != "repair_house"]
        return domain_slots

    # Every answer is read for everything the form still lacks ("厨房的水龙头一直滴水" given
    # for the item also tells the place and the problem); free text only for the question
    # asked. Another request (a bill question, "不用了") answers nothing: see ANSWER_INTENTS.

    async def extract_repair_item(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        item = said(tracker, "repair_item", latest_entity(tracker, "repair_item"))
        if item is None:
            return {}
        if item in PUBLIC_ITEMS and not tracker.get_slot("repair_location"):
            return {"repair_item": item, "repair_location": item}
        return {"repair_item": item}

    async def extract_repair_location(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        location = said(tracker, "repair_location", latest_entity(tracker, "location"))
        return {"repair_location": location} if location else {}

    async def extract_repair_house(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        house = house_named(tracker, tracker.latest_message.get("text") or "")
        return {"repair_house": house} if house and answering(tracker) else {}

    async def extract_repair_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = (tracker.latest_message.get("text") or "").strip()
        if tracker.get_slot("repair_description") is not None or not text or not answering(tracker):
            return {}
        item = latest_entity(tracker, "repair_item")
        asked = tracker.get_slot("requested_slot") == "repair_description"
        reported = item is not None or intent_of(tracker) == "report_repair"
        if (asked and answering(tracker)) or (
            reported and says_what_is_wrong(text, item, latest_entity(tracker, "location"))
        ):
            return {"repair_description": text}
        return {}

    async def extract_repair_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        when = latest_entity(tracker, "time")
        text = tracker.latest_message.get("text") or ""
        if when is None and tracker.get_slot("requested_slot") == "repair_time":
            when = ASAP if any(word in text for word in ASAP_WORDS) else None
        if when is None or tracker.get_slot("repair_time") is not None or not answering(tracker):
            return {}
        return {"repair_time": when}

    async def validate_repair_house(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:  # cleared when the form starts: nothing to check yet
            return {"repair_house": None}
        houses = await anyio.to_thread.run_sync(houses_of, property_system(), tracker.sender_id)
        labels = [h.label for h in houses]
        if value in labels:
            return {"repair_house": value}
        dispatcher.utter_message(text=f"您绑定的房屋是：{'、'.join(labels)}，请选择其中一套。")
        return {"repair_house": None}

    def validate_repair_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if isinstance(value, dict) and "start" in value:
            end = datetime.fromisoformat(value.get("end") or value["start"])
            if end <= datetime.now(LOCAL_TZ):
                dispatcher.utter_message(
                    text="这个时间已经过去了，请说一个之后的时间，或者回复“尽快”。"
                )
                return {"repair_time": None}
        return {"repair_time": value}


class ActionAskRepairHouse(PropertyAction):
    def name(self) -> str:
        return "action_ask_repair_house"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        houses = houses_of(system, tracker.sender_id)
        dispatcher.utter_message(
            text="是哪一套房屋需要维修？",
            buttons=[{"title": h.label, "payload": h.label} for h in houses],
        )
        return []


class ActionSubmitRepair(PropertyAction):
    def name(self) -> str:
        return "action_submit_repair"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        item, location, house_label, description, when = (
            tracker.get_slot(name) for name in FORM_SLOTS
        )
        public = is_public_area(item, location) is True
        room_id = next(
            (h.room_id for h in houses_of(system, tracker.sender_id) if h.label == house_label),
            None,
        )
        window = when if isinstance(when, dict) and "start" in when else None
        cleared = [SlotSet("repair_flow", None), *clear_form()]
        try:
            order = system.repairs.create(
                tracker.sender_id,
                item=item,
                location=location,
                description=description or "",
                room_id=None if public else room_id,
                public_area=public,
                preferred_start=datetime.fromisoformat(window["start"]) if window else None,
                preferred_end=(
                    datetime.fromisoformat(window.get("end") or window["start"]) if window else None
                ),
                idempotency_key=self.key(tracker),
            )
        except NotBound as refused:
            dispatcher.utter_message(text=refused.message, buttons=BIND_BUTTON)
            return cleared
        except PropertyError as refused:
            dispatcher.utter_message(text=refused.message)
            return cleared
        lines = [
            f"已为您登记报修，单号 {order.number}。",
            f"· 报修内容：{described_order(order)}" + (f"（{description}）" if description else ""),
            "· 公共区域的维修由物业统一安排，修好后会通知您。"
            if public
            else f"· 上门时间：{visit_window(when)}",
            "维修师傅接单后会通知您。可以直接发照片给我，会附在这张报修单上；"
            "回复“报修进度”随时查看。",
        ]
        dispatcher.utter_message(text="\n".join(lines))
        return cleared


def clear_form() -> list[dict[str, Any]]:
    return [SlotSet(name, None) for name in FORM_SLOTS]


def houses_of(system: PropertySystem, openid: str) -> tuple[House, ...]:
    resident = system.residents.by_openid(openid)
    return resident.houses if resident else ()


def house_named(tracker: Tracker, text: str) -> str | None:
    """A house as "1栋1单元101", from the entities or from a label the resident typed."""
    parts = [latest_entity(tracker, name) for name in ("building", "unit", "room")]
    if all(parts):
        return "{}栋{}单元{}".format(*parts)
    found = HOUSE.search(text)
    return "{}栋{}单元{}".format(*found.groups()) if found else None


def says_what_is_wrong(text: str, item: str | None, location: str | None) -> bool:
    rest = text
    for word in (item, location):
        if word:
            rest = rest.replace(word, "")
    return len(FILLER.sub("", rest)) >= 1


def intent_of(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def answering(tracker: Tracker) -> bool:
    return intent_of(tracker) in ANSWER_INTENTS


def said(tracker: Tracker, slot: str, entity: str | None) -> str | None:
    """A slot's value in the latest message: its entity, or a short answer to its question."""
    if tracker.get_slot(slot) is not None or not answering(tracker):
        return None
    if entity is not None:
        return entity
    if tracker.get_slot("requested_slot") != slot or not answering(tracker):
        return None
    text = FILLER.sub("", tracker.latest_message.get("text") or "")
    return text if 0 < len(text) <= SHORT_ANSWER else None


def described_order(order: RepairInfo) -> str:
    """What and where, as staff and residents say it: "1栋1单元101 厨房 水管"."""
    where = order.location if order.location != order.item else None
    place = "公共区域" if order.public_area else order.house
    return " ".join(p for p in (place, where, order.item) if p)


def staff_summary(order: RepairInfo, said: str) -> str:
    """Robot markdown: what residents typed is escaped (`resident_text`)."""
    return "\n".join(
        [
            f"> 单号：{order.number}",
            f"> 报修：{resident_text(described_order(order))}",
            f"> 住户：{resident_text(order.resident_name or '未绑定住户')}",
            f"> 住户原话：{resident_text(said)}",
        ]
    )
