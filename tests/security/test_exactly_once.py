"""Work done exactly once (issue 14, items 7–10): numbered choices answer the next message
only; an action retried after a lost connection files nothing twice and alerts once; staff
alerts are neither sent twice nor stuck behind routine ones; reminders survive a crash."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI, Request
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import actions.base
import app.conversations.log as log_module
from actions.complaints import URGENT_ALERTED, ActionSubmitComplaint
from actions.ratings import ActionRateRepair
from actions.repairs import ActionStartRepair
from app.conversations.handoff_state import HandoffState
from app.conversations.log import MessageLog
from app.conversations.models import OutboundMessage, OutboundStatus
from app.conversations.outbox import Outbox
from app.conversations.rasa import RasaClient
from app.conversations.reminders import send_due_reminders
from app.conversations.router import Router
from app.conversations.staff_alerts import STAFF_GROUP, StaffAlerts
from app.kv import RedisKV
from integrations.property import LocalPropertySystem
from integrations.property.db import session_factory
from integrations.property.models import Complaint, Handoff, RepairEvent, RepairOrder
from integrations.property.services.numbering import LOCAL_TZ
from integrations.wechat.api import GroupRobot, OfficialAccountAPI, TokenAPI
from integrations.wechat.messages import Incoming
from integrations.wechat.push import GroupRobotPush, OfficialAccountPush
from scripts.stack import free_port
from tests.local_server import serving
from tests.wechat.fake_server import CUSTOM, ROBOT, FakeWeChat


def lost_connection() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


def fail_once(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, error: Exception) -> None:
    """The real method, except that its first call raises `error` (nothing it would do is done)."""
    real = getattr(target, name)
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, flaky)


# --- 7. numbered choices answer the next message only ------------------------------------


class RasaStandIn:
    """Rasa's REST channel on a local port: records what reached it, answers as scripted."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[str] = []
        self.replies: dict[str, dict[str, Any]] = {}

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/webhooks/rest/webhook")
        async def webhook(request: Request) -> list[dict[str, Any]]:
            message = json.loads(await request.body())["message"]
            self.received.append(message)
            reply = self.replies.get(message, {"text": "好的。"})
            return [{"recipient_id": "x", **reply}]

        return app


@contextmanager
def running_rasa_stand_in() -> Iterator[RasaStandIn]:
    rasa = RasaStandIn()
    with serving(rasa.app(), rasa.port):
        yield rasa


@pytest.fixture
async def chat(
    system: LocalPropertySystem, kv: RedisKV
) -> AsyncIterator[tuple[Callable[[str], Any], RasaStandIn]]:
    openid = f"o-{uuid.uuid4().hex[:12]}"
    with running_rasa_stand_in() as rasa:
        async with httpx.AsyncClient(trust_env=False) as http:
            message_log = MessageLog(session_factory(system.engine))
            router = Router(
                kv,
                message_log,
                RasaClient(http, f"http://127.0.0.1:{rasa.port}", 5, "rasa-token"),
                system,
                HandoffState(system.handoffs, None),
                Outbox(message_log, {}),
                dedupe_ttl_seconds=60,
            )

            async def say(text: str) -> list[str]:
                incoming = Incoming(
                    channel="oa",
                    sender=openid,
                    kind="text",
                    dedupe_key=f"{openid}:{uuid.uuid4().hex}",
                    created_at=int(time.time()),
                    text=text,
                )
                return (await router.handle(incoming, 4.5)).replies

            yield say, rasa
            await router.drain()


async def test_a_unit_number_after_the_greetings_button_is_the_unit_not_the_button(
    chat: tuple[Callable[[str], Any], RasaStandIn],
) -> None:
    say, rasa = chat
    rasa.replies["你好"] = {
        "text": "您好！我是物业助手。",
        "buttons": [{"title": "查账单", "payload": "/query_bill"}],
    }
    rasa.replies["绑定房屋"] = {"text": "请问您的房屋是几栋几单元几室？先告诉我单元号。"}

    [greeting] = await say("你好")
    await say("绑定房屋")
    await say("1")

    assert "1. 查账单" in greeting
    assert rasa.received == ["你好", "绑定房屋", "1"]


async def test_a_phone_suffix_after_the_role_question_is_the_suffix(
    chat: tuple[Callable[[str], Any], RasaStandIn],
) -> None:
    say, rasa = chat
    roles = [
        {"title": "业主", "payload": '/inform{"house_role":"owner"}'},
        {"title": "租户", "payload": '/inform{"house_role":"tenant"}'},
    ]
    rasa.replies["绑定房屋"] = {"text": "您是这套房屋的？", "buttons": roles}
    rasa.replies["业主"] = {"text": "请输入登记手机号的后四位。"}

    await say("绑定房屋")
    await say("业主")
    await say("0002")

    assert rasa.received == ["绑定房屋", "业主", "0002"]


async def test_a_number_answering_the_choices_just_offered_still_chooses(
    chat: tuple[Callable[[str], Any], RasaStandIn],
) -> None:
    say, rasa = chat
    roles = [
        {"title": "业主", "payload": '/inform{"house_role":"owner"}'},
        {"title": "租户", "payload": '/inform{"house_role":"tenant"}'},
    ]
    rasa.replies["绑定房屋"] = {"text": "您是这套房屋的？", "buttons": roles}

    await say("绑定房屋")
    await say("02")  # not a choice as shown: the offer is used up by it
    await say("绑定房屋")
    await say("2")
    await say("2")  # the offer answered, a second "2" is just text

    assert rasa.received == [
        "绑定房屋",
        "02",
        "绑定房屋",
        '/inform{"house_role":"tenant"}',
        "2",
    ]


# --- 8. an action retried after a lost connection files once, alerts once -----------------


def turn(sender: str, text: str, slots: dict[str, Any] | None = None) -> Tracker:
    message_id = uuid.uuid4().hex
    return Tracker(
        sender_id=sender,
        slots=slots or {},
        latest_message={
            "text": text,
            "intent": {"name": "inform"},
            "entities": [],
            "message_id": message_id,
            "metadata": {"channel": "oa"},
        },
        events=[{"event": "user", "text": text, "message_id": message_id, "timestamp": 1.0}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def count(system: LocalPropertySystem, model: Any, *where: Any) -> int:
    with session_factory(system.engine)() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def robot_alerts(fake: FakeWeChat) -> list[str]:
    return [body["markdown"]["content"] for body in fake.sent(ROBOT)]


@pytest.mark.parametrize("lost_at", ["handoffs.open", "residents.contacts"])
async def test_an_emergency_retried_after_a_lost_connection_is_filed_and_alerted_once(
    system: LocalPropertySystem,
    staff_group: Outbox,
    fake: FakeWeChat,
    monkeypatch: pytest.MonkeyPatch,
    lost_at: str,
) -> None:
    service, method = lost_at.split(".")
    fail_once(monkeypatch, getattr(system, service), method, lost_connection())
    dispatcher = CollectingDispatcher()

    await ActionStartRepair().run(dispatcher, turn("demo-resident-1", "电梯困人了，快来人"), {})
    await staff_group.drain()

    [reply] = dispatcher.messages
    assert reply["text"].startswith("已为您紧急报修（电梯困人），单号 BX")
    assert "系统暂时无法登记" not in reply["text"]
    assert count(system, RepairOrder, RepairOrder.description == "电梯困人了，快来人") == 1
    assert count(system, Handoff, Handoff.reason == "紧急报修：电梯困人") == 1
    [alert] = robot_alerts(fake)
    assert "【紧急报修】电梯困人" in alert and "/console/handoffs/" in alert


async def test_an_urgent_complaint_retried_after_a_lost_connection_is_filed_once(
    system: LocalPropertySystem,
    staff_group: Outbox,
    fake: FakeWeChat,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fail_once(monkeypatch, system.handoffs, "open", lost_connection())
    slots = {
        "complaint_type": "安全",
        "complaint_location": "地下车库",
        "complaint_description": "车库消防栓被杂物堵住了，很危险",
        "complaint_anonymous": "no",
    }
    dispatcher = CollectingDispatcher()

    await ActionSubmitComplaint().run(dispatcher, turn("demo-resident-2", "不用", slots), {})
    await staff_group.drain()

    [filed, handed] = dispatcher.messages
    assert filed["text"].startswith("已为您登记投诉，编号 TS")
    assert handed["text"].startswith("这类问题涉及安全，已同时为您转接值班工作人员")
    assert count(system, Complaint, Complaint.description == slots["complaint_description"]) == 1
    assert count(system, Handoff, Handoff.reason == "紧急投诉：安全") == 1
    [alert] = robot_alerts(fake)
    assert "【转人工】紧急投诉：安全" in alert


def fail_after_once(
    monkeypatch: pytest.MonkeyPatch, target: Any, name: str, error: Exception
) -> None:
    """The real method, except that its first call raises `error` after it has committed
    (the connection was lost before the database's answer came back)."""
    real = getattr(target, name)
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        made = real(*args, **kwargs)
        if len(calls) == 1:
            raise error
        return made

    monkeypatch.setattr(target, name, flaky)


def down(monkeypatch: pytest.MonkeyPatch, target: Any, name: str) -> None:
    """The method's database stays unreachable through every attempt after a reconnect."""

    def lost(*args: Any, **kwargs: Any) -> Any:
        raise lost_connection()

    monkeypatch.setattr(target, name, lost)
    monkeypatch.setattr(actions.base, "RECONNECT_DELAYS", (0.0, 0.0))


def completed_repair(system: LocalPropertySystem, openid: str) -> str:
    number = system.repairs.create(openid, item="马桶", description="马桶堵了").number
    system.repairs.transition(number, "in_progress", actor="老赵")
    system.repairs.transition(number, "completed", actor="老赵")
    return number


def closed_complaint(system: LocalPropertySystem, openid: str) -> str:
    number = system.complaints.create(
        openid, complaint_type="卫生", description="垃圾桶满了没人倒"
    ).number
    system.complaints.transition(number, "closed", actor="小王", response="已清运")
    return number


def rating(number: str, score: str, comment: str = "") -> dict[str, Any]:
    return {"repair_number": number, "repair_score": score, "repair_comment": comment}


@pytest.mark.parametrize("what", ["repairs", "complaints"])
async def test_a_low_rating_retried_after_a_lost_connection_is_made_and_alerted_once(
    system: LocalPropertySystem,
    staff_group: Outbox,
    fake: FakeWeChat,
    monkeypatch: pytest.MonkeyPatch,
    what: str,
) -> None:
    openid = "demo-resident-1"
    number = (completed_repair if what == "repairs" else closed_complaint)(system, openid)
    fail_after_once(monkeypatch, getattr(system, what), "rate", lost_connection())
    dispatcher = CollectingDispatcher()

    events = await ActionRateRepair().run(
        dispatcher, turn(openid, "师傅态度很差", rating(number, "1", "师傅态度很差")), {}
    )
    await staff_group.drain()

    [reply] = dispatcher.messages
    assert reply["text"] == (
        "收到您的评价（★☆☆☆☆）。很抱歉这次没让您满意，客服主管会尽快联系您了解情况。"
    )
    assert {"event": "slot", "name": "repair_score", "value": None} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in events
    ]
    model = RepairOrder if what == "repairs" else Complaint
    with session_factory(system.engine)() as session:
        rated = session.scalar(select(model).where(model.number == number))
        assert rated is not None
        assert (rated.rating, rated.rating_comment) == (1, "师傅态度很差")
    if what == "repairs":
        assert count(system, RepairEvent, RepairEvent.kind == "rated") == 1
    [alert] = robot_alerts(fake)
    assert "【低分评价】1分，请回访" in alert and number in alert
    assert count(system, OutboundMessage, OutboundMessage.recipient == STAFF_GROUP) == 1


@pytest.mark.parametrize("what", ["repairs", "complaints"])
async def test_a_second_rating_in_a_later_turn_is_told_it_is_rated_already(
    system: LocalPropertySystem, staff_group: Outbox, fake: FakeWeChat, what: str
) -> None:
    openid = "demo-resident-1"
    number = (completed_repair if what == "repairs" else closed_complaint)(system, openid)
    first, second = CollectingDispatcher(), CollectingDispatcher()

    await ActionRateRepair().run(first, turn(openid, "1分", rating(number, "1")), {})
    await ActionRateRepair().run(second, turn(openid, "2分", rating(number, "2")), {})
    await staff_group.drain()

    assert first.messages[0]["text"].startswith("收到您的评价（★☆☆☆☆）")
    [again] = second.messages
    assert again["text"].endswith("已经评价过了，谢谢您！")
    model = RepairOrder if what == "repairs" else Complaint
    with session_factory(system.engine)() as session:
        assert session.scalar(select(model.rating).where(model.number == number)) == 1
    assert len(robot_alerts(fake)) == 1


@pytest.mark.parametrize("lost_at", ["handoffs.open", "residents.contacts"])
async def test_an_urgent_complaint_filed_while_the_database_stays_down_keeps_its_number(
    system: LocalPropertySystem,
    staff_group: Outbox,
    fake: FakeWeChat,
    monkeypatch: pytest.MonkeyPatch,
    lost_at: str,
) -> None:
    service, method = lost_at.split(".")
    down(monkeypatch, getattr(system, service), method)
    slots = {
        "complaint_type": "消防通道",
        "complaint_location": "3栋楼下",
        "complaint_description": "消防通道被私家车堵死了",
        "complaint_anonymous": "no",
    }
    dispatcher = CollectingDispatcher()

    await ActionSubmitComplaint().run(dispatcher, turn("demo-resident-2", "不用", slots), {})
    await staff_group.drain()

    texts = [m["text"] for m in dispatcher.messages]
    assert texts[0].startswith("已为您登记投诉，编号 TS")
    assert texts[-1] == URGENT_ALERTED
    assert not any("系统暂时" in t or "抱歉，系统" in t for t in texts)
    with session_factory(system.engine)() as session:
        [number] = session.scalars(
            select(Complaint.number).where(Complaint.description == slots["complaint_description"])
        ).all()
    assert number in texts[0]
    [alert] = robot_alerts(fake)
    assert "紧急投诉" in alert and number in alert


@pytest.mark.parametrize("kind", ["卫生", "安全"])
async def test_a_complaint_the_database_never_took_is_said_not_filed(
    system: LocalPropertySystem,
    staff_group: Outbox,
    fake: FakeWeChat,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    down(monkeypatch, system.complaints, "create")
    slots = {
        "complaint_type": kind,
        "complaint_location": "2栋",
        "complaint_description": "楼道里一直没人打扫",
        "complaint_anonymous": "no",
    }
    dispatcher = CollectingDispatcher()

    await ActionSubmitComplaint().run(dispatcher, turn("demo-resident-2", "不用", slots), {})
    await staff_group.drain()

    [reply] = dispatcher.messages
    assert reply["text"].startswith(
        "系统暂时无法登记，这类问题涉及安全" if kind == "安全" else "抱歉，系统暂时无法登记您的投诉"
    )
    assert count(system, Complaint, Complaint.description == slots["complaint_description"]) == 0
    assert robot_alerts(fake) == []


# --- 9. staff alerts: each sent once, emergencies first, never given up ---------------------


class Gate:
    """The robot's wait for its next slot: no time passes until the test opens the gate."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        await self.opened.wait()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


ROBOT_TIME = 1_800_000_000.0  # the robot's clock stands still: each slot is a gate wait


def worker(
    system: LocalPropertySystem, http: httpx.AsyncClient, kv: RedisKV, fake: FakeWeChat, gate: Gate
) -> Outbox:
    """One app process's outbox; the processes share the database and the slot store."""
    robot = GroupRobot(
        http, kv, f"{fake.url}{ROBOT}?key=k", clock=lambda: ROBOT_TIME, sleep=gate.sleep
    )
    return Outbox(MessageLog(session_factory(system.engine)), {STAFF_GROUP: GroupRobotPush(robot)})


def counted_claims(monkeypatch: pytest.MonkeyPatch, *outboxes: Outbox) -> threading.Semaphore:
    """Released once per claim of due messages, so the test knows a claim has happened."""
    claims = threading.Semaphore(0)
    for outbox in outboxes:
        real = outbox.log.claim_due_outbound

        def counted(*args: Any, real: Any = real, **kwargs: Any) -> Any:
            try:
                return real(*args, **kwargs)
            finally:
                claims.release()

        monkeypatch.setattr(outbox.log, "claim_due_outbound", counted)
    return claims


async def test_queued_alerts_outliving_the_lease_are_each_sent_once(
    system: LocalPropertySystem, kv: RedisKV, fake: FakeWeChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.reset()
    clock, gate = Clock(), Gate()
    monkeypatch.setattr(log_module, "utcnow", clock)
    async with httpx.AsyncClient(trust_env=False) as http:
        first, second = (worker(system, http, kv, fake, gate) for _ in range(2))
        for n in range(30):
            await StaffAlerts(first).send("【住户催单】", f"> 单号：BX{n:04d}")
        claims = counted_claims(monkeypatch, first, second)
        clock.now += log_module.SEND_LEASE * 3  # every lease taken so far has run out
        recovery = [asyncio.create_task(w.retry_due()) for w in (first, second, first)]
        for _ in recovery:  # each recovery pass has looked for due messages
            await anyio.to_thread.run_sync(claims.acquire)
        gate.opened.set()
        await asyncio.gather(*recovery)
        for _ in range(3):
            await asyncio.gather(first.drain(), second.drain())
            await asyncio.gather(first.retry_due(), second.retry_due())

    sent = sorted(content.rsplit("BX", 1)[1] for content in robot_alerts(fake))
    assert sent == [f"{n:04d}" for n in range(30)]
    assert count(system, OutboundMessage, OutboundMessage.status == OutboundStatus.SENT) == 30


async def test_an_emergency_queued_after_twenty_routine_alerts_goes_out_first(
    system: LocalPropertySystem, kv: RedisKV, fake: FakeWeChat
) -> None:
    fake.reset()
    gate = Gate()
    async with httpx.AsyncClient(trust_env=False) as http:
        outbox = worker(system, http, kv, fake, gate)
        # Another process has just taken the current slot: this one waits for the next.
        await GroupRobot(http, kv, "http://unused", clock=lambda: ROBOT_TIME).reserve_slot()
        alerts = StaffAlerts(outbox)
        for n in range(20):
            await alerts.send("【住户催单】第1次 · 已受理", f"> 单号：BX{n:04d}")
        await alerts.send("【紧急报修】电梯困人", "> 单号：BX9999", urgent=True)
        gate.opened.set()
        await outbox.drain()

    contents = robot_alerts(fake)
    assert len(contents) == 21
    assert contents[0].startswith("**【紧急报修】电梯困人**")
    assert [c.rsplit("BX", 1)[1] for c in contents[1:]] == [f"{n:04d}" for n in range(20)]


def test_a_staff_alert_is_retried_until_the_robot_takes_it_a_resident_push_gives_up(
    system: LocalPropertySystem,
) -> None:
    message_log = MessageLog(session_factory(system.engine))
    alert = message_log.enqueue(STAFF_GROUP, STAFF_GROUP, "> 单号：BX0001", "【紧急报修】")
    push = message_log.enqueue("oa", "demo-resident-1", "您的报修已完成", "报修进度")
    assert alert is not None and push is not None

    for _ in range(log_module.MAX_OUTBOUND_ATTEMPTS + 5):
        message_log.send_failed(alert, "robot: 45009 api freq out of limit")
        message_log.send_failed(push, "48001 api unauthorized")

    with session_factory(system.engine)() as session:
        kept, given_up = session.get(OutboundMessage, alert), session.get(OutboundMessage, push)
        assert kept is not None and given_up is not None
        assert kept.status is OutboundStatus.PENDING
        assert kept.next_attempt_at - datetime.now(UTC) <= log_module.STAFF_ALERT_BACKOFF_CAP
        assert given_up.status is OutboundStatus.FAILED


# --- 10. a reminder survives a crash between its claim and its queueing -------------------


NOW = datetime(2026, 11, 21, 14, 10, tzinfo=LOCAL_TZ)


@pytest.fixture
async def resident_pushes(
    system: LocalPropertySystem, kv: RedisKV, fake: FakeWeChat
) -> AsyncIterator[Outbox]:
    fake.reset()
    async with httpx.AsyncClient(trust_env=False) as http:
        api = OfficialAccountAPI(
            TokenAPI.official_account(
                http, kv, base_url=fake.url, app_id=f"wx{uuid.uuid4().hex[:16]}", app_secret="s"
            )
        )

        async def last_seen(openid: str) -> datetime:
            return datetime.now(UTC)

        outbox = Outbox(
            MessageLog(session_factory(system.engine)),
            {"oa": OfficialAccountPush(api, last_seen, None)},
        )
        yield outbox
        await outbox.drain()


async def test_a_crash_between_claiming_and_queueing_a_reminder_does_not_lose_it(
    system: LocalPropertySystem,
    resident_pushes: Outbox,
    fake: FakeWeChat,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    system.bookings.book("demo-resident-1", "健身房", NOW.replace(hour=15, minute=0), now=NOW)
    fail_once(monkeypatch, resident_pushes.log, "enqueue", RuntimeError("the process died"))

    with pytest.raises(RuntimeError):
        await send_due_reminders(system, resident_pushes, timedelta(hours=1), NOW)
    await send_due_reminders(system, resident_pushes, timedelta(hours=1), NOW)  # restarted
    await resident_pushes.drain()

    [reminder] = fake.sent(CUSTOM)
    assert reminder["touser"] == "demo-resident-1"
    assert reminder["text"]["content"].startswith("提醒：您预约的健身房")


async def test_a_crash_after_queueing_a_reminder_does_not_send_it_twice(
    system: LocalPropertySystem,
    resident_pushes: Outbox,
    fake: FakeWeChat,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    system.bookings.book("demo-resident-1", "健身房", NOW.replace(hour=15, minute=0), now=NOW)
    fail_once(monkeypatch, system.bookings, "mark_reminded", RuntimeError("the process died"))

    with pytest.raises(RuntimeError):
        await send_due_reminders(system, resident_pushes, timedelta(hours=1), NOW)
    await send_due_reminders(system, resident_pushes, timedelta(hours=1), NOW)  # restarted
    await resident_pushes.drain()

    assert len(fake.sent(CUSTOM)) == 1
    assert system.bookings.due_reminders(ahead=timedelta(hours=1), now=NOW) == []
