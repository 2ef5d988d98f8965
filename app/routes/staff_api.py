"""The staff REST API (documented at /docs): sign in, repair orders, bookings, handoffs,
bills."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

import anyio
import structlog
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from app.conversations.router import push_target
from app.deps import local_property_system
from app.security import Staff, StaffUser, issue_token
from integrations.property.interface import (
    BookingInfo,
    HandoffInfo,
    InvalidTransition,
    NotFound,
    PropertyError,
    RepairInfo,
)
from integrations.property.services.numbering import LOCAL_TZ

router = APIRouter(prefix="/api", tags=["staff"])
log = structlog.get_logger(__name__)

# The live view reads the transcript this often: every worker sees every line, no broker.
STREAM_POLL_SECONDS = 0.5
REFUSALS = ((NotFound, 404), (InvalidTransition, 409))
BOT_RESUMES = "本次人工服务已结束，感谢您的耐心。之后的问题物业助手继续为您解答。"
STATUS_NOTICES = {
    "assigned": "您的报修单 {number}（{item}）已派单，维修师傅{assignee}会尽快与您联系。",
    "in_progress": "您的报修单 {number}（{item}）维修师傅已开始处理。",
    "completed": "您的报修单 {number}（{item}）已维修完成。请回复1-5分为本次服务打分，"
    "也欢迎说说您的意见。",
}


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class Assignment(BaseModel):
    assignee: str


class Completion(BaseModel):
    note: str = ""


class StaffReply(BaseModel):
    text: str = Field(min_length=1, max_length=600)


class Cancellation(BaseModel):
    reason: str = "场地临时维护"


@router.post("/auth/token", response_model=Token)
def sign_in(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    user = local_property_system().staff.authenticate(form.username, form.password)
    if user is None:
        raise HTTPException(
            status_code=401, detail="用户名或密码错误。", headers={"WWW-Authenticate": "Bearer"}
        )
    staff = Staff(user.username, user.display_name, user.role.value)
    return Token(access_token=issue_token(staff))


@router.get("/repairs")
def list_repairs(staff: StaffUser, status: str | None = None) -> list[RepairInfo]:
    return local_property_system().repairs.list(status=status)


@router.post("/repairs/{number}/assign")
async def assign_repair(
    number: str, body: Assignment, staff: StaffUser, request: Request
) -> RepairInfo:
    return await _transition(request, number, "assigned", staff, assignee=body.assignee)


@router.post("/repairs/{number}/start")
async def start_repair(number: str, staff: StaffUser, request: Request) -> RepairInfo:
    return await _transition(request, number, "in_progress", staff)


@router.post("/repairs/{number}/complete")
async def complete_repair(
    number: str, body: Completion, staff: StaffUser, request: Request
) -> RepairInfo:
    return await _transition(request, number, "completed", staff, note=body.note)


@router.get("/bookings")
def list_bookings(
    staff: StaffUser, facility: str | None = None, day: date | None = None
) -> list[BookingInfo]:
    """Active bookings, by start; optionally of one facility and one (local) day."""
    return local_property_system().bookings.list(facility=facility, day=day)


@router.post("/bookings/{booking_id}/cancel")
async def cancel_booking(
    booking_id: int, body: Cancellation, staff: StaffUser, request: Request
) -> BookingInfo:
    """Cancel a booking (the slot is free again) and tell the resident why."""
    system = local_property_system()
    booking = await anyio.to_thread.run_sync(
        lambda: system.bookings.cancel_by_staff(booking_id, staff=staff.display_name)
    )
    log.info("booking_cancelled_by_staff", booking_id=booking_id, staff=staff.username)
    if booking.resident_openid:
        channel, recipient = push_target(booking.resident_openid)
        start = booking.starts_at.astimezone(LOCAL_TZ)
        text = (
            f"很抱歉，您预约的{booking.facility} {start.month}月{start.day}日 {start:%H:%M} "
            f"已被物业取消：{body.reason}。如需改约，请直接告诉我新的时间。"
        )
        await request.app.state.wiring.outbox.send(channel, recipient, text, title="预约取消")
    return booking


@router.get("/handoffs")
def list_handoffs(staff: StaffUser) -> list[HandoffInfo]:
    """Conversations waiting for or held by a person, the longest waiting first."""
    return local_property_system().handoffs.active()


@router.get("/handoffs/{handoff_id}")
def get_handoff(handoff_id: int, staff: StaffUser) -> HandoffInfo:
    return local_property_system().handoffs.get(handoff_id)


@router.get("/handoffs/{handoff_id}/stream")
async def stream_handoff(handoff_id: int, staff: StaffUser, after: int = 0) -> StreamingResponse:
    """Server-sent events: every transcript line after the first `after`, as it arrives
    (`event: line`), then `event: closed` when the handoff ends. The console's live view."""
    system = local_property_system()
    await anyio.to_thread.run_sync(system.handoffs.get, handoff_id)  # 404 before streaming

    async def events() -> AsyncIterator[str]:
        sent = after
        while True:
            handoff = await anyio.to_thread.run_sync(system.handoffs.get, handoff_id)
            for line in handoff.transcript[sent:]:
                yield f"event: line\ndata: {json.dumps(line, ensure_ascii=False)}\n\n"
            sent = len(handoff.transcript)
            if handoff.status == "closed":
                yield "event: closed\ndata: {}\n\n"
                return
            await asyncio.sleep(STREAM_POLL_SECONDS)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


@router.post("/handoffs/{handoff_id}/claim")
def claim_handoff(handoff_id: int, staff: StaffUser) -> HandoffInfo:
    """Exactly one of several staff claiming at once gets it; the others are told who."""
    return local_property_system().handoffs.claim(handoff_id, staff=staff.display_name)


@router.post("/handoffs/{handoff_id}/reply")
async def reply_in_handoff(
    handoff_id: int, body: StaffReply, staff: StaffUser, request: Request
) -> HandoffInfo:
    """Send the resident a message through their channel; it joins the transcript."""
    system = local_property_system()
    handoff = await _active_handoff(handoff_id)
    channel, recipient = push_target(handoff.sender_id)
    await request.app.state.wiring.outbox.send(channel, recipient, body.text, title="客服回复")
    return await anyio.to_thread.run_sync(
        lambda: system.handoffs.append(handoff_id, speaker=staff.display_name, text=body.text)
    )


@router.post("/handoffs/{handoff_id}/close")
async def close_handoff(handoff_id: int, staff: StaffUser, request: Request) -> HandoffInfo:
    """The person is done: the bot answers this resident again, and says so."""
    system = local_property_system()
    await _active_handoff(handoff_id)
    closed = await anyio.to_thread.run_sync(
        lambda: system.handoffs.close(handoff_id, staff=staff.display_name)
    )
    channel, recipient = push_target(closed.sender_id)
    await request.app.state.wiring.outbox.send(channel, recipient, BOT_RESUMES, title="客服回复")
    log.info("handoff_closed", handoff_id=handoff_id, staff=staff.username)
    return closed


async def _active_handoff(handoff_id: int) -> HandoffInfo:
    handoff = await anyio.to_thread.run_sync(local_property_system().handoffs.get, handoff_id)
    if handoff.status == "closed":
        raise InvalidTransition("该会话已结束。")
    return handoff


def refusal_response(request: Request, refused: Exception) -> JSONResponse:
    """A rule of the property system, said to staff as it is: 404 for what is not there,
    409 for a step that cannot be taken now, 422 for anything else it refuses."""
    assert isinstance(refused, PropertyError)
    status = next((code for kind, code in REFUSALS if isinstance(refused, kind)), 422)
    return JSONResponse({"detail": refused.message}, status_code=status)


@router.get("/bills")
def room_bills(building: str, unit: str, room: str, staff: StaffUser) -> dict[str, Any]:
    statement = local_property_system().bills.for_room(building, unit, room)
    lines = [{**asdict(line), "amount": str(line.amount)} for line in statement.lines]
    return {
        "lines": lines,
        "total": str(statement.total),
        "unpaid_total": str(statement.unpaid_total),
    }


async def _transition(
    request: Request, number: str, status: str, staff: Staff, **changes: Any
) -> RepairInfo:
    system = local_property_system()
    order = await anyio.to_thread.run_sync(
        lambda: system.repairs.transition(number, status, actor=staff.display_name, **changes)
    )
    log.info("repair_status_changed", number=order.number, status=status, staff=staff.username)
    if order.resident_openid:
        wiring = request.app.state.wiring
        channel, recipient = push_target(order.resident_openid)
        text = STATUS_NOTICES[status].format(
            number=order.number, item=order.item, assignee=order.assignee or ""
        )
        # After "请回复1-5分", a bare "5" is the score, not an older numbered choice.
        scores = [f"{n}分" for n in range(1, 6)] if status == "completed" else []
        await wiring.router.offer_choices(order.resident_openid, scores)
        await wiring.outbox.send(channel, recipient, text, title="报修进度")
    return order
