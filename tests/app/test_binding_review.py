"""Staff review of house binding: the API and the console page, with the resident told
through the outbox (pushes go to a local server speaking WeChat's protocol)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.conversations.models import OutboundMessage
from integrations.property import LocalPropertySystem
from tests.app.test_staff_api import client, fake, sign_in
from tests.conftest import ADMIN_PASSWORD

__all__ = ["client", "fake"]  # the staff API's fixtures: an app whose pushes reach a fake WeChat

ROOM_202 = {"building": "2", "unit": "1", "room": "202"}


def told(system: LocalPropertySystem, openid: str) -> list[str]:
    with Session(system.engine) as session:
        return list(
            session.scalars(
                select(OutboundMessage.text)
                .where(OutboundMessage.recipient == openid)
                .order_by(OutboundMessage.id)
            )
        )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/bindings"),
        ("get", "/api/bindings/1"),
        ("post", "/api/bindings/1/approve"),
        ("post", "/api/bindings/1/reject"),
    ],
)
def test_binding_review_is_for_staff_only(client: TestClient, method: str, path: str) -> None:
    assert getattr(client, method)(path).status_code == 401
    anonymous = client.get("/console/bindings", follow_redirects=False)
    assert anonymous.status_code == 303 and "/console/login" in anonymous.headers["location"]


def test_staff_approve_a_claim_the_room_is_bound_and_the_resident_told(
    client: TestClient, system: LocalPropertySystem
) -> None:
    pending = system.residents.request_review("o-claimant", **ROOM_202, role="owner", name="李先生")
    auth = sign_in(client)

    listed = client.get("/api/bindings?status=pending", headers=auth).json()
    assert [(r["id"], r["house"], r["role"], r["name"]) for r in listed] == [
        (pending.id, "2栋1单元202", "owner", "李先生")
    ]
    approved = client.post(f"/api/bindings/{pending.id}/approve", headers=auth)

    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["reviewer"]) == ("approved", "物业管理员")
    resident = system.residents.by_openid("o-claimant")
    assert [(h.label, h.role) for h in resident.houses] == [("2栋1单元202", "owner")]
    assert told(system, "o-claimant") == [
        "您的房屋绑定申请已通过：2栋1单元202（业主）。现在可以查账单、报修和预约场地了。"
    ]
    again = client.post(f"/api/bindings/{pending.id}/approve", headers=auth)
    assert again.status_code == 409
    assert again.json()["detail"] == f"绑定申请 {pending.id} 已审核（已通过），不能再审核。"
    assert client.get("/api/bindings?status=pending", headers=auth).json() == []


def test_staff_reject_with_a_remark_and_the_resident_reads_it(
    client: TestClient, system: LocalPropertySystem
) -> None:
    pending = system.residents.request_review("o-stranger", **ROOM_202, role="owner")
    auth = sign_in(client)

    no_reason = client.post(f"/api/bindings/{pending.id}/reject", json={"remark": ""}, headers=auth)
    rejected = client.post(
        f"/api/bindings/{pending.id}/reject",
        json={"remark": "登记业主不是您，请带房产证到物业服务中心"},
        headers=auth,
    )

    assert no_reason.status_code == 422
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert system.residents.by_openid("o-stranger").houses == ()
    assert told(system, "o-stranger") == [
        "您的房屋绑定申请（2栋1单元202）未通过：登记业主不是您，请带房产证到物业服务中心"
    ]
    assert client.post(f"/api/bindings/{pending.id}/approve", headers=auth).status_code == 409
    assert system.residents.by_openid("o-stranger").houses == ()


def test_the_console_lists_pending_claims_and_decides_them(
    client: TestClient, system: LocalPropertySystem
) -> None:
    first = system.residents.request_review("o-console-1", **ROOM_202, role="tenant", name="小王")
    second = system.residents.request_review("o-console-2", **ROOM_202, role="owner")
    signed_in = client.post(
        "/console/login", data={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert signed_in.status_code == 200

    listed = client.get("/console/bindings")
    assert listed.status_code == 200
    assert "绑定审核" in listed.text and "小王" in listed.text and "2栋1单元202" in listed.text

    approved = client.post(f"/console/bindings/{first.id}/approve")
    assert "已通过，住户已收到通知。" in approved.text
    refused = client.post(f"/console/bindings/{second.id}/reject", data={"remark": "   "})
    assert "请填写未通过的原因" in refused.text
    rejected = client.post(f"/console/bindings/{second.id}/reject", data={"remark": "信息不符"})
    assert "已驳回，住户已收到原因。" in rejected.text

    assert [h.label for h in system.residents.by_openid("o-console-1").houses] == ["2栋1单元202"]
    assert told(system, "o-console-2") == ["您的房屋绑定申请（2栋1单元202）未通过：信息不符"]
    assert "没有符合条件的绑定申请" in client.get("/console/bindings").text
