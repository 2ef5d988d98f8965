"""Complaints and angry residents, through WeChat, the real Rasa server, the app, the staff
API and the database; the staff group robot and WeChat's push API are the fake server."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx

from integrations.property import LocalPropertySystem
from integrations.property.interface import ComplaintInfo
from tests.integration.conftest import say, says
from tests.integration.test_repairs import HOME_101, resident
from tests.integration.wechat_peer import OfficialAccountPeer
from tests.wechat.fake_server import CUSTOM, ROBOT, FakeWeChat

TEMPLATE = "/cgi-bin/message/template/send"
NUMBER = re.compile(r"TS\d{10,}")


def filed(reply: str, system: LocalPropertySystem, openid: str) -> ComplaintInfo:
    found = NUMBER.search(reply)
    assert found, reply
    return system.complaints.get(found.group(0), openid=openid)


def test_a_complaint_that_says_what_is_asked_where_and_about_anonymity(
    wechat: OfficialAccountPeer, stack_system: LocalPropertySystem, fake_wechat: FakeWeChat
) -> None:
    me = resident(stack_system, HOME_101)

    where = says(wechat, me, "楼上天天半夜蹦迪，吵得睡不着")
    assert where.startswith("在哪里发生的")
    anonymous = says(wechat, me, "3栋2单元")
    assert anonymous.startswith("处理时需要对被投诉的一方保密您的身份吗")
    assert "1. 匿名，不要透露我的信息" in anonymous  # buttons as numbered choices
    done = says(wechat, me, "1")

    complaint = filed(done, stack_system, me)
    assert (complaint.complaint_type, complaint.location) == ("噪音", "3栋2单元")
    assert complaint.description == "楼上天天半夜蹦迪，吵得睡不着" and complaint.anonymous
    assert complaint.sla_due_at - complaint.created_at == timedelta(hours=12)
    assert f"编号 {complaint.number}（噪音，3栋2单元）" in done
    assert "不会向被投诉方透露您的身份" in done
    alert = fake_wechat.wait_for(ROBOT, lambda b: complaint.number in str(b))
    content = alert["markdown"]["content"]
    assert "【新投诉】噪音" in content and "要求对被投诉方匿名" in content
    assert f"/console/complaints/{complaint.number}" in content

    photo = wechat.fields(
        me, "image", PicUrl="http://mmbiz.example/c.jpg", MediaId="c", MsgId=next(wechat.msg_ids)
    )
    attached = wechat.reply(wechat.post(photo))["Content"]
    assert attached.startswith(f"照片已添加到您的投诉 {complaint.number}")
    assert stack_system.complaints.get(complaint.number).photos == 1


def test_a_bare_complaint_is_asked_kind_place_story_and_anonymity(
    wechat: OfficialAccountPeer, stack_system: LocalPropertySystem
) -> None:
    me = resident(stack_system, HOME_101)

    kinds = says(wechat, me, "我要投诉")
    assert kinds.startswith("请问您要投诉哪方面的问题")
    assert "2. 停车" in kinds
    assert says(wechat, me, "2").startswith("在哪里发生的")
    assert says(wechat, me, "地下车库").startswith("请具体说说发生了什么")
    assert says(wechat, me, "我的车位天天被一辆白色轿车占了").startswith("处理时需要对被投诉")
    done = says(wechat, me, "不用了")

    complaint = filed(done, stack_system, me)
    assert (complaint.complaint_type, complaint.location) == ("停车", "地下车库")
    assert complaint.description == "我的车位天天被一辆白色轿车占了"
    assert not complaint.anonymous and "不会向被投诉方透露" not in done


def test_calling_a_complaint_off_files_nothing(
    rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    me = resident(stack_system, HOME_101)

    say(rasa, me, "我要投诉")
    [stopped] = say(rasa, me, "算了")

    assert stopped == "好的，这次先不投诉了。有需要随时告诉我。"
    assert stack_system.complaints.for_resident(me) == []


def test_a_danger_is_filed_and_handed_to_the_staff_on_duty(
    rasa: httpx.Client, stack_system: LocalPropertySystem, fake_wechat: FakeWeChat
) -> None:
    me = resident(stack_system, HOME_101)

    [where] = say(rasa, me, "有人把车停在消防通道上")
    assert where.startswith("在哪里发生的")
    [anonymous] = say(rasa, me, "5栋门口")
    assert anonymous.startswith("处理时需要对被投诉的一方保密您的身份吗")
    replies = say(rasa, me, "不需要")

    complaint = filed(replies[0], stack_system, me)
    assert complaint.complaint_type == "消防通道"
    assert complaint.sla_due_at - complaint.created_at == timedelta(hours=2)
    assert replies[-1].startswith("这类问题涉及安全，已同时为您转接值班工作人员")
    handoff = stack_system.handoffs.active_for(me)
    assert handoff is not None and handoff.reason == "紧急投诉：消防通道"
    alert = fake_wechat.wait_for(ROBOT, lambda b: f"会话：{handoff.id}" in str(b))
    assert complaint.number in alert["markdown"]["content"]


def test_status_staff_answers_closure_and_the_residents_rating(
    wechat: OfficialAccountPeer,
    stack_system: LocalPropertySystem,
    staff: httpx.Client,
    fake_wechat: FakeWeChat,
) -> None:
    me = resident(stack_system, HOME_101)
    number = stack_system.complaints.create(
        me, complaint_type="卫生", description="垃圾桶三天没人倒", location="1栋楼下"
    ).number

    status = says(wechat, me, "我的投诉处理了吗")
    assert status.startswith(f"投诉 {number}（卫生）：待处理")
    assert "物业会在" in status

    staff.post(f"/api/complaints/{number}/respond", json={"text": "保洁今天下午清运"})
    assert "物业答复：保洁今天下午清运" in says(wechat, me, f"查一下{number}")
    staff.post(f"/api/complaints/{number}/close", json={"text": "已清运并增加频次"})
    pushed = [b["text"]["content"] for b in fake_wechat.sent(CUSTOM) if b["touser"] == me]
    assert pushed[-1].startswith(f"您的投诉 {number}（卫生）已办结：已清运并增加频次")

    ask_comment = says(wechat, me, "4")
    assert ask_comment.startswith("谢谢！还有什么想对我们说的吗")
    thanks = says(wechat, me, "没有")
    assert thanks.startswith("感谢您的评价（★★★★☆）")
    assert stack_system.complaints.get(number).rating == 4


def test_someone_not_bound_is_asked_to_bind_before_complaining(
    rasa: httpx.Client, stack_system: LocalPropertySystem
) -> None:
    stranger = f"o-stranger-{uuid.uuid4().hex[:8]}"

    [reply] = say(rasa, stranger, "楼下饭店油烟太大，窗户都不敢开")

    assert reply.startswith("投诉需要先绑定您的房屋")
    assert stack_system.complaints.for_resident(stranger) == []


def test_a_clearly_angry_resident_is_handed_to_a_person_at_once(
    wechat: OfficialAccountPeer, stack_system: LocalPropertySystem, fake_wechat: FakeWeChat
) -> None:
    me = resident(stack_system, HOME_101)

    reply = says(wechat, me, "什么破物业，漏水三天了都没人来，拿钱不办事！")

    assert reply.startswith("非常抱歉给您带来了不好的体验，已为您转接人工客服")
    handoff = stack_system.handoffs.active_for(me)
    assert handoff is not None and handoff.reason == "住户情绪激动"
    assert handoff.transcript[-1]["text"] == "什么破物业，漏水三天了都没人来，拿钱不办事！"
    fake_wechat.wait_for(ROBOT, lambda b: f"会话：{handoff.id}" in str(b))
