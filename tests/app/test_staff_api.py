"""The staff REST API, with its pushes going to a local server speaking WeChat's protocol."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from integrations.property import LocalPropertySystem
from integrations.property.services.numbering import LOCAL_TZ
from tests.conftest import ADMIN_PASSWORD
from tests.wechat.fake_server import FakeWeChat, running_fake_wechat


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWeChat]:
    with running_fake_wechat() as server:
        yield server


@pytest.fixture
def client(
    make_client: Callable[..., TestClient],
    database_url: str,
    system: LocalPropertySystem,
    fake: FakeWeChat,
) -> Iterator[TestClient]:
    built = make_client(
        database_url=database_url,
        wechat_app_id="wx-staff-test",
        wechat_app_secret="s",
        wechat_api_base=fake.url,
        wechat_notice_template_id="TPL-REPAIR",
    )
    with built:  # runs the lifespan: the outbox and its push channels
        yield built


def sign_in(client: TestClient, password: str = ADMIN_PASSWORD) -> dict[str, str]:
    response = client.post("/api/auth/token", data={"username": "admin", "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/repairs"),
        ("post", "/api/repairs/BX1/start"),
        ("post", "/api/repairs/BX1/complete"),
        ("get", "/api/bills?building=1&unit=1&room=101"),
        ("get", "/api/bookings"),
        ("post", "/api/bookings/1/cancel"),
        ("get", "/api/handoffs"),
        ("get", "/api/handoffs/1"),
        ("get", "/api/handoffs/1/stream"),
        ("post", "/api/handoffs/1/claim"),
        ("post", "/api/handoffs/1/reply"),
        ("post", "/api/handoffs/1/close"),
        ("get", "/api/complaints"),
        ("get", "/api/complaints/TS1"),
        ("post", "/api/complaints/TS1/respond"),
        ("post", "/api/complaints/TS1/close"),
    ],
)
def test_every_staff_endpoint_refuses_anonymous_and_forged_tokens(
    client: TestClient, method: str, path: str
) -> None:
    assert getattr(client, method)(path).status_code == 401
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbg"}
    assert getattr(client, method)(path, headers=forged).status_code == 401


def test_a_wrong_password_gets_no_token(client: TestClient) -> None:
    response = client.post("/api/auth/token", data={"username": "admin", "password": "guess"})
    assert response.status_code == 401
    assert response.json()["detail"] == "用户名或密码错误。"


def test_staff_walk_a_repair_through_and_the_resident_is_told_each_step(
    client: TestClient, system: LocalPropertySystem, fake: FakeWeChat
) -> None:
    fake.reset()
    auth = sign_in(client)
    number = system.repairs.create("demo-resident-1", item="马桶", location="卫生间").number

    listed = client.get("/api/repairs?status=submitted", headers=auth).json()
    assert number in {order["number"] for order in listed}

    assigned = client.post(f"/api/repairs/{number}/assign", json={"assignee": "老赵"}, headers=auth)
    assert assigned.json()["status"] == "assigned" and assigned.json()["assignee"] == "老赵"
    assert client.post(f"/api/repairs/{number}/start", headers=auth).json()["status"] == (
        "in_progress"
    )
    done = client.post(
        f"/api/repairs/{number}/complete", json={"note": "换了密封圈"}, headers=auth
    ).json()
    assert done["status"] == "completed"
    assert [e["actor"] for e in done["events"]][1:] == ["物业管理员"] * 3

    notices = [
        t["data"]["remark"]["value"]
        for t in fake.sent("/cgi-bin/message/template/send")
        if t["touser"] == "demo-resident-1"
    ]
    assert notices == [
        f"您的报修单 {number}（马桶）已派单，维修师傅老赵会尽快与您联系。",
        f"您的报修单 {number}（马桶）维修师傅已开始处理。",
        f"您的报修单 {number}（马桶）已维修完成。请回复1-5分为本次服务打分，也欢迎说说您的意见。",
    ]


def test_an_impossible_step_is_refused_with_the_reason(
    client: TestClient, system: LocalPropertySystem
) -> None:
    auth = sign_in(client)
    number = system.repairs.create("demo-resident-1", item="灯").number

    refused = client.post(f"/api/repairs/{number}/complete", json={}, headers=auth)

    assert refused.status_code == 409
    assert refused.json()["detail"] == f"报修单 {number} 当前已受理，不能改为已完成。"
    assert client.post("/api/repairs/BX000000/start", headers=auth).status_code == 404


def test_staff_look_up_a_rooms_bills_with_exact_amounts(
    client: TestClient, system: LocalPropertySystem
) -> None:
    auth = sign_in(client)
    expected = system.bills.statement("demo-resident-2")

    body = client.get("/api/bills?building=2&unit=1&room=202", headers=auth).json()

    assert body["unpaid_total"] == f"{expected.unpaid_total:.2f}"  # exact, never a float
    assert Decimal(body["unpaid_total"]) == expected.unpaid_total
    assert [Decimal(line["amount"]) for line in body["lines"]] == [
        line.amount for line in expected.lines
    ]
    assert client.get("/api/bills?building=9&unit=9&room=909", headers=auth).status_code == 404


def test_staff_list_bookings_and_cancel_one_and_the_resident_is_told_why(
    client: TestClient, system: LocalPropertySystem, fake: FakeWeChat
) -> None:
    fake.reset()
    auth = sign_in(client)
    tomorrow = (datetime.now(LOCAL_TZ) + timedelta(days=1)).date()
    start = datetime.combine(tomorrow, time(15), LOCAL_TZ)
    booking = system.bookings.book("demo-resident-1", "羽毛球场", start)

    listed = client.get(f"/api/bookings?facility=羽毛球场&day={tomorrow}", headers=auth).json()
    assert [(b["id"], b["resident_name"]) for b in listed] == [(booking.id, "张伟")]

    cancelled = client.post(
        f"/api/bookings/{booking.id}/cancel", json={"reason": "场地漏雨维修"}, headers=auth
    )

    assert cancelled.json()["status"] == "cancelled"
    assert client.get("/api/bookings", headers=auth).json() == []
    [notice] = [
        t["data"]["remark"]["value"]
        for t in fake.sent("/cgi-bin/message/template/send")
        if t["touser"] == "demo-resident-1"
    ]
    assert notice.startswith(f"很抱歉，您预约的羽毛球场 {tomorrow.month}月{tomorrow.day}日 15:00")
    assert "场地漏雨维修" in notice
    again = client.post(f"/api/bookings/{booking.id}/cancel", json={}, headers=auth)
    assert again.status_code == 404


def test_staff_answer_and_close_a_complaint_and_the_resident_is_asked_to_rate(
    client: TestClient, system: LocalPropertySystem, fake: FakeWeChat
) -> None:
    fake.reset()
    auth = sign_in(client)
    number = system.complaints.create(
        "demo-resident-1", complaint_type="噪音", description="楼上半夜蹦迪", location="3栋"
    ).number

    waiting = client.get("/api/complaints", headers=auth).json()
    assert number in [c["number"] for c in waiting]
    answered = client.post(
        f"/api/complaints/{number}/respond", json={"text": "已上门提醒楼上住户"}, headers=auth
    ).json()
    assert answered["status"] == "processing" and answered["responded_at"] is not None
    closed = client.post(
        f"/api/complaints/{number}/close",
        json={"text": "楼上已承诺晚十点后不再放音乐"},
        headers=auth,
    ).json()
    assert closed["status"] == "closed"

    said = [  # not seen for 48 hours: template messages
        t["data"]["remark"]["value"]
        for t in fake.sent("/cgi-bin/message/template/send")
        if t["touser"] == "demo-resident-1"
    ]
    assert said == [
        f"您的投诉 {number}（噪音）有了新答复：已上门提醒楼上住户",
        f"您的投诉 {number}（噪音）已办结：楼上已承诺晚十点后不再放音乐\n"
        "请回复1-5分为本次服务打分，也欢迎说说您的意见。",
    ]
    assert number not in [c["number"] for c in client.get("/api/complaints", headers=auth).json()]
    again = client.post(f"/api/complaints/{number}/respond", json={"text": "补充"}, headers=auth)
    assert (
        again.status_code == 409 and again.json()["detail"] == f"投诉 {number} 已办结，不能再更改。"
    )
