"""The staff console: server-rendered pages in Chinese. Sign-in sets an HttpOnly,
SameSite=Strict cookie; every page sends anonymous visitors to the sign-in page; the
live conversation uses the REST API's event stream and reply endpoint with that cookie."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, unquote

import anyio
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from app.console.views import STATIC, templates
from app.deps import local_property_system
from app.settings import get_settings
from app.staff import desk
from app.staff.auth import (
    COOKIE,
    CROSS_SITE,
    Staff,
    same_origin,
    sign_in,
    sign_out,
    staff_of,
    token_lifetime,
)
from app.staff.throttle import LoginRefused
from integrations.property.interface import PropertyError

router = APIRouter(prefix="/console", include_in_schema=False)
FLASH = "wuye_flash"
HOME = "/console"


class LoginRequired(Exception):
    def __init__(self, path: str) -> None:
        self.path = path


def console_staff(request: Request) -> Staff:
    staff = staff_of(request.cookies.get(COOKIE))
    if staff is None:
        query = f"?{request.url.query}" if request.url.query else ""
        raise LoginRequired(request.url.path + query)
    if request.method == "POST" and not same_origin(request):
        raise CROSS_SITE
    return staff


ConsoleUser = Annotated[Staff, Depends(console_staff)]


def to_login(request: Request, required: Exception) -> Response:
    assert isinstance(required, LoginRequired)
    return RedirectResponse(f"/console/login?next={quote(required.path)}", status_code=303)


def page(
    request: Request, name: str, staff: Staff | None, code: int = 200, **context: Any
) -> Response:
    response = templates.TemplateResponse(
        request,
        name,
        {"staff": staff, "flash": unquote(request.cookies.get(FLASH) or ""), **context},
        status_code=code,
    )
    response.headers["Cache-Control"] = "no-store"
    if request.cookies.get(FLASH):
        response.delete_cookie(FLASH, path=HOME)
    return response


def back(to: str, message: str) -> RedirectResponse:
    response = RedirectResponse(to, status_code=303)
    response.set_cookie(FLASH, quote(message), path=HOME, samesite="strict", max_age=30)
    return response


async def attempt(to: str, done: str, work: Callable[[], Awaitable[Any]]) -> RedirectResponse:
    """Do it and say so; a rule the property system refuses is said instead."""
    try:
        await work()
    except PropertyError as refused:
        return back(to, refused.message)
    return back(to, done)


def local_next(target: str | None) -> str:
    """Only our own console pages: no open redirect through the sign-in page."""
    if target and target.startswith(HOME) and not target.startswith("//"):
        return target
    return HOME


# --- sign in and out -----------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = HOME) -> Response:
    return page(request, "login.html", None, next=local_next(next))


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = HOME,
) -> Response:
    try:
        token = await sign_in(request, username, password)
    except LoginRefused as refused:
        response = page(
            request,
            "login.html",
            None,
            refused.status_code,
            next=local_next(next),
            error=refused.message,
        )
        response.headers.update(refused.headers)
        return response
    response = RedirectResponse(local_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(token_lifetime().total_seconds()),
        httponly=True,
        samesite="strict",
        secure=get_settings().app_env == "production",
    )
    return response


@router.post("/logout")
def logout(staff: ConsoleUser) -> Response:
    """The session ends on the server too: a copy of the cookie is refused from now on."""
    sign_out(staff)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The console's stylesheet and script (no inline code: the CSP allows only these)."""
    if name not in STATIC:
        raise HTTPException(status_code=404)
    return FileResponse(STATIC[name], headers={"Cache-Control": "no-cache"})


# --- the queue and handoffs ----------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def queue(request: Request, staff: ConsoleUser) -> Response:
    system = local_property_system()
    return page(
        request,
        "queue.html",
        staff,
        handoffs=system.handoffs.active(),
        complaints=system.complaints.list(),
    )


@router.get("/handoffs/{handoff_id}", response_class=HTMLResponse)
def handoff_page(request: Request, handoff_id: int, staff: ConsoleUser) -> Response:
    system = local_property_system()
    try:
        handoff = system.handoffs.get(handoff_id)
    except PropertyError as missing:
        return page(request, "missing.html", staff, 404, message=missing.message)
    return page(
        request,
        "handoff.html",
        staff,
        handoff=handoff,
        resident=system.residents.by_openid(handoff.sender_id),
        mine=handoff.status == "claimed" and handoff.claimed_by == staff.display_name,
    )


@router.post("/handoffs/{handoff_id}/claim")
async def claim(request: Request, handoff_id: int, staff: ConsoleUser) -> Response:
    return await attempt(
        f"{HOME}/handoffs/{handoff_id}",
        "已接手，住户接下来的消息会实时显示在这里。",
        lambda: desk.claim_handoff(staff, handoff_id),
    )


@router.post("/handoffs/{handoff_id}/take-over")
async def take_over(request: Request, handoff_id: int, staff: ConsoleUser) -> Response:
    """Admins only: the conversation a colleague holds becomes this admin's."""
    return await attempt(
        f"{HOME}/handoffs/{handoff_id}",
        "已接管，之后由您回复住户。",
        lambda: desk.claim_handoff(staff, handoff_id, take_over=True),
    )


@router.post("/handoffs/{handoff_id}/close")
async def close(request: Request, handoff_id: int, staff: ConsoleUser) -> Response:
    wiring = request.app.state.wiring
    return await attempt(
        HOME,
        f"会话 {handoff_id} 已结束，物业助手已恢复回复该住户。",
        lambda: desk.close_handoff(wiring, staff, handoff_id),
    )


# --- complaints ----------------------------------------------------------------------


@router.get("/complaints", response_class=HTMLResponse)
def complaints(
    request: Request, staff: ConsoleUser, status: str = "", complaint_type: str = ""
) -> Response:
    rows = local_property_system().complaints.list(
        status=status or None, complaint_type=complaint_type or None
    )
    return page(
        request,
        "complaints.html",
        staff,
        complaints=rows,
        status=status,
        complaint_type=complaint_type,
    )


@router.get("/complaints/{number}", response_class=HTMLResponse)
def complaint_page(request: Request, number: str, staff: ConsoleUser) -> Response:
    try:
        complaint = local_property_system().complaints.get(number)
    except PropertyError as missing:
        return page(request, "missing.html", staff, 404, message=missing.message)
    return page(request, "complaint.html", staff, complaint=complaint)


@router.post("/complaints/{number}/respond")
async def respond(
    request: Request, number: str, text: Annotated[str, Form(max_length=600)], staff: ConsoleUser
) -> Response:
    wiring = request.app.state.wiring
    return await attempt(
        f"{HOME}/complaints/{number}",
        "答复已发送给住户。",
        lambda: desk.respond_to_complaint(wiring, staff, number, text),
    )


@router.post("/complaints/{number}/close")
async def close_complaint(
    request: Request,
    number: str,
    staff: ConsoleUser,
    text: Annotated[str, Form(max_length=600)] = "",
) -> Response:
    wiring = request.app.state.wiring
    return await attempt(
        f"{HOME}/complaints/{number}",
        "投诉已办结，已请住户评价。",
        lambda: desk.close_complaint(wiring, staff, number, text),
    )


# --- repairs and bookings ------------------------------------------------------------


@router.get("/repairs", response_class=HTMLResponse)
def repairs(request: Request, staff: ConsoleUser, status: str = "") -> Response:
    rows = local_property_system().repairs.list(status=status or None)
    return page(request, "repairs.html", staff, repairs=rows, status=status)


@router.get("/bookings", response_class=HTMLResponse)
def bookings(
    request: Request, staff: ConsoleUser, facility: str = "", day: date | None = None
) -> Response:
    system = local_property_system()
    rows = system.bookings.list(facility=facility or None, day=day)
    return page(
        request,
        "bookings.html",
        staff,
        bookings=rows,
        facilities=[f.name for f in system.facilities.list()],
        facility=facility,
        day=day.isoformat() if day else "",
    )


# --- staff accounts (admin) ----------------------------------------------------------


@router.get("/staff", response_class=HTMLResponse)
def accounts(request: Request, staff: ConsoleUser) -> Response:
    if not staff.is_admin:
        return page(request, "forbidden.html", staff, 403)
    return page(request, "staff.html", staff, accounts=local_property_system().staff.accounts())


@router.post("/staff")
async def create_account(
    request: Request,
    staff: ConsoleUser,
    username: Annotated[str, Form(min_length=2, max_length=50)],
    display_name: Annotated[str, Form(min_length=1, max_length=50)],
    password: Annotated[str, Form()],
    role: Annotated[str, Form()] = "staff",
) -> Response:
    if not staff.is_admin:
        return page(request, "forbidden.html", staff, 403)
    system = local_property_system()
    return await attempt(
        f"{HOME}/staff",
        f"已创建账号 {username}（{display_name}）。",
        lambda: anyio.to_thread.run_sync(
            lambda: system.staff.create(username, password, display_name=display_name, role=role)
        ),
    )
