"""Escalation to a person: asked for ("人工"), a clearly angry resident, or the bot failed
to understand twice (urgent complaints and emergencies escalate from their own actions).

The handoff keeps the conversation so far; staff are pinged in their WeCom group with a
link to it; the resident is told a person will reply and roughly when. From then on the
app routes the resident's messages to the staff, not to the bot (app/conversations/router.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import PropertyAction, derived
from app.conversations.handoff_state import handoff_opened_from_thread
from app.conversations.staff_alerts import alert_staff_from_thread, console_link, resident_text
from integrations.property.interface import HandoffInfo, PropertySystem, ServiceContacts
from integrations.property.services.numbering import LOCAL_TZ

TRANSCRIPT_LINES = 20
FALLBACK = "nlu_fallback"
# Set on the parsed message by the NLU pipeline (bot/components/moods.py) when the
# resident is clearly angry; such a message is a request for a person.
MOOD, ANGRY = "mood", "angry"


def transcript_of(tracker: Tracker) -> list[dict[str, str]]:
    lines = []
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text"):
            lines.append({"from": "resident", "text": event["text"]})
        elif event.get("event") == "bot" and event.get("text"):
            lines.append({"from": "bot", "text": event["text"]})
    return lines[-TRANSCRIPT_LINES:]


def when_staff_reply(contacts: ServiceContacts, now: datetime) -> str:
    opens, closes = contacts.office_opens, contacts.office_closes
    if opens is None or closes is None or opens <= now.time() < closes:
        return "工作人员会尽快回复您，一般10分钟内。"
    urgent = (
        f"紧急情况请拨打24小时电话 {contacts.emergency_phone}。" if contacts.emergency_phone else ""
    )
    return (
        f"现在是下班时间（办公时间 {opens:%H:%M}–{closes:%H:%M}），"
        f"工作人员上班后会第一时间回复您。{urgent}"
    )


def open_handoff(
    tracker: Tracker, system: PropertySystem, reason: str, *, key: str | None = None
) -> HandoffInfo:
    channel = (tracker.latest_message.get("metadata") or {}).get("channel") or "rest"
    handoff = system.handoffs.open(
        tracker.sender_id,
        channel=channel,
        reason=reason,
        transcript=transcript_of(tracker),
        idempotency_key=key,
    )
    handoff_opened_from_thread(tracker.sender_id, handoff.id)
    return handoff


def escalate(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    system: PropertySystem,
    reason: str,
    *,
    details: str | None = None,
    opening: str = "已为您转接人工客服",
    key: str | None = None,
    urgent: bool = False,
) -> None:
    """Open the handoff, ping the staff group (`details`, already escaped, or who and their
    last words) and tell the resident a person will answer, and when. With `key` (the
    calling action's), an attempt again after a reconnect opens and alerts nothing twice."""
    handoff = open_handoff(tracker, system, reason, key=derived(key, "handoff"))
    if details is None:
        resident = system.residents.by_openid(tracker.sender_id)
        houses = "、".join(h.label for h in resident.houses) if resident else ""
        name = resident.name if resident else "未绑定住户"
        details = "\n".join(
            [
                f"> 住户：{resident_text(name)} {resident_text(houses)}".rstrip(),
                f"> 最后一句：{resident_text(tracker.latest_message.get('text'))}",
            ]
        )
    alert_staff_from_thread(
        f"【转人工】{reason}",
        f"> 会话：{handoff.id}\n{details}\n{console_link(handoff.id)}",
        urgent=urgent,
        dedupe_key=derived(key, "alert"),
    )
    now = datetime.now(LOCAL_TZ)
    dispatcher.utter_message(
        text=f"{opening}，接下来您发的消息会直接转给工作人员。"
        + when_staff_reply(system.residents.contacts(tracker.sender_id), now)
    )


class ActionRequestHuman(PropertyAction):
    def name(self) -> str:
        return "action_request_human"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        if tracker.latest_message.get(MOOD) == ANGRY:
            escalate(
                dispatcher,
                tracker,
                system,
                "住户情绪激动",
                opening="非常抱歉给您带来了不好的体验，已为您转接人工客服",
                key=self.key(tracker),
            )
        else:
            escalate(dispatcher, tracker, system, "住户要求人工", key=self.key(tracker))
        return []


class ActionFallback(PropertyAction):
    """The first time: ask to rephrase. The second time in a row: a person takes over."""

    def name(self) -> str:
        return "action_fallback"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        intents = [
            (e.get("parse_data") or {}).get("intent", {}).get("name")
            for e in tracker.events
            if e.get("event") == "user"
        ]
        if intents[-2:] == [FALLBACK, FALLBACK]:
            escalate(dispatcher, tracker, system, "连续两次没听懂", key=self.key(tracker))
        else:
            dispatcher.utter_message(response="utter_default")
        return []
