from __future__ import annotations

import re
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PropertyAction
from integrations.property.interface import PropertyError, PropertySystem

FOUR_DIGITS = re.compile(r"(?<!\d)(\d{4})(?!\d)")
ROLE_WORDS = {
    "业主": "owner",
    "房东": "owner",
    "租户": "tenant",
    "租客": "tenant",
    "家属": "family",
    "家人": "family",
}
ROLE_LABELS = {"owner": "业主", "tenant": "租户", "family": "家属"}
FORM_SLOTS = ("building", "unit", "room", "house_role", "phone_last4")


class ValidateBindHouseForm(FormValidationAction):
    def name(self) -> str:
        return "validate_bind_house_form"

    async def extract_phone_last4(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "phone_last4":
            return {}
        phone = next(tracker.get_latest_entity_values("phone"), None)
        if phone:
            return {"phone_last4": phone[-4:]}
        found = FOUR_DIGITS.search(tracker.latest_message.get("text") or "")
        return {"phone_last4": found.group(1)} if found else {}

    async def extract_house_role(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "house_role":
            return {}
        text = tracker.latest_message.get("text") or ""
        role = next((code for word, code in ROLE_WORDS.items() if word in text), None)
        return {"house_role": role} if role else {}

    def validate_phone_last4(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if isinstance(value, str) and FOUR_DIGITS.fullmatch(value):
            return {"phone_last4": value}
        dispatcher.utter_message(text="请回复4位数字，也就是登记手机号的最后四位。")
        return {"phone_last4": None}

    def validate_house_role(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if value in ROLE_LABELS:
            return {"house_role": value}
        dispatcher.utter_message(text="请选择：业主、租户或家属。")
        return {"house_role": None}


class ActionBindHouse(PropertyAction):
    def name(self) -> str:
        return "action_bind_house"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        slots = {name: tracker.get_slot(name) for name in FORM_SLOTS}
        cleared = [SlotSet(name, None) for name in FORM_SLOTS]
        try:
            house = system.residents.bind(
                tracker.sender_id,
                building=slots["building"],
                unit=slots["unit"],
                room=slots["room"],
                phone_last4=slots["phone_last4"],
                role=slots["house_role"],
            )
        except PropertyError as refused:
            dispatcher.utter_message(text=refused.message)
            return cleared
        dispatcher.utter_message(
            text=f"绑定成功：{house.label}（{ROLE_LABELS[house.role]}）。"
            "现在可以查账单、报修和预约场地了。"
        )
        return cleared
