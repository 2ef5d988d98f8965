from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import PropertyAction, latest_entity
from actions.formatting import month, yuan
from integrations.property.interface import BillLine, BillStatement, PropertySystem
from integrations.property.services.numbering import LOCAL_TZ

ARREARS_WORDS = ("欠", "没交", "未交", "没缴", "未缴", "还要交", "该交")
HISTORY_WORDS = ("记录", "交了多少", "交过", "缴过", "已交", "已缴", "交到")


class ActionQueryBill(PropertyAction):
    def name(self) -> str:
        return "action_query_bill"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, system: PropertySystem
    ) -> list[dict[str, Any]]:
        bill_type = latest_entity(tracker, "bill_type")
        text = tracker.latest_message.get("text") or ""
        period = months_of(latest_entity(tracker, "time"))
        this_month = datetime.now(LOCAL_TZ).date().replace(day=1)
        if any(word in text for word in ARREARS_WORDS) and period is None:
            lines = system.bills.statement(
                tracker.sender_id, bill_type=bill_type, unpaid_only=True
            ).lines
            reply = arrears_reply(lines, bill_type)
        elif any(word in text for word in HISTORY_WORDS):
            first, last = period or (this_month.replace(year=this_month.year - 1), this_month)
            lines = system.bills.statement(
                tracker.sender_id, bill_type=bill_type, period_from=first, period_to=last
            ).lines
            reply = history_reply([b for b in lines if b.paid], bill_type)
        else:
            first, last = period or (this_month, this_month)
            lines = system.bills.statement(tracker.sender_id, bill_type=bill_type).lines
            chosen = [b for b in lines if first <= b.period <= last]
            earlier_unpaid = [b for b in lines if b.period < first and not b.paid]
            reply = period_reply(chosen, earlier_unpaid, bill_type, first, last)
        dispatcher.utter_message(text=reply)
        return [SlotSet("bill_type", bill_type)]


def months_of(value: Any) -> tuple[date, date] | None:
    """The first days of the first and last month a `time` entity covers."""
    if not isinstance(value, dict) or "start" not in value:
        return None
    start = datetime.fromisoformat(value["start"]).astimezone(LOCAL_TZ)
    end = datetime.fromisoformat(value.get("end", value["start"])).astimezone(LOCAL_TZ)
    last = max(start, end - timedelta(seconds=1))
    return start.date().replace(day=1), last.date().replace(day=1)


def _span(first: date, last: date) -> str:
    if first == last:
        return month(first)
    if (first.month, last.month) == (1, 12) and first.year == last.year:
        return f"{first.year}年"
    return f"{month(first)}至{month(last)}"


def _line(bill: BillLine) -> str:
    due = f"{bill.due_date.month}月{bill.due_date.day}日"
    state = "已缴" if bill.paid else f"未缴，请于{due}前缴纳"
    return f"{bill.bill_type} {yuan(bill.amount)}（{state}）"


def _by_house_and_month(bills: list[BillLine], describe: Any) -> list[str]:
    lines: list[str] = []
    for house, of_house in groupby(bills, key=lambda b: b.house):
        lines.append(f"{house}：")
        for period, of_month in groupby(of_house, key=lambda b: b.period):
            lines.extend(f"· {month(period)} {describe(b)}" for b in of_month)
    return lines


def period_reply(
    bills: list[BillLine],
    earlier_unpaid: list[BillLine],
    bill_type: str | None,
    first: date,
    last: date,
) -> str:
    kind = bill_type or "费用"
    if not bills:
        lines = [f"{_span(first, last)}还没有{kind}账单。"]
    elif first == last:
        lines = [f"{bills[0].house} {month(first)}{kind}："]
        lines.extend(f"· {_line(b)}" for b in bills)
    else:
        lines = [f"{_span(first, last)}{kind}："]
        lines.extend(_by_house_and_month(bills, _line))
    if len(bills) > 1:
        chosen = BillStatement(tuple(bills))
        lines.append(f"合计 {yuan(chosen.total)}，其中未缴 {yuan(chosen.unpaid_total)}。")
    if earlier_unpaid:
        owed = BillStatement(tuple(earlier_unpaid)).unpaid_total
        lines.append(f"另有往月未缴{kind} {yuan(owed)}，请尽快缴纳。")
    elif bills and all(b.paid for b in bills):
        lines.append("已全部缴清，谢谢您！")
    return "\n".join(lines)


def arrears_reply(unpaid: list[BillLine], bill_type: str | None) -> str:
    kind = bill_type or "费用"
    if not unpaid:
        return f"您家目前没有未缴的{kind}，谢谢您按时缴费！"
    owed = BillStatement(tuple(unpaid)).unpaid_total
    lines = [f"您家目前未缴{kind}共 {yuan(owed)}："]
    lines.extend(_by_house_and_month(unpaid, _line))
    lines.append("可在本公众号“缴费”菜单或物业服务中心缴纳。")
    return "\n".join(lines)


def history_reply(paid: list[BillLine], bill_type: str | None) -> str:
    kind = bill_type or "费用"
    if not paid:
        return f"这段时间没有已缴的{kind}记录。"
    total = BillStatement(tuple(paid)).total
    lines = [f"已缴{kind}记录（共 {yuan(total)}）："]
    lines.extend(
        _by_house_and_month(
            paid,
            lambda b: (
                f"{b.bill_type} {yuan(b.amount)}，{b.paid_at.astimezone(LOCAL_TZ):%Y-%m-%d}缴纳"
                if b.paid_at
                else f"{b.bill_type} {yuan(b.amount)}"
            ),
        )
    )
    return "\n".join(lines)
