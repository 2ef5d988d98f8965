from __future__ import annotations

from datetime import datetime
from itertools import groupby
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import PropertyAction, latest_entity
from actions.formatting import month, yuan
from integrations.property.interface import BillLine, BillStatement, PropertySystem
from integrations.property.services.numbering import LOCAL_TZ


class ActionQueryBill(PropertyAction):
    def name(self) -> str:
        return "action_query_bill"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        bill_type = latest_entity(tracker, "bill_type")
        this_month = datetime.now(LOCAL_TZ).date().replace(day=1)
        statement = system.bills.statement(tracker.sender_id, bill_type=bill_type)
        current = BillStatement(tuple(b for b in statement.lines if b.period == this_month))
        arrears = BillStatement(
            tuple(b for b in statement.lines if b.period < this_month and not b.paid)
        )
        dispatcher.utter_message(text=bill_reply(current, arrears, bill_type, this_month))
        return [SlotSet("bill_type", bill_type)]


def bill_reply(
    current: BillStatement, arrears: BillStatement, bill_type: str | None, period: Any
) -> str:
    kind = bill_type or "费用"
    if not current.lines:
        lines = [f"{month(period)}还没有出{kind}账单。"]
    else:
        lines = []
        for house, bills in groupby(current.lines, key=lambda b: b.house):
            lines.append(f"{house} {month(period)}{kind}：")
            lines.extend(f"· {_line(b)}" for b in bills)
        if len(current.lines) > 1:
            lines.append(f"合计 {yuan(current.total)}，其中未缴 {yuan(current.unpaid_total)}。")
    if arrears.lines:
        lines.append(f"另有往月未缴{kind} {yuan(arrears.unpaid_total)}，请尽快缴纳。")
    elif current.unpaid_total == 0 and current.lines:
        lines.append("已全部缴清，谢谢您！")
    return "\n".join(lines)


def _line(bill: BillLine) -> str:
    state = "已缴" if bill.paid else f"未缴，请于{bill.due_date.month}月{bill.due_date.day}日前缴纳"
    return f"{bill.bill_type} {yuan(bill.amount)}（{state}）"
