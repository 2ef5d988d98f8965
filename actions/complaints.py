"""Complaints: what kind, where, what happened, anonymous towards neighbours or not; then a
number and a deadline by kind. Danger (安全, 消防通道) is also handed to a person at once."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import structlog
from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import OperationalError

from actions.base import BIND_BUTTON, PropertyAction, derived, latest_entity, may_retry
from actions.handoffs import escalate
from actions.repairs import houses_of, intent_of
from app.conversations.staff_alerts import alert_staff_from_thread, resident_text
from app.settings import get_settings
from integrations.property.interface import ComplaintInfo, PropertyError, PropertySystem
from integrations.property.models import ComplaintStatus
from integrations.property.services.complaints import STATUS_LABELS, URGENT_TYPES
from integrations.property.services.numbering import LOCAL_TZ, moment_label

log = structlog.get_logger(__name__)

FORM_SLOTS = (
    "complaint_type",
    "complaint_location",
    "complaint_description",
    "complaint_anonymous",
)
TYPES = (
    "噪音",
    "停车",
    "消防通道",
    "卫生",
    "宠物",
    "装修",
    "服务态度",
    "电动车充电",
    "油烟",
    "占用公共区域",
    "安全",
    "其他",
)
OTHER = "其他"
UNFILED = "抱歉，系统暂时无法登记您的投诉，请稍后再试，或拨打物业服务电话。"
URGENT_UNFILED = (
    "系统暂时无法登记，这类问题涉及安全，请立即拨打物业24小时值班电话；有人员危险请拨打119或110。"
)
URGENT_ALERTED = "这类问题涉及安全，已通知值班工作人员；情况紧急请直接拨打物业24小时值班电话。"
NO_PLACE = "未说明"
# Intents an answer to the form's questions comes with; another request (a bill question)
# is answered and the form asks again.
ANSWER_INTENTS = frozenset(
    {"inform", "file_complaint", "nlu_fallback", "affirm", "deny", "report_repair"}
)
STOP = re.compile(r"^(算了|不投诉了|不想投诉了|取消投诉|不用了|不了)[吧。!！~]*$")
NONE_GIVEN = re.compile(r"^(无|没有|不涉及|不清楚|不知道|都有|整个小区|到处都是)[。!！~]*$")
ANONYMOUS = re.compile(r"匿名|保密|别说是我|不要透露|别透露")
NOT_ANONYMOUS = re.compile(r"不用|不需要|不必|无所谓|实名|可以透露|没关系|不匿名")
NUMBER = re.compile(r"TS\d{10,}", re.IGNORECASE)
# "算了" answering any question but anonymity (where "不用了" means "not anonymous").
STOPPED = {"complaint_stopped": True}
# What is left of a message once these go, when it is only "I want to complain".
FILLER = re.compile(
    r"我要|我想|我|要|想|投诉|举报|反映|反馈|提个|提|意见|建议|问题|一下|一个|个|给|物业|你们"
    r"|的|了|吧|啊|呢|[\s，。！？!?,.~、]"
)
TYPE_BUTTONS = [
    {"title": kind, "payload": f'/inform{{"complaint_type": "{kind}"}}'} for kind in TYPES
]


def describes(text: str) -> bool:
    """More than "我要投诉": something staff can act on (a button's payload is not)."""
    return not text.startswith("/") and len(FILLER.sub("", text)) >= 4


def _asked(tracker: Tracker, slot: str) -> bool:
    return tracker.get_slot("requested_slot") == slot


def _answering(tracker: Tracker) -> bool:
    return intent_of(tracker) in ANSWER_INTENTS


def deadline(complaint: ComplaintInfo) -> str:
    return moment_label(complaint.sla_due_at)


def console_complaint_link(number: str) -> str:
    return f"[打开客服工作台]({get_settings().public_base_url}/console/complaints/{number})"


def clear_form() -> list[dict[str, Any]]:
    return [SlotSet(name, None) for name in (*FORM_SLOTS, "complaint_stopped")]


class ActionStartComplaint(PropertyAction):
    """Seeds the form with what the complaint already said; residents not bound bind first."""

    def name(self) -> str:
        return "action_start_complaint"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        if not houses_of(system, tracker.sender_id):
            dispatcher.utter_message(
                text="投诉需要先绑定您的房屋，方便工作人员核实和回复您。", buttons=BIND_BUTTON
            )
            return [SlotSet("complaint_flow", "done"), *clear_form()]
        text = tracker.latest_message.get("text") or ""
        return [
            SlotSet("complaint_flow", "form"),
            *clear_form(),
            SlotSet("complaint_type", latest_entity(tracker, "complaint_type")),
            SlotSet("complaint_location", latest_entity(tracker, "location")),
            SlotSet("complaint_description", text if describes(text) else None),
        ]


class ValidateComplaintForm(FormValidationAction):
    def name(self) -> str:
        return "validate_complaint_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # "算了" ends the form: the one slot left is the one just filled, so rasa-sdk keeps it
        # (it drops slots that are not required) and the form ends; nothing is filed.
        return ["complaint_stopped"] if tracker.get_slot("complaint_stopped") else domain_slots

    async def extract_complaint_type(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = (tracker.latest_message.get("text") or "").strip()
        if _asked(tracker, "complaint_type") and STOP.match(text):
            return STOPPED
        if tracker.get_slot("complaint_type") or not _answering(tracker):
            return {}
        kind = latest_entity(tracker, "complaint_type")
        if not _asked(tracker, "complaint_type"):
            return {"complaint_type": kind} if kind else {}
        kind = kind or next((t for t in TYPES if t in text), OTHER)
        if describes(text) and not tracker.get_slot("complaint_description"):
            return {"complaint_type": kind, "complaint_description": text}  # told it all
        return {"complaint_type": kind}

    async def extract_complaint_location(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = (tracker.latest_message.get("text") or "").strip()
        if not _asked(tracker, "complaint_location"):
            return {}
        if STOP.match(text):
            return STOPPED
        if not text or not _answering(tracker):
            return {}
        return {"complaint_location": NO_PLACE if NONE_GIVEN.match(text) else text[:50]}

    async def extract_complaint_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = (tracker.latest_message.get("text") or "").strip()
        if not _asked(tracker, "complaint_description"):
            return {}
        if STOP.match(text):
            return STOPPED
        return {"complaint_description": text} if text and _answering(tracker) else {}

    async def extract_complaint_anonymous(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _asked(tracker, "complaint_anonymous"):
            return {}
        text = tracker.latest_message.get("text") or ""
        if intent_of(tracker) == "deny" or NOT_ANONYMOUS.search(text):
            return {"complaint_anonymous": "no"}
        if intent_of(tracker) == "affirm" or ANONYMOUS.search(text):
            return {"complaint_anonymous": "yes"}
        return {}

    def validate_complaint_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"complaint_type": value if value in TYPES or value is None else OTHER}


class ActionAskComplaintType(PropertyAction):
    def name(self) -> str:
        return "action_ask_complaint_type"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text="请问您要投诉哪方面的问题？", buttons=TYPE_BUTTONS)
        return []


class ActionSubmitComplaint(PropertyAction):
    def name(self) -> str:
        return "action_submit_complaint"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        cleared = [SlotSet("complaint_flow", None), *clear_form()]
        if tracker.get_slot("complaint_stopped"):
            dispatcher.utter_message(text="好的，这次先不投诉了。有需要随时告诉我。")
            return cleared
        kind, location, description, anonymous = (tracker.get_slot(s) for s in FORM_SLOTS)
        key = self.key(tracker)
        urgent = kind in URGENT_TYPES
        try:
            complaint = system.complaints.create(
                tracker.sender_id,
                complaint_type=kind,
                location=None if location == NO_PLACE else location,
                description=description,
                anonymous=anonymous == "yes",
                idempotency_key=key,
            )
        except PropertyError:
            raise  # not bound and the like: said as it is
        except Exception as error:
            if isinstance(error, OperationalError) and may_retry():
                raise
            log.exception("complaint_not_filed", conversation_id=tracker.sender_id, kind=kind)
            dispatcher.utter_message(text=URGENT_UNFILED if urgent else UNFILED)
            return []
        where = f"，{complaint.location}" if complaint.location else ""
        lines = [
            f"已为您登记投诉，编号 {complaint.number}（{kind}{where}）。",
            f"物业会在 {deadline(complaint)} 前给您答复。",
        ]
        if complaint.anonymous:
            lines.append("处理时不会向被投诉方透露您的身份。")
        lines.append("有照片可以直接发给我，会附在这条投诉上；回复“投诉进度”随时查看。")
        dispatcher.utter_message(text="\n".join(lines))
        summary = "\n".join(
            [
                f"> 编号：{complaint.number}（{kind}{resident_text(where)}）",
                f"> 住户：{resident_text(complaint.resident_name)} {complaint.houses}".rstrip()
                + ("（要求对被投诉方匿名）" if complaint.anonymous else ""),
                f"> 内容：{resident_text(description)}",
                f"> 答复期限：{deadline(complaint)}",
                console_complaint_link(complaint.number),
            ]
        )
        if not urgent:
            alert_staff_from_thread(f"【新投诉】{kind}", summary, dedupe_key=derived(key, "alert"))
            return cleared
        try:
            escalate(
                dispatcher,
                tracker,
                system,
                f"紧急投诉：{kind}",
                details=summary,
                opening="这类问题涉及安全，已同时为您转接值班工作人员",
                key=key,
                urgent=True,
            )
        except Exception as error:  # filed: the resident keeps its number, staff still hear
            if isinstance(error, OperationalError) and may_retry():
                raise
            log.exception("complaint_not_handed_over", conversation_id=tracker.sender_id)
            # The handoff's alert if it was queued (same key), else this one, once.
            alert_staff_from_thread(
                f"【紧急投诉】{kind}", summary, urgent=True, dedupe_key=derived(key, "alert")
            )
            dispatcher.utter_message(text=URGENT_ALERTED)
        return cleared


class ActionQueryComplaint(PropertyAction):
    def name(self) -> str:
        return "action_query_complaint"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        quoted = NUMBER.search(tracker.latest_message.get("text") or "")
        if quoted:
            complaints = [system.complaints.get(quoted.group(0), openid=tracker.sender_id)]
        else:
            complaints = system.complaints.for_resident(tracker.sender_id)[:3]
        if not complaints:
            dispatcher.utter_message(
                text="您目前没有投诉记录。需要投诉请直接告诉我遇到了什么问题。"
            )
            return []
        dispatcher.utter_message(text="\n\n".join(progress(c) for c in complaints))
        return []


def progress(complaint: ComplaintInfo) -> str:
    status = STATUS_LABELS[ComplaintStatus(complaint.status)]
    lines = [f"投诉 {complaint.number}（{complaint.complaint_type}）：{status}"]
    if complaint.response:
        lines.append(f"物业答复：{complaint.response}")
    elif complaint.status == "open":
        overdue = datetime.now(LOCAL_TZ) > complaint.sla_due_at
        lines.append(
            "已超过答复期限，很抱歉让您久等了。需要的话回复“转人工”直接联系工作人员。"
            if overdue
            else f"物业会在 {deadline(complaint)} 前答复您。"
        )
    return "\n".join(lines)
