"""The action endpoint as Rasa calls it (payload shape of Rasa 3.6)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from integrations.property import LocalPropertySystem
from tests.app.conftest import ACTION_TOKEN

WEBHOOK = f"/rasa/webhook?token={ACTION_TOKEN}"


def action_call(action: str, sender: str, text: str, entities: list[dict[str, Any]]) -> dict:
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": {},
            "latest_message": {
                "text": text,
                "intent": {"name": "query_bill"},
                "entities": entities,
            },
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def test_the_bill_action_answers_with_the_residents_own_amount(
    make_client: Callable[..., TestClient], database_url: str, system: LocalPropertySystem
) -> None:
    client = make_client("action", database_url=database_url)
    expected = system.bills.statement("demo-resident-2", bill_type="水费").lines[0]

    response = client.post(
        WEBHOOK,
        json=action_call(
            "action_query_bill",
            "demo-resident-2",
            "水费多少",
            [{"entity": "bill_type", "value": "水费", "start": 0, "end": 2}],
        ),
    )

    assert response.status_code == 200
    [message] = response.json()["responses"]
    assert f"¥{expected.amount:,.2f}" in message["text"]
    assert "2栋1单元202" in message["text"]
    assert response.json()["events"] == [
        {"event": "slot", "timestamp": None, "name": "bill_type", "value": "水费"}
    ]


def test_an_unbound_resident_is_asked_to_bind_a_house(
    make_client: Callable[..., TestClient], database_url: str, system: LocalPropertySystem
) -> None:
    client = make_client("action", database_url=database_url)

    response = client.post(
        WEBHOOK,
        json=action_call("action_query_bill", "demo-resident-unbound", "物业费多少", []),
    )

    assert [m["text"] for m in response.json()["responses"]] == [
        "您还没有绑定房屋，请先绑定房屋后再查询。"
    ]


def test_a_broken_database_gives_the_resident_an_apology_and_logs_the_conversation(
    make_client: Callable[..., TestClient], capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_client("action", database_url="postgresql://nobody@127.0.0.1:9/none")

    response = client.post(
        WEBHOOK, json=action_call("action_query_bill", "demo-resident-1", "物业费多少", [])
    )

    assert response.status_code == 200
    assert "抱歉" in response.json()["responses"][0]["text"]
    logged = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    [failure] = [line for line in logged if line["event"] == "action_failed"]
    assert failure["conversation_id"] == "demo-resident-1"
    assert failure["action"] == "action_query_bill"
    assert "OperationalError" in failure["exception"]


def test_unknown_actions_and_bad_bodies_are_refused(
    make_client: Callable[..., TestClient], tmp_path
) -> None:
    client = make_client("action", database_url=f"sqlite:///{tmp_path / 'x.db'}")

    unknown = client.post(WEBHOOK, json=action_call("action_nope", "a", "", []))
    assert unknown.status_code == 404
    assert unknown.json()["action_name"] == "action_nope"
    assert client.post(WEBHOOK, content=b"{not json").status_code == 400
    assert "action_query_bill" in {
        a["name"] for a in client.get(f"/rasa/actions?token={ACTION_TOKEN}").json()
    }


def reply_to(client: TestClient, sender: str, text: str, entities: list[dict[str, Any]]) -> str:
    response = client.post(WEBHOOK, json=action_call("action_query_bill", sender, text, entities))
    assert response.status_code == 200
    return "\n".join(m["text"] for m in response.json()["responses"])


def month_entity(first: date) -> dict[str, Any]:
    following = (first + timedelta(days=32)).replace(day=1)
    return {
        "entity": "time",
        "start": 0,
        "end": 3,
        "value": {
            "start": f"{first.isoformat()}T00:00:00+08:00",
            "end": f"{following.isoformat()}T00:00:00+08:00",
        },
    }


def test_last_months_water_bill_is_that_months_amount(
    make_client: Callable[..., TestClient], database_url: str, system: LocalPropertySystem
) -> None:
    client = make_client("action", database_url=database_url)
    water = system.bills.statement("demo-resident-1", bill_type="水费").lines
    last_month = water[1]

    reply = reply_to(
        client,
        "demo-resident-1",
        "上个月水费多少",
        [
            {"entity": "bill_type", "value": "水费", "start": 3, "end": 5},
            month_entity(last_month.period),
        ],
    )

    assert f"{last_month.period.year}年{last_month.period.month}月水费" in reply
    assert f"水费 ¥{last_month.amount:,.2f}（已缴）" in reply
    assert f"¥{water[0].amount:,.2f}" not in reply or water[0].amount == last_month.amount


def test_arrears_list_every_unpaid_bill_and_their_total(
    make_client: Callable[..., TestClient], database_url: str, system: LocalPropertySystem
) -> None:
    client = make_client("action", database_url=database_url)
    unpaid = system.bills.statement("demo-resident-2", unpaid_only=True)

    reply = reply_to(client, "demo-resident-2", "我家有没有欠费", [])

    assert f"未缴费用共 ¥{unpaid.unpaid_total:,.2f}" in reply
    assert reply.count("未缴，请于") == len(unpaid.lines)


def test_payment_history_shows_paid_bills_with_their_dates(
    make_client: Callable[..., TestClient], database_url: str, system: LocalPropertySystem
) -> None:
    client = make_client("action", database_url=database_url)
    this_year = date.today().replace(month=1, day=1)
    paid = [
        b
        for b in system.bills.statement("demo-resident-1", bill_type="物业费").lines
        if b.paid and b.period >= this_year
    ]

    reply = reply_to(
        client,
        "demo-resident-1",
        "今年物业费缴费记录",
        [
            {"entity": "bill_type", "value": "物业费", "start": 2, "end": 5},
            {
                "entity": "time",
                "start": 0,
                "end": 2,
                "value": {
                    "start": f"{this_year.year}-01-01T00:00:00+08:00",
                    "end": f"{this_year.year + 1}-01-01T00:00:00+08:00",
                },
            },
        ],
    )

    assert reply.startswith("已缴物业费记录")
    assert reply.count("缴纳") == len(paid)
    assert "未缴" not in reply
