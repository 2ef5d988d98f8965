"""Rating a finished repair or a closed complaint: a score from 1 to 5 and, if the resident
wants, a comment. (The slots keep their repair_ names: they came first.)"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PropertyAction, derived
from actions.complaints import NUMBER as COMPLAINT_NUMBER
from actions.repair_followup import quoted_number
from actions.repairs import staff_summary
from app.conversations.staff_alerts import alert_staff_from_thread, resident_text
from integrations.property.interface import PropertySystem

DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "满": 5}
SCORE = re.compile(r"(?<![\d.])([1-5]|[一二两三四五满])\s*(分|星|颗星)?(?![\d.])")
PRAISE = ("好评", "非常满意", "很满意")
BLAME = ("差评", "非常不满意", "很不满意")
NO_COMMENT = re.compile(r"^(没有|没了|没|无|不用|不用了|算了|没什么|没啥|没意见|不了)[了。!！~]*$")
# What is left of a message once the score is taken out, when it is only a frame.
FRAME = re.compile(r"打|给|个|分|星|评价|好评|差评|服务|这次|维修|吧|了|的|[\s，。！？!?,.~、]")
LOW_SCORE = 2
COMPLAINT_PREFIX = "TS"
RATING_SLOTS = ("repair_number", "repair_score", "repair_comment")


def score_of(text: str) -> int | None:
    return scored(text)[0]


def comment_beside_score(text: str) -> str | None:
    """ "4分，师傅来晚了" → "师傅来晚了"; "打5分" → None."""
    rest = scored(text)[1]
    return rest.strip(" ，,。") if len(FRAME.sub("", rest)) >= 2 else None


def scored(text: str) -> tuple[int | None, str]:
    """The score in a message and the rest of it."""
    found = SCORE.search(text)
    if found and (found.group(2) or found.group(1).isdigit() or found.group(1) == "满"):
        rest = text[: found.start()] + text[found.end() :]
        return DIGITS.get(found.group(1)) or int(found.group(1)), rest
    if any(word in text for word in BLAME):
        return 1, text
    if any(word in text for word in PRAISE):
        return 5, text
    return None, text


def clear_rating() -> list[dict[str, Any]]:
    return [SlotSet(name, None) for name in RATING_SLOTS]


def rateable(system: PropertySystem, openid: str, number: str | None) -> str | None:
    """What the resident can rate now: the order or complaint quoted, else the one most
    recently finished and not rated yet."""
    if number is not None and number.startswith(COMPLAINT_PREFIX):
        complaint = system.complaints.get(number, openid=openid)
        return number if complaint.status == "closed" and complaint.rating is None else None
    if number is not None:
        order = system.repairs.get(number, openid=openid)
        return number if order.status == "completed" and order.rating is None else None
    order = system.repairs.awaiting_rating(openid)
    complaint = system.complaints.awaiting_rating(openid)
    if order is None or complaint is None:
        return order.number if order else complaint.number if complaint else None
    order_done = order.events[-1].at if order.events else order.created_at
    closed = complaint.closed_at or complaint.created_at
    return complaint.number if closed > order_done else order.number


class ActionStartRating(PropertyAction):
    def name(self) -> str:
        return "action_start_rating"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        quoted = COMPLAINT_NUMBER.search(text)
        number = rateable(
            system, tracker.sender_id, quoted.group(0).upper() if quoted else quoted_number(tracker)
        )
        if number is None:
            dispatcher.utter_message(
                text="您目前没有待评价的报修单或投诉。处理完成后我会请您打分，谢谢您的关注！"
            )
            return [*clear_rating(), SlotSet("rating_ready", False)]
        score = score_of(text)
        return [
            SlotSet("repair_number", number),
            SlotSet("repair_score", str(score) if score else None),
            SlotSet("repair_comment", comment_beside_score(text) if score else None),
            SlotSet("rating_ready", True),
        ]


class ValidateRateRepairForm(FormValidationAction):
    def name(self) -> str:
        return "validate_rate_repair_form"

    async def extract_repair_score(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "repair_score":
            return {}
        score = score_of(tracker.latest_message.get("text") or "")
        return {"repair_score": str(score)} if score else {}

    async def extract_repair_comment(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "repair_comment":
            return {}
        text = (tracker.latest_message.get("text") or "").strip()
        if not text:
            return {}
        return {"repair_comment": "" if NO_COMMENT.match(text) else text}

    def validate_repair_score(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:  # cleared when the form starts: nothing to check yet
            return {"repair_score": None}
        if value in {"1", "2", "3", "4", "5"}:
            return {"repair_score": value}
        dispatcher.utter_message(text="请回复1到5之间的数字，5分最满意。")
        return {"repair_score": None}


class ActionRateRepair(PropertyAction):
    def name(self) -> str:
        return "action_rate_repair"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        score = int(tracker.get_slot("repair_score"))
        comment = tracker.get_slot("repair_comment") or ""
        cleared = clear_rating()
        number = tracker.get_slot("repair_number")
        stars = "★" * score + "☆" * (5 - score)
        # A retry of this turn after a reconnect finds the rating (and its alert) it made;
        # a rating in a later turn has another key and finds the order already rated.
        key = self.key(tracker)
        if number.startswith(COMPLAINT_PREFIX):
            complaint = system.complaints.rate(
                number, openid=tracker.sender_id, score=score, comment=comment, idempotency_key=key
            )
            summary = "\n".join(
                [
                    f"> 投诉：{complaint.number}（{complaint.complaint_type}）",
                    f"> 住户：{resident_text(complaint.resident_name)} {complaint.houses}".rstrip(),
                    f"> 住户留言：{resident_text(comment) or '（未留言）'}",
                ]
            )
            thanks = "您的意见我们会认真改进。"
        else:
            order = system.repairs.rate(
                number, openid=tracker.sender_id, score=score, comment=comment, idempotency_key=key
            )
            summary = staff_summary(order, comment or "（未留言）")
            thanks = "您的意见我们会转达给维修师傅。"
        if score <= LOW_SCORE:
            alert_staff_from_thread(
                f"【低分评价】{score}分，请回访", summary, dedupe_key=derived(key, "alert")
            )
            reply = f"收到您的评价（{stars}）。很抱歉这次没让您满意，客服主管会尽快联系您了解情况。"
        else:
            reply = f"感谢您的评价（{stars}）！{thanks}"
        dispatcher.utter_message(text=reply)
        return cleared
