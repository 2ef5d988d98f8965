"""House binding review: the staff API (`/api/bindings…`) and the console page
(`/console/bindings`). What a decision tells the resident is in app/staff/bindings.py."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app.deps import local_property_system
from app.routes.console import HOME, ConsoleUser, attempt, page
from app.staff import bindings
from app.staff.auth import StaffUser
from integrations.property.interface import BindingRequestInfo

api = APIRouter(prefix="/api/bindings", tags=["staff"])
console = APIRouter(prefix="/console/bindings", include_in_schema=False)
STATUSES = {"pending": "审核中", "approved": "已通过", "rejected": "未通过"}
ROLES = {"owner": "业主", "tenant": "租户", "family": "家属"}
PROOFS = {"phone_last4": "手机号后四位已核对", "sms": "短信验证码已核对"}


class Rejection(BaseModel):
    remark: str = Field(min_length=1, max_length=300)


@api.get("")
def list_requests(staff: StaffUser, status: str | None = "pending") -> list[BindingRequestInfo]:
    """Binding requests of one status (pending by default, oldest first); `status=` for all."""
    return local_property_system().residents.binding_requests(status or None)


@api.get("/{request_id}")
def get_request(request_id: int, staff: StaffUser) -> BindingRequestInfo:
    return local_property_system().residents.binding_request(request_id)


@api.post("/{request_id}/approve")
async def approve(request_id: int, staff: StaffUser, request: Request) -> BindingRequestInfo:
    """Bind the room with the role claimed and tell the resident (409 once decided)."""
    return await bindings.approve(request.app.state.wiring, staff, request_id)


@api.post("/{request_id}/reject")
async def reject(
    request_id: int, body: Rejection, staff: StaffUser, request: Request
) -> BindingRequestInfo:
    """Refuse with a remark, which the resident is sent."""
    return await bindings.reject(request.app.state.wiring, staff, request_id, body.remark)


@console.get("")
async def review_page(request: Request, staff: ConsoleUser, status: str = "pending") -> Response:
    system = local_property_system()
    status = status if status in STATUSES else ""
    requests = await anyio.to_thread.run_sync(
        lambda: system.residents.binding_requests(status or None)
    )
    return page(
        request,
        "bindings.html",
        staff,
        requests=requests,
        status=status,
        statuses=STATUSES,
        roles=ROLES,
        proofs=PROOFS,
    )


@console.post("/{request_id}/approve")
async def approve_in_console(request: Request, request_id: int, staff: ConsoleUser) -> Response:
    wiring = request.app.state.wiring
    return await attempt(
        f"{HOME}/bindings",
        "已通过，住户已收到通知。",
        lambda: bindings.approve(wiring, staff, request_id),
    )


@console.post("/{request_id}/reject")
async def reject_in_console(
    request: Request,
    request_id: int,
    staff: ConsoleUser,
    remark: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    wiring = request.app.state.wiring
    return await attempt(
        f"{HOME}/bindings",
        "已驳回，住户已收到原因。",
        lambda: bindings.reject(wiring, staff, request_id, remark),
    )
