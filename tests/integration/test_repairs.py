"""Repairs from the resident's first words to the rating, through the real Rasa server,
the app (actions, staff API) and the database; staff alerts reach the fake WeCom robot."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import httpx
import pytest

from integrations.property import LocalPropertySystem
from integrations.property.interface import RepairInfo
from integrations.property.services.numbering import LOCAL_TZ
from integrations.property.services.repairs import NEEDS_HOUSE
from scripts.stack import RunningStack
from tests.integration.conftest import say
from tests.integration.wechat_peer import OfficialAccountPeer
from tests.wechat.fake_server import ROBOT, FakeWeChat

NUMBER = re.compile(r"BX\d{10,}")
# Rooms of the demo community and the last four digits of their registered phones.
HOME_101 = ("1", "1", "101", "0001")
HOME_202 = ("2", "1", "202", "0002")


def resident(system: LocalPropertySystem, *homes: tuple[str, str, str, str]) -> str:
    """A new WeChat identity bound (as family) to `homes`."""
    openid = f"o-repair-{uuid.uuid4().hex[:8]}"
    for building, unit, room, last4 in homes:
        system.residents.bind(
            openid, building=building, unit=unit, room=room, phone_last4=last4, role="family"
        )
    return openid


def filed(reply: str, system: LocalPropertySystem, openid: str) -> RepairInfo:
    """The order the reply names, read back from the database as that resident."""
    found = NUMBER.search(reply)
    assert found, reply
    return system.repairs.get(found.group(0), openid=openid)


def robot_message_about(fake: FakeWeChat, number: str) -> str:
    body = fake.wait_for(ROBOT, lambda b: number in b["markdown"]["content"])
    return body["markdown"]["content"]


def test_a_report_that_says_what_and_where_only_asks_when(
    rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    me = resident(stack_system, HOME_101)

    [when] = say(rasa, me, "厨房水管漏水了")
    assert when.startswith("您希望师傅什么时间上门")
    [done] = say(rasa, me, "明天上午")

    order = filed(done, stack_system, me)
    tomorrow = (datetime.now(LOCAL_TZ) + timedelta(days=1)).date()
    assert (order.item, order.location, order.house) == ("水管", "厨房", "1栋1单元101")
    assert order.description == "厨房水管漏水了" and not order.public_area
    assert order.preferred_start.astimezone(LOCAL_TZ).date() == tomorrow
    assert f"单号 {order.number}" in done
    assert f"上门时间：{tomorrow.month}月{tomorrow.day}日" in done


def test_a_bare_report_is_asked_only_what_is_missing_one_question_at_a_time(
    rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    me = resident(stack_system, HOME_101)

    assert say(rasa, me, "我要报修")[0].startswith("请问是什么需要维修")
    assert say(rasa, me, "马桶")[0].startswith("在什么位置")
    assert say(rasa, me, "卫生间")[0].startswith("请简单说说是什么问题")
    assert say(rasa, me, "堵了，冲不下去")[0].startswith("您希望师傅什么时间上门")
    [done] = say(rasa, me, "尽快")

    order = filed(done, stack_system, me)
    assert (order.item, order.location, order.description) == ("马桶", "卫生间", "堵了，冲不下去")
    assert order.preferred_start is None and "上门时间：尽快安排" in done


def test_a_report_by_voice_in_wechat_then_a_photo_of_it(
    stack: RunningStack, stack_system: LocalPropertySystem
) -> None:
    me = resident(stack_system, HOME_101)
    wechat = OfficialAccountPeer(stack.app_url)

    def voice(recognised: str) -> str:
        fields = wechat.fields(
            me,
            "voice",
            MediaId="v",
            Format="amr",
            Recognition=recognised,
            MsgId=next(wechat.msg_ids),
        )
        return wechat.reply(wechat.post(fields, "aes"))["Content"]

    assert voice("我家厨房水管漏水了。").startswith("您希望师傅什么时间上门")
    order = filed(voice("明天上午。"), stack_system, me)
    photo = wechat.fields(
        me, "image", PicUrl="http://mmbiz.example/p.jpg", MediaId="m", MsgId=next(wechat.msg_ids)
    )
    attached = wechat.reply(wechat.post(photo, "aes"))["Content"]

    assert order.item == "水管" and order.description == "我家厨房水管漏水了。"
    assert attached.startswith(f"照片已添加到您的报修单 {order.number}")


def test_a_resident_with_two_homes_is_asked_which_one(
    rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    me = resident(stack_system, HOME_101, HOME_202)

    [which] = say(rasa, me, "卧室的灯不亮了")
    assert which.startswith("是哪一套房屋需要维修")
    [when] = say(rasa, me, "2栋1单元202")
    assert when.startswith("您希望师傅什么时间上门")
    [done] = say(rasa, me, "随时都可以")

    assert filed(done, stack_system, me).house == "2栋1单元202"


def test_a_common_area_repair_needs_no_home_and_no_visit_time(
    rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    stranger = f"o-repair-{uuid.uuid4().hex[:8]}"

    [done] = say(rasa, stranger, "楼道的灯坏了")

    order = filed(done, stack_system, stranger)
    assert order.public_area and order.house is None and order.location == "楼道"
    assert "公共区域" in done and "上门时间" not in done


def test_an_in_home_repair_from_someone_not_bound_is_sent_to_binding_first(
    rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    stranger = f"o-repair-{uuid.uuid4().hex[:8]}"

    response = rasa.post(
        "/webhooks/rest/webhook", json={"sender": stranger, "message": "我家卫生间马桶堵了"}
    ).json()

    assert [m["text"] for m in response] == [NEEDS_HOUSE]
    assert response[0]["buttons"] == [{"title": "绑定房屋", "payload": "/bind_house"}]
    assert stack_system.residents.by_openid(stranger) is None  # nothing was filed for them


@pytest.mark.parametrize(
    ("said", "kind", "advice"),
    [
        ("电梯困人了，快来人", "电梯困人", "不要扒门"),
        ("家里有很重的煤气味", "燃气泄漏", "不要用明火"),
        ("插座冒火花了", "漏电起火", "断开电闸"),
    ],
)
def test_an_emergency_is_filed_at_once_with_the_24_hour_number_and_staff_are_alerted(
    said: str,
    kind: str,
    advice: str,
    rasa: httpx.Client,
    stack_system: LocalPropertySystem,
    fake_wechat: FakeWeChat,
) -> None:
    me = resident(stack_system, HOME_101)

    [reply] = say(rasa, me, said)

    order = filed(reply, stack_system, me)
    assert order.emergency and order.description == said
    assert f"已为您紧急报修（{kind}）" in reply
    assert "24小时应急电话：0571-88889999" in reply and advice in reply
    alert = robot_message_about(fake_wechat, order.number)
    assert alert.startswith(f"**【紧急报修】{kind}**") and said in alert
    # A person follows it up: the conversation is handed to the staff on duty.
    handoff = stack_system.handoffs.active_for(me)
    assert handoff is not None and handoff.reason == f"紧急报修：{kind}"
    assert f"/console/handoffs/{handoff.id}" in alert
    assert "接下来您发的消息会直接转给值班人员" in reply


@pytest.mark.parametrize(
    "said",
    [
        "电梯里关着人呢",
        "救命 电梯卡住了 我在里面",
        "楼道里一股煤气味",
        "闻到很大的燃气味",
        "电线冒烟了",
        "家里水管爆了，到处是水",
        "卫生间大面积漏水",
    ],
)
def test_emergencies_said_in_other_words_are_filed_at_once_too(
    said: str, rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    [reply] = say(rasa, resident(stack_system, HOME_101), said)

    assert reply.startswith("已为您紧急报修") and "24小时应急电话" in reply


def test_an_emergency_from_someone_not_bound_is_still_filed(
    rasa: httpx.Client, stack_system: LocalPropertySystem, fake_wechat: FakeWeChat
) -> None:
    stranger = f"o-repair-{uuid.uuid4().hex[:8]}"

    [reply] = say(rasa, stranger, "电梯卡住了，里面有人出不来")

    order = filed(reply, stack_system, stranger)
    assert order.emergency and order.public_area and order.house is None
    alert = robot_message_about(fake_wechat, order.number)
    assert "> 报修：公共区域 电梯" in alert and "> 住户：微信住户" in alert


def test_progress_urging_and_cancelling_by_conversation(
    rasa: httpx.Client, stack_system: LocalPropertySystem, fake_wechat: FakeWeChat
) -> None:
    me = resident(stack_system, HOME_101)
    order = stack_system.repairs.create(me, item="门锁", location="卧室", description="门锁坏了")

    [progress] = say(rasa, me, "我的报修到哪一步了")
    assert progress.startswith("您有1张报修单在处理中")
    assert f"{order.number}｜1栋1单元101 卧室 门锁｜已受理" in progress

    [urged] = say(rasa, me, "太慢了，催一下")
    assert urged.startswith(f"已帮您催办报修单 {order.number}")
    assert "【住户催单】第1次" in robot_message_about(fake_wechat, order.number)
    [again] = say(rasa, me, "催一下")
    assert "刚刚已经帮您催过了" in again
    assert [e.kind for e in stack_system.repairs.get(order.number).events] == ["created", "urged"]

    [cancelled] = say(rasa, me, "取消报修")
    assert cancelled.startswith(f"已取消报修单 {order.number}")
    assert stack_system.repairs.get(order.number).status == "cancelled"


def test_with_several_open_orders_the_resident_picks_one_by_its_number(
    rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    me = resident(stack_system, HOME_101)
    first = stack_system.repairs.create(me, item="灯", location="客厅")
    second = stack_system.repairs.create(me, item="窗户", location="阳台")

    response = rasa.post("/webhooks/rest/webhook", json={"sender": me, "message": "催一下"}).json()
    assert response[0]["text"] == "您有2张报修单，要催办哪一张？"
    payloads = [b["payload"] for b in response[0]["buttons"]]
    assert payloads == [
        f'/urge_repair{{"repair_number": "{number}"}}' for number in (second.number, first.number)
    ]

    [urged] = say(rasa, me, payloads[1])

    assert urged.startswith(f"已帮您催办报修单 {first.number}")
    assert stack_system.repairs.get(second.number).events[-1].kind == "created"


def test_a_stranger_learns_nothing_about_someone_elses_order(
    rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    owner = resident(stack_system, HOME_101)
    order = stack_system.repairs.create(owner, item="马桶", location="卫生间")
    other = resident(stack_system, HOME_202)

    for question in (f"查一下报修单{order.number}", f"取消{order.number}"):
        [reply] = say(rasa, other, question)
        assert reply == f"没有找到单号为 {order.number} 的报修。"
    assert stack_system.repairs.get(order.number).status == "submitted"


def test_staff_progress_is_pushed_and_the_resident_then_rates_the_repair(
    stack: RunningStack,
    rasa: httpx.Client,
    stack_system: LocalPropertySystem,
    staff: httpx.Client,
    fake_wechat: FakeWeChat,
) -> None:
    me = resident(stack_system, HOME_101)
    [done] = say(rasa, me, "客厅空调不制冷，明天下午来修")
    number = filed(done, stack_system, me).number

    for step, body in (("assign", {"assignee": "老赵"}), ("start", None), ("complete", {})):
        staff.post(f"/api/repairs/{number}/{step}", json=body).raise_for_status()
    pushed = [
        b
        for b in fake_wechat.sent("/cgi-bin/message/template/send")
        if b["touser"] == me and number in b["data"]["remark"]["value"]
    ]
    assert len(pushed) == 3 and "已维修完成" in pushed[-1]["data"]["remark"]["value"]

    # The resident answers the notice in WeChat with a bare digit, as it asks.
    wechat = OfficialAccountPeer(stack.app_url)
    ask_comment = wechat.reply(wechat.post(wechat.text(me, "5")))["Content"]
    assert ask_comment.startswith("谢谢！还有什么想对我们说的吗")
    thanks = wechat.reply(wechat.post(wechat.text(me, "师傅很专业，修得很快")))["Content"]

    assert thanks.startswith("感谢您的评价（★★★★★）")
    order = stack_system.repairs.get(number)
    assert order.rating == 5 and order.events[-1].note == "5分 师傅很专业，修得很快"
    [nothing_left] = say(rasa, me, "我要评价")
    assert nothing_left.startswith("您目前没有待评价的报修单")


def test_a_low_score_with_its_reason_is_saved_at_once_and_staff_call_back(
    rasa: httpx.Client,
    stack_system: LocalPropertySystem,
    fake_wechat: FakeWeChat,
) -> None:
    me = resident(stack_system, HOME_101)
    number = stack_system.repairs.create(me, item="热水器").number
    stack_system.repairs.transition(number, "in_progress", actor="老赵")
    stack_system.repairs.transition(number, "completed", actor="老赵")

    [reply] = say(rasa, me, "两分，师傅迟到了一个小时")

    assert reply.startswith("收到您的评价（★★☆☆☆）")
    assert stack_system.repairs.get(number).rating == 2
    assert "【低分评价】2分" in robot_message_about(fake_wechat, number)
