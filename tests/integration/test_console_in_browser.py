"""The staff console in a real headless Chromium (Debian's, driven by Playwright), against
the whole stack: residents write through WeChat, staff work in the browser, and what each
side sees is checked — the live conversation, claiming, replies, complaints, lists, roles."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from app.staff.desk import BOT_RESUMES
from integrations.property import LocalPropertySystem
from integrations.property.services.numbering import LOCAL_TZ
from scripts.stack import RunningStack
from tests.integration.conftest import says
from tests.integration.test_repairs import HOME_101, resident
from tests.integration.wechat_peer import OfficialAccountPeer
from tests.services import IN_CI
from tests.wechat.fake_server import CUSTOM, FakeWeChat

CHROMIUM = Path("/usr/bin/chromium")
# As the machine's notes say: no background connections a closed network would refuse.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LIVE = 5_000  # ms: the live view polls every 0.5 s


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = "Debian's chromium is not installed (`make test` installs it)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        # A new, empty profile for every launch (Playwright's own temporary --user-data-dir).
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def admin_password(stack: RunningStack) -> str:
    return (Path(stack.env["VAR_DIR"]) / "admin-password.txt").read_text().strip()


@pytest.fixture(scope="module")
def accounts(browser: Browser, stack: RunningStack, admin_password: str) -> dict[str, str]:
    """Two staff accounts, created by the admin in the console."""
    page = signed_in(browser, stack, "admin", admin_password)
    made = {}
    for name, display in (("xiaoli", "客服小李"), ("xiaozhang", "客服小张")):
        username = f"{name}{uuid.uuid4().hex[:4]}"
        page.goto(f"{stack.app_url}/console/staff")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("姓名").fill(display)
        page.get_by_label("初始密码").fill("staff-password-1")
        page.get_by_role("button", name="创建").click()
        expect(page.get_by_role("status")).to_have_text(f"已创建账号 {username}（{display}）。")
        expect(page.locator("#accounts")).to_contain_text(username)
        made[display] = username
    page.context.close()
    return made


def signed_in(
    browser: Browser, stack: RunningStack, username: str, password: str, path: str = "/console"
) -> Page:
    """A new browser profile's tab that asked for `path`, was sent to sign in, and came back."""
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(f"{stack.app_url}{path}")
    expect(page).to_have_url(re.compile(r"/console/login\?next="))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{stack.app_url}{path}")
    return page


def test_anonymous_visitors_see_only_the_sign_in_page(
    browser: Browser, stack: RunningStack, admin_password: str
) -> None:
    page = browser.new_context().new_page()
    for path in ("/console", "/console/handoffs/1", "/console/complaints", "/console/staff"):
        page.goto(f"{stack.app_url}{path}")
        expect(page.get_by_role("heading")).to_have_text("物业助手 · 员工登录")

    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")
    page.context.close()


def test_a_staff_member_takes_a_conversation_live_and_hands_it_back_to_the_bot(
    browser: Browser,
    stack: RunningStack,
    wechat: OfficialAccountPeer,
    stack_system: LocalPropertySystem,
    fake_wechat: FakeWeChat,
    accounts: dict[str, str],
) -> None:
    me = resident(stack_system, HOME_101)
    says(wechat, me, "这个月物业费多少")
    says(wechat, me, "转人工")
    handoff = stack_system.handoffs.active_for(me)
    assert handoff is not None

    # The link in the robot message: sign in, and land on the conversation.
    page = signed_in(
        browser, stack, accounts["客服小李"], "staff-password-1", f"/console/handoffs/{handoff.id}"
    )
    transcript = page.locator("#transcript")
    expect(transcript).to_contain_text("这个月物业费多少")
    expect(transcript).to_contain_text("转人工")
    page.get_by_role("button", name="接手会话").click()
    expect(page.get_by_role("status")).to_have_text("已接手，住户接下来的消息会实时显示在这里。")
    expect(page.locator("#status")).to_have_text("处理中（客服小李）")

    # The resident writes in WeChat; the bot is silent and the words appear in the browser.
    assert says(wechat, me, "楼上天天半夜吵，能不能管管") == ""
    expect(transcript.locator(".line.resident").last).to_have_text(
        "住户楼上天天半夜吵，能不能管管", timeout=LIVE
    )

    page.get_by_placeholder("回复住户（通过微信发送）").fill("您好，我是客服小李，马上联系楼上。")
    page.get_by_role("button", name="发送").click()
    pushed = fake_wechat.wait_for(
        CUSTOM, lambda b: b["touser"] == me and "马上联系楼上" in b["text"]["content"]
    )
    assert pushed["text"]["content"] == "您好，我是客服小李，马上联系楼上。"
    expect(transcript.locator(".line.staff").last).to_have_text(
        "客服小李您好，我是客服小李，马上联系楼上。", timeout=LIVE
    )
    expect(page.get_by_placeholder("回复住户（通过微信发送）")).to_have_value("")

    page.get_by_role("button", name="结束会话，交回物业助手").click()
    expect(page).to_have_url(f"{stack.app_url}/console")
    expect(page.get_by_role("status")).to_have_text(
        f"会话 {handoff.id} 已结束，物业助手已恢复回复该住户。"
    )
    fake_wechat.wait_for(
        CUSTOM, lambda b: b["touser"] == me and b["text"]["content"] == BOT_RESUMES
    )
    assert "物业费" in says(wechat, me, "这个月物业费多少")
    page.context.close()


def test_two_staff_claim_the_same_conversation_one_gets_it_the_other_is_told_who(
    browser: Browser,
    stack: RunningStack,
    stack_system: LocalPropertySystem,
    accounts: dict[str, str],
) -> None:
    handoff = stack_system.handoffs.open(
        f"o-{uuid.uuid4().hex[:8]}", channel="oa", reason="住户要求人工"
    )
    path = f"/console/handoffs/{handoff.id}"
    li = signed_in(browser, stack, accounts["客服小李"], "staff-password-1", path)
    zhang = signed_in(browser, stack, accounts["客服小张"], "staff-password-1", path)
    # Both see the conversation waiting and both press 接手.
    expect(li.get_by_role("button", name="接手会话")).to_be_visible()
    expect(zhang.get_by_role("button", name="接手会话")).to_be_visible()

    li.get_by_role("button", name="接手会话").click()
    zhang.get_by_role("button", name="接手会话").click()

    expect(li.get_by_role("status")).to_have_text("已接手，住户接下来的消息会实时显示在这里。")
    expect(zhang.get_by_role("status")).to_have_text("该会话已由 客服小李 接手。")
    expect(zhang.get_by_text("该会话由 客服小李 处理中，您可以旁听。")).to_be_visible()
    expect(zhang.get_by_role("button", name="发送")).to_have_count(0)
    assert stack_system.handoffs.get(handoff.id).claimed_by == "客服小李"
    li.context.close()
    zhang.context.close()


def test_complaints_wait_in_the_queue_with_their_deadline_and_are_answered_and_closed(
    browser: Browser,
    stack: RunningStack,
    wechat: OfficialAccountPeer,
    stack_system: LocalPropertySystem,
    fake_wechat: FakeWeChat,
    accounts: dict[str, str],
) -> None:
    me = resident(stack_system, HOME_101)
    says(wechat, me, "你好")  # seen just now: pushes go as customer-service messages
    complaint = stack_system.complaints.create(
        me, complaint_type="噪音", description="楼上半夜蹦迪", location="3栋", anonymous=True
    )

    page = signed_in(browser, stack, accounts["客服小张"], "staff-password-1")
    row = page.locator("#complaints tr", has_text=complaint.number)
    expect(row).to_contain_text("噪音")
    expect(row.locator(".tag")).to_have_text(re.compile(r"^剩余11小时5\d分钟$"))
    row.get_by_role("link", name=complaint.number).click()

    expect(page.locator("#anonymous")).to_contain_text("不得向被投诉方透露其身份")
    page.get_by_placeholder("答复内容会通过微信发给住户").fill(
        "已联系楼上，今晚起十点后不再放音乐。"
    )
    page.get_by_role("button", name="发送答复").click()
    expect(page.get_by_role("status")).to_have_text("答复已发送给住户。")
    expect(page.locator("#complaint-status")).to_have_text("处理中")
    expect(page.get_by_role("heading", level=1)).to_contain_text("已按时答复")

    page.get_by_role("button", name="办结投诉").click()
    expect(page.get_by_role("status")).to_have_text("投诉已办结，已请住户评价。")
    expect(page.locator("#complaint-status")).to_have_text("已办结")
    closing = fake_wechat.wait_for(
        CUSTOM, lambda b: b["touser"] == me and "已办结" in b["text"]["content"]
    )
    assert closing["text"]["content"].endswith("请回复1-5分为本次服务打分，也欢迎说说您的意见。")

    page.goto(f"{stack.app_url}/console")
    expect(page.locator("body")).not_to_contain_text(complaint.number)  # no longer waiting
    page.context.close()


def test_repairs_and_bookings_are_listed_with_filters(
    browser: Browser,
    stack: RunningStack,
    stack_system: LocalPropertySystem,
    accounts: dict[str, str],
) -> None:
    me = resident(stack_system, HOME_101)
    waiting = stack_system.repairs.create(me, item="灯", location="客厅", description="不亮了")
    started = stack_system.repairs.create(me, item="门锁", location="大门", description="打不开")
    stack_system.repairs.transition(started.number, "in_progress", actor="老赵")
    day = (datetime.now(LOCAL_TZ) + timedelta(days=1)).date()
    free = stack_system.bookings.availability("乒乓球室", day)
    start = free.free[-1]  # other tests book early in the day
    booking = stack_system.bookings.book(me, "乒乓球室", start)
    local, end = start.astimezone(LOCAL_TZ), start + timedelta(minutes=free.slot_minutes)

    page = signed_in(browser, stack, accounts["客服小李"], "staff-password-1", "/console/repairs")
    expect(page.locator("#repairs")).to_contain_text(waiting.number)
    page.get_by_label("状态").select_option(label="维修中")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"status=in_progress"))
    expect(page.locator("#repairs")).to_contain_text(started.number)
    expect(page.locator("#repairs")).not_to_contain_text(waiting.number)

    page.get_by_role("link", name="预约").click()
    page.get_by_label("场地").select_option("乒乓球室")
    page.get_by_label("日期").fill(day.isoformat())
    page.get_by_role("button", name="筛选").click()
    row = page.locator("#bookings tr", has_text=booking.number)
    expect(row).to_contain_text(
        f"{day.month}月{day.day}日 {local:%H:%M}–{end.astimezone(LOCAL_TZ):%H:%M}"
    )
    page.get_by_label("场地").select_option("羽毛球场")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#bookings")).not_to_contain_text(booking.number)
    page.context.close()


def test_staff_accounts_are_the_admins_alone(
    browser: Browser, stack: RunningStack, accounts: dict[str, str]
) -> None:
    page = signed_in(browser, stack, accounts["客服小张"], "staff-password-1")
    expect(page.locator("#me")).to_have_text("客服小张（员工）")
    expect(page.get_by_role("link", name="员工账号")).to_have_count(0)

    page.goto(f"{stack.app_url}/console/staff")
    expect(page.get_by_role("alert")).to_have_text("只有管理员可以管理员工账号。")

    page.get_by_role("button", name="退出").click()
    page.goto(f"{stack.app_url}/console")
    expect(page.get_by_role("heading")).to_have_text("物业助手 · 员工登录")
    page.context.close()
