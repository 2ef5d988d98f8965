"""The staff REST API (documented at /docs): sign in, repair orders, bookings, complaints,
handoffs, bills. What a decision does beyond the property system (telling the resident) is
in app/staff/desk.py, shared with the console."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from app.deps import local_property_system
from app.staff import desk
from app.staff.auth import StaffUser, sign_in, sign_out
from app.staff.throttle import LoginRefused
from integrations.property.interface import (
    BookingInfo,
    ComplaintInfo,
    HandoffInfo,
    InvalidTransition,
    NotFound,
    PropertyError,
    RepairInfo,
)

router = APIRouter(prefix="/api", tags=["staff"])

# The live view reads the transcript this often: every worker sees every line, no broker.
STREAM_POLL_SECONDS = 0.5
REFUSALS = ((NotFound, 404), (InvalidTransition, 409), (desk.Forbidden, 403))


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class Assignment(BaseModel):
    assignee: str


class Completion(BaseModel):
    note: str = ""


class StaffReply(BaseModel):
    text: str = Field(min_length=1, max_length=600)


class Closing(BaseModel):
    text: str = Field(default="", max_length=600)


class Cancellation(BaseModel):
    reason: str = "场地临时维护"


@router.post("/auth/token", response_model=Token)
async def issue_staff_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request
) -> Token:
    """Throttled per username and per client address (429 with Retry-After)."""
    try:
        token = await sign_in(request, form.username, form.password)
    except LoginRefused as refused:
        headers = refused.headers
        if refused.status_code == 401:
            headers["WWW-Authenticate"] = "Bearer"
        raise HTTPException(refused.status_code, refused.message, headers=headers) from None
    return Token(access_token=token)


@router.post("/auth/logout", status_code=204)
def revoke_staff_token(staff: StaffUser) -> Response:
    """The token (or console session) used for this call is refused from now on."""
    sign_out(staff)
    return Response(status_code=204)


@router.get("/repairs")
def list_repairs(staff: StaffUser, status: str | None = None) -> list[RepairInfo]:
    return local_property_system().repairs.list(status=status)


@router.post("/repairs/{number}/assign")
async def assign_repair(
    number: str, body: Assignment, staff: StaffUser, request: Request
) -> RepairInfo:
    return await desk.move_repair(
        request.app.state.wiring, staff, number, "assigned", assignee=body.assignee
    )


@router.post("/repairs/{number}/start")
async def start_repair(number: str, staff: StaffUser, request: Request) -> RepairInfo:
    return await desk.move_repair(request.app.state.wiring, staff, number, "in_progress")


@router.post("/repairs/{number}/complete")
async def complete_repair(
    number: str, body: Completion, staff: StaffUser, request: Request
) -> RepairInfo:
    return await desk.move_repair(
        request.app.state.wiring, staff, number, "completed", note=body.note
    )


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
    return await desk.cancel_booking(request.app.state.wiring, staff, booking_id, body.reason)


@router.get("/complaints")
def list_complaints(
    staff: StaffUser, status: str | None = None, complaint_type: str | None = None
) -> list[ComplaintInfo]:
    """Open complaints by deadline, or those of one status, newest first."""
    return local_property_system().complaints.list(status=status, complaint_type=complaint_type)


@router.get("/complaints/{number}")
def get_complaint(number: str, staff: StaffUser) -> ComplaintInfo:
    return local_property_system().complaints.get(number)


@router.post("/complaints/{number}/respond")
async def respond_to_complaint(
    number: str, body: StaffReply, staff: StaffUser, request: Request
) -> ComplaintInfo:
    """An answer to the resident (the first one meets or misses the SLA)."""
    return await desk.respond_to_complaint(request.app.state.wiring, staff, number, body.text)


@router.post("/complaints/{number}/close")
async def close_complaint(
    number: str, body: Closing, staff: StaffUser, request: Request
) -> ComplaintInfo:
    """Closed, with the outcome; the resident is asked to rate how it was handled."""
    return await desk.close_complaint(request.app.state.wiring, staff, number, body.text)


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
async def claim_handoff(handoff_id: int, staff: StaffUser, take_over: bool = False) -> HandoffInfo:
    """Exactly one of several staff claiming at once gets it; the others are told who
    (409). `take_over=true` lets an admin take a conversation a colleague holds."""
    return await desk.claim_handoff(staff, handoff_id, take_over=take_over)


@router.post("/handoffs/{handoff_id}/reply")
async def reply_in_handoff(
    handoff_id: int, body: StaffReply, staff: StaffUser, request: Request
) -> HandoffInfo:
    """Send the resident a message through their channel; it joins the transcript."""
    return await desk.reply_in_handoff(request.app.state.wiring, staff, handoff_id, body.text)


@router.post("/handoffs/{handoff_id}/close")
async def close_handoff(handoff_id: int, staff: StaffUser, request: Request) -> HandoffInfo:
    """The person is done: the bot answers this resident again, and says so."""
    return await desk.close_handoff(request.app.state.wiring, staff, handoff_id)


def refusal_response(request: Request, refused: Exception) -> JSONResponse:
    """A rule of the property system, said to staff as it is: 404 for what is not there,
    409 for a step that cannot be taken now, 403 for one the role does not allow, 422 for
    anything else it refuses."""
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
