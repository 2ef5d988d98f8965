"""A staff member's decisions, carried out: the property system changes, then the
resident is told through their channel (the outbox keeps it until it is delivered).

The REST API (app/routes/staff_api.py) and the console (app/routes/console.py) both
call these, so a resident hears the same thing whichever one staff used."""

from __future__ import annotations

from typing import Any

import anyio
import structlog

from app.conversations.router import push_target
from app.deps import local_property_system
from app.staff.auth import Staff
from app.wiring import Wiring
from integrations.property.interface import (
    BookingInfo,
    ComplaintInfo,
    HandoffInfo,
    InvalidTransition,
    PropertyError,
    RepairInfo,
)
from integrations.property.services.numbering import moment_label

log = structlog.get_logger(__name__)


class Forbidden(PropertyError):
    """A step this staff member's role does not allow (403)."""


BOT_RESUMES = "本次人工服务已结束，感谢您的耐心。之后的问题物业助手继续为您解答。"
RATE_PLEASE = "请回复1-5分为本次服务打分，也欢迎说说您的意见。"
SCORES = [f"{n}分" for n in range(1, 6)]
REPAIR_NOTICES = {
    "assigned": "您的报修单 {number}（{item}）已派单，维修师傅{assignee}会尽快与您联系。",
    "in_progress": "您的报修单 {number}（{item}）维修师傅已开始处理。",
    "completed": "您的报修单 {number}（{item}）已维修完成。" + RATE_PLEASE,
}


async def tell(wiring: Wiring, openid: str | None, text: str, *, title: str) -> None:
    if openid:
        channel, recipient = push_target(openid)
        await wiring.outbox.send(channel, recipient, text, title=title)


async def ask_for_rating(wiring: Wiring, openid: str | None, text: str, *, title: str) -> None:
    """After "请回复1-5分" a bare "5" is the score, not an older numbered choice."""
    if openid:
        await wiring.router.offer_choices(openid, SCORES)
    await tell(wiring, openid, text, title=title)


async def move_repair(
    wiring: Wiring, staff: Staff, number: str, status: str, **changes: Any
) -> RepairInfo:
    system = local_property_system()
    order = await anyio.to_thread.run_sync(
        lambda: system.repairs.transition(number, status, actor=staff.display_name, **changes)
    )
    log.info("repair_status_changed", number=order.number, status=status, staff=staff.username)
    text = REPAIR_NOTICES[status].format(
        number=order.number, item=order.item, assignee=order.assignee or ""
    )
    if status == "completed":
        await ask_for_rating(wiring, order.resident_openid, text, title="报修进度")
    else:
        await tell(wiring, order.resident_openid, text, title="报修进度")
    return order


async def cancel_booking(wiring: Wiring, staff: Staff, booking_id: int, reason: str) -> BookingInfo:
    system = local_property_system()
    booking = await anyio.to_thread.run_sync(
        lambda: system.bookings.cancel_by_staff(booking_id, staff=staff.display_name)
    )
    log.info("booking_cancelled_by_staff", booking_id=booking_id, staff=staff.username)
    text = (
        f"很抱歉，您预约的{booking.facility} {moment_label(booking.starts_at)} "
        f"已被物业取消：{reason}。如需改约，请直接告诉我新的时间。"
    )
    await tell(wiring, booking.resident_openid, text, title="预约取消")
    return booking


async def respond_to_complaint(
    wiring: Wiring, staff: Staff, number: str, text: str
) -> ComplaintInfo:
    system = local_property_system()
    complaint = await anyio.to_thread.run_sync(
        lambda: system.complaints.transition(
            number, "processing", actor=staff.display_name, response=text
        )
    )
    log.info("complaint_answered", number=complaint.number, staff=staff.username)
    await tell(
        wiring,
        complaint.resident_openid,
        f"您的投诉 {complaint.number}（{complaint.complaint_type}）有了新答复：{text}",
        title="投诉进度",
    )
    return complaint


async def close_complaint(
    wiring: Wiring, staff: Staff, number: str, text: str | None
) -> ComplaintInfo:
    system = local_property_system()
    complaint = await anyio.to_thread.run_sync(
        lambda: system.complaints.transition(
            number, "closed", actor=staff.display_name, response=text or None
        )
    )
    log.info("complaint_closed", number=complaint.number, staff=staff.username)
    outcome = f"：{complaint.response}" if complaint.response else "。"
    await ask_for_rating(
        wiring,
        complaint.resident_openid,
        f"您的投诉 {complaint.number}（{complaint.complaint_type}）已办结{outcome}\n{RATE_PLEASE}",
        title="投诉办结",
    )
    return complaint


async def active_handoff(handoff_id: int) -> HandoffInfo:
    handoff = await anyio.to_thread.run_sync(local_property_system().handoffs.get, handoff_id)
    if handoff.status == "closed":
        raise InvalidTransition("该会话已结束。")
    return handoff


async def claim_handoff(staff: Staff, handoff_id: int, *, take_over: bool = False) -> HandoffInfo:
    """Claim a waiting conversation; an admin may take over one a colleague holds."""
    system = local_property_system()
    if not take_over:
        return await anyio.to_thread.run_sync(
            lambda: system.handoffs.claim(handoff_id, staff=staff.display_name)
        )
    if not staff.is_admin:
        raise Forbidden("只有管理员可以接管同事的会话。")
    before = await active_handoff(handoff_id)
    taken = await anyio.to_thread.run_sync(
        lambda: system.handoffs.take_over(handoff_id, staff=staff.display_name)
    )
    log.info(
        "handoff_taken_over", handoff_id=handoff_id, staff=staff.username, had=before.claimed_by
    )
    return taken


async def held_by_me(staff: Staff, handoff_id: int) -> HandoffInfo:
    """The conversation, claimed for this staff member: a waiting one is claimed now (one
    voice per resident); one a colleague holds is refused, naming them."""
    handoff = await active_handoff(handoff_id)
    if handoff.status == "open":
        return await claim_handoff(staff, handoff_id)
    if handoff.claimed_by != staff.display_name:
        hint = "如需接手，请先点击“接管会话”。" if staff.is_admin else "只有接手人可以回复。"
        raise InvalidTransition(f"该会话已由 {handoff.claimed_by} 接手，{hint}")
    return handoff


async def reply_in_handoff(wiring: Wiring, staff: Staff, handoff_id: int, text: str) -> HandoffInfo:
    system = local_property_system()
    handoff = await held_by_me(staff, handoff_id)
    await tell(wiring, handoff.sender_id, text, title="客服回复")
    return await anyio.to_thread.run_sync(
        lambda: system.handoffs.append(handoff_id, speaker=staff.display_name, text=text)
    )


async def close_handoff(wiring: Wiring, staff: Staff, handoff_id: int) -> HandoffInfo:
    """The person is done: the bot answers this resident again, and says so."""
    system = local_property_system()
    handoff = await active_handoff(handoff_id)
    theirs = handoff.status == "claimed" and handoff.claimed_by != staff.display_name
    if theirs and not staff.is_admin:
        raise InvalidTransition(
            f"该会话已由 {handoff.claimed_by} 接手，只有接手人或管理员可以结束。"
        )
    closed = await anyio.to_thread.run_sync(
        lambda: system.handoffs.close(handoff_id, staff=staff.display_name)
    )
    await wiring.handoffs.closed(closed.sender_id)
    await tell(wiring, closed.sender_id, BOT_RESUMES, title="客服回复")
    log.info("handoff_closed", handoff_id=handoff_id, staff=staff.username)
    return closed
