"""House binding: the form asks for the house and the role, then for the proof the
configuration chose for that room (BINDING_PROOFS: the last four digits of the registered
phone, an SMS code sent to it, or nothing more when staff review the claim)."""

from __future__ import annotations

import re
from typing import Any

import anyio
from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PropertyAction
from app.deps import property_system
from integrations.property.interface import (
    BindingRequestInfo,
    PropertyError,
    PropertySystem,
)

FOUR_DIGITS = re.compile(r"(?<!\d)(\d{4})(?!\d)")
SIX_DIGITS = re.compile(r"(?<!\d)(\d{6})(?!\d)")
ONLY_DIGITS = re.compile(r"\s*(\d{1,12})\s*")
ROLE_WORDS = {
    "业主": "owner",
    "房东": "owner",
    "租户": "tenant",
    "租客": "tenant",
    "家属": "family",
    "家人": "family",
}
ROLE_LABELS = {"owner": "业主", "tenant": "租户", "family": "家属"}
HOUSE_SLOTS = ("building", "unit", "room", "house_role")
PROOF_SLOTS = {"phone_last4": "phone_last4", "sms": "sms_code"}
FORM_SLOTS = (*HOUSE_SLOTS, "phone_last4", "sms_code")


def _house(tracker: Tracker) -> dict[str, str] | None:
    values = {name: tracker.get_slot(name) for name in ("building", "unit", "room")}
    return values if all(values.values()) else None


def _digits_answer(tracker: Tracker, pattern: re.Pattern[str]) -> str | None:
    """The digits a resident answered with: the pattern's match, else a bare number of the
    wrong length (kept, so that validation says what is expected)."""
    text = tracker.latest_message.get("text") or ""
    found = pattern.search(text)
    if found:
        return found.group(1)
    bare = ONLY_DIGITS.fullmatch(text)
    return bare.group(1) if bare else None


class ValidateBindHouseForm(FormValidationAction):
    def name(self) -> str:
        return "validate_bind_house_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """The house and the role, then the slot of the proof chosen for this room."""
        house = _house(tracker)
        if house is None or not tracker.get_slot("house_role"):
            return domain_slots
        try:
            choice = await anyio.to_thread.run_sync(
                lambda: property_system().residents.proof_for(tracker.sender_id, **house)
            )
        except Exception:  # an unknown room or no proof left: action_bind_house says why
            return domain_slots
        slot = PROOF_SLOTS.get(choice.proof)
        return [*domain_slots, slot] if slot else domain_slots

    async def extract_phone_last4(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "phone_last4":
            return {}
        phone = next(tracker.get_latest_entity_values("phone"), None)
        if phone:
            return {"phone_last4": phone[-4:]}
        digits = _digits_answer(tracker, FOUR_DIGITS)
        return {"phone_last4": digits} if digits else {}

    async def extract_sms_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "sms_code":
            return {}
        digits = _digits_answer(tracker, SIX_DIGITS)
        return {"sms_code": digits} if digits else {}

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

    def validate_sms_code(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if isinstance(value, str) and SIX_DIGITS.fullmatch(value):
            return {"sms_code": value}
        dispatcher.utter_message(text="请回复短信里的6位数字验证码。")
        return {"sms_code": None}

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


class ActionAskSmsCode(PropertyAction):
    """Texts a code to the room's registered phone (once while it is good) and asks for it;
    when no code can be sent the form ends with the reason."""

    def name(self) -> str:
        return "action_ask_sms_code"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        house = _house(tracker) or {}
        try:
            masked = system.residents.send_bind_code(tracker.sender_id, **house)
        except PropertyError as refused:
            dispatcher.utter_message(text=refused.message)
            return [SlotSet("requested_slot", None), ActiveLoop(None)]
        dispatcher.utter_message(
            text=f"验证码已发送到这套房屋登记的手机{masked}，请回复短信里的6位数字（5分钟内有效）。"
        )
        return []


class ActionBindHouse(PropertyAction):
    def name(self) -> str:
        return "action_bind_house"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        slots = {name: tracker.get_slot(name) for name in FORM_SLOTS}
        cleared = [SlotSet(name, None) for name in FORM_SLOTS]
        house = _house(tracker)
        if house is None or slots["house_role"] is None:
            return cleared
        try:
            if slots["phone_last4"] is not None or slots["sms_code"] is not None:
                outcome = system.residents.bind(
                    tracker.sender_id,
                    **house,
                    role=slots["house_role"],
                    phone_last4=slots["phone_last4"],
                    sms_code=slots["sms_code"],
                )
            elif system.residents.proof_for(tracker.sender_id, **house).proof == "review":
                outcome = system.residents.request_review(
                    tracker.sender_id, **house, role=slots["house_role"], name=None
                )
            else:  # the code could not be sent: the resident was told why
                return cleared
        except PropertyError as refused:
            dispatcher.utter_message(text=refused.message)
            return cleared
        if isinstance(outcome, BindingRequestInfo):
            checked = "手机号后四位核对无误。业主身份需要物业审核，" if outcome.verified_by else ""
            dispatcher.utter_message(
                text=f"{checked}已提交房屋绑定申请：{outcome.house}（{ROLE_LABELS[outcome.role]}），"
                "目前审核中，物业工作人员审核后会通知您。"
                "也可以带证件到物业服务中心当场办理。"
            )
            return cleared
        dispatcher.utter_message(
            text=f"绑定成功：{outcome.label}（{ROLE_LABELS[outcome.role]}）。"
            "现在可以查账单、报修和预约场地了。"
        )
        return cleared
