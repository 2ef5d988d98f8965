"""After a repair is filed: its progress, 催单 and cancelling it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import PropertyAction, derived
from actions.formatting import visit_window
from actions.repairs import described_order, staff_summary
from app.conversations.staff_alerts import alert_staff_from_thread
from integrations.property.interface import PropertySystem, RepairInfo
from integrations.property.models import RepairStatus
from integrations.property.services.numbering import LOCAL_TZ
from integrations.property.services.repairs import STATUS_LABELS

NUMBER = re.compile(r"BX\d{10,}", re.IGNORECASE)
OPEN = ("submitted", "assigned", "in_progress")
CANCELLABLE = ("submitted", "assigned")
RECENT = 3


def quoted_number(tracker: Tracker) -> str | None:
    found = NUMBER.search(tracker.latest_message.get("text") or "")
    return found.group(0).upper() if found else None


def target_number(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    candidates: Callable[[], list[RepairInfo]],
    *,
    verb: str,
    intent: str,
) -> str | None:
    """The order meant: quoted, or the only candidate; with several, the resident is
    offered each as a choice (a payload naming the intent and the number)."""
    number = quoted_number(tracker)
    if number is not None:
        return number
    orders = candidates()
    if len(orders) == 1:
        return orders[0].number
    if not orders:
        dispatcher.utter_message(text=f"您目前没有可以{verb}的报修单。")
        return None
    dispatcher.utter_message(
        text=f"您有{len(orders)}张报修单，要{verb}哪一张？",
        buttons=[
            {
                "title": f"{o.number} {described_order(o)}",
                "payload": f'/{intent}{{"repair_number": "{o.number}"}}',
            }
            for o in orders
        ],
    )
    return None


def status_line(order: RepairInfo) -> str:
    label = STATUS_LABELS[RepairStatus(order.status)]
    line = f"{order.number}｜{described_order(order)}｜{label}"
    if order.assignee and order.status in OPEN:
        line += f"｜维修师傅：{order.assignee}"
    last = order.events[-1]
    line += f"\n  最近进展：{last.at.astimezone(LOCAL_TZ):%m-%d %H:%M} {describe(last.kind, label)}"
    if order.status in ("submitted", "assigned") and order.preferred_start:
        window = {"start": order.preferred_start.isoformat()}
        if order.preferred_end:
            window["end"] = order.preferred_end.isoformat()
        line += f"\n  预约上门：{visit_window(window)}"
    return line


def describe(kind: str, label: str) -> str:
    return {"created": "已受理", "urged": "您催办过", "rated": "您已评价"}.get(kind, label)


class ActionQueryRepairStatus(PropertyAction):
    def name(self) -> str:
        return "action_query_repair"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        number = quoted_number(tracker)
        if number:
            order = system.repairs.get(number, openid=tracker.sender_id)
            dispatcher.utter_message(text=status_line(order))
            return []
        orders = system.repairs.for_resident(tracker.sender_id)
        still_open = [o for o in orders if o.status in OPEN]
        if still_open:
            lines = [f"您有{len(still_open)}张报修单在处理中："]
            lines += [status_line(o) for o in still_open]
        elif orders:
            lines = ["您目前没有在处理中的报修。最近的报修："]
            lines += [status_line(o) for o in orders[:RECENT]]
        else:
            lines = ["您还没有报修记录。需要报修的话，直接告诉我哪里坏了，比如“厨房水管漏水”。"]
        dispatcher.utter_message(text="\n".join(lines))
        return []


class ActionUrgeRepair(PropertyAction):
    def name(self) -> str:
        return "action_urge_repair"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        number = target_number(
            dispatcher,
            tracker,
            lambda: system.repairs.for_resident(tracker.sender_id, open_only=True),
            verb="催办",
            intent="urge_repair",
        )
        if number is None:
            return []
        key = self.key(tracker)
        order = system.repairs.urge(number, openid=tracker.sender_id, idempotency_key=key)
        urges = sum(e.kind == "urged" for e in order.events)
        alert_staff_from_thread(
            f"【住户催单】第{urges}次 · {STATUS_LABELS[RepairStatus(order.status)]}",
            staff_summary(order, tracker.latest_message.get("text") or ""),
            dedupe_key=derived(key, "alert"),
        )
        dispatcher.utter_message(
            text=f"已帮您催办报修单 {order.number}（{order.item}），"
            "值班人员已收到提醒，会优先处理。"
        )
        return []


class ActionCancelRepair(PropertyAction):
    def name(self) -> str:
        return "action_cancel_repair"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        number = target_number(
            dispatcher,
            tracker,
            lambda: [
                o for o in system.repairs.for_resident(tracker.sender_id) if o.status in CANCELLABLE
            ],
            verb="取消",
            intent="cancel_repair",
        )
        if number is None:
            return []
        key = self.key(tracker)
        order = system.repairs.cancel(number, openid=tracker.sender_id, idempotency_key=key)
        if order.assignee:  # someone may already be on the way
            alert_staff_from_thread(
                "【住户取消报修】",
                staff_summary(order, tracker.latest_message.get("text") or ""),
                dedupe_key=derived(key, "alert"),
            )
        dispatcher.utter_message(
            text=f"已取消报修单 {order.number}（{order.item}）。如果问题还在，随时再告诉我。"
        )
        return []
