"""The staff console over HTTP: who may see which page. (What staff do in it is tested in
a real browser: tests/browser/.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from integrations.property import LocalPropertySystem
from tests.conftest import ADMIN_PASSWORD

PAGES = [
    "/console",
    "/console/handoffs/1",
    "/console/complaints",
    "/console/complaints/TS1",
    "/console/repairs?status=submitted",
    "/console/bookings",
    "/console/staff",
]
ACTIONS = [
    "/console/handoffs/1/claim",
    "/console/handoffs/1/close",
    "/console/complaints/TS1/respond",
    "/console/complaints/TS1/close",
    "/console/staff",
    "/console/logout",
]


@pytest.fixture
def client(
    make_client: Callable[..., TestClient], database_url: str, system: LocalPropertySystem
) -> Iterator[TestClient]:
    with make_client(database_url=database_url) as built:
        yield built


def sign_in(client: TestClient, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    response = client.post(
        "/console/login",
        data={"username": username, "password": password},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_anonymous_visitors_to_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=/console")
    client.cookies.set("wuye_staff", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbg")
    assert client.get(path, follow_redirects=False).status_code == 303  # forged: still out


@pytest.mark.parametrize("path", ACTIONS)
def test_every_console_action_refuses_anonymous_visitors(client: TestClient, path: str) -> None:
    response = client.post(path, data={"text": "x"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login")


def test_signing_in_returns_to_the_page_asked_for_and_never_elsewhere(client: TestClient) -> None:
    wrong = client.post("/console/login", data={"username": "admin", "password": "guess"})
    assert wrong.status_code == 401 and "用户名或密码错误。" in wrong.text

    back = client.post(
        "/console/login",
        data={"username": "admin", "password": ADMIN_PASSWORD, "next": "/console/repairs"},
        follow_redirects=False,
    )
    assert back.headers["location"] == "/console/repairs"
    cookie = back.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie

    away = client.post(
        "/console/login",
        data={"username": "admin", "password": ADMIN_PASSWORD, "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert away.headers["location"] == "/console"


def test_a_change_from_another_site_is_refused_even_with_the_cookie(
    client: TestClient, system: LocalPropertySystem
) -> None:
    sign_in(client)
    handoff = system.handoffs.open("demo-resident-1", channel="oa", reason="住户要求人工")

    forged = client.post(
        f"/console/handoffs/{handoff.id}/claim",
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    api = client.post(
        f"/api/handoffs/{handoff.id}/claim", headers={"Origin": "https://evil.example"}
    )

    assert forged.status_code == 403 and api.status_code == 403
    assert system.handoffs.get(handoff.id).status == "open"


def test_staff_accounts_are_for_admins_only(client: TestClient) -> None:
    sign_in(client)
    created = client.post(
        "/console/staff",
        data={
            "username": "xiaoli",
            "display_name": "客服小李",
            "password": "li-password-1",
            "role": "staff",
        },
    )
    assert "已创建账号 xiaoli（客服小李）。" in created.text
    short = client.post(
        "/console/staff",
        data={"username": "xiaozhao", "display_name": "小赵", "password": "123", "role": "staff"},
    )
    assert "密码至少10位。" in short.text

    client.cookies.clear()
    sign_in(client, "xiaoli", "li-password-1")
    refused = client.get("/console/staff")
    assert refused.status_code == 403 and "只有管理员可以管理员工账号。" in refused.text
    assert "员工账号" not in client.get("/console").text  # not even in the menu


def test_every_page_renders_for_staff_with_its_filters(
    client: TestClient, system: LocalPropertySystem
) -> None:
    sign_in(client)
    number = system.complaints.create(
        "demo-resident-1", complaint_type="噪音", description="半夜装修"
    ).number
    handoff = system.handoffs.open("demo-resident-1", channel="oa", reason="住户要求人工")
    pages = {
        "/console": [number, f"#{handoff.id}"],
        f"/console/handoffs/{handoff.id}": ["接手会话"],
        "/console/complaints?status=open&complaint_type=噪音": [number],
        f"/console/complaints/{number}": ["半夜装修", "发送答复"],
        "/console/repairs?status=submitted": ["报修单"],
        "/console/bookings?facility=羽毛球场&day=2026-11-22": ["没有符合条件的预约。"],
        "/console/staff": ["xiaowang"],
    }
    for path, shown in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert all(text in response.text for text in shown), path
    assert client.get("/console/handoffs/999999").status_code == 404
    assert "没有找到编号为 TS0 的投诉。" in client.get("/console/complaints/TS0").text
