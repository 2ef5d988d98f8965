"""A message the bot could not answer after every attempt (Rasa down for a quarter of an
hour, a turn that keeps failing) goes to a person instead of being dropped: a handoff with
the resident's words, the staff group alerted, the resident told."""

from __future__ import annotations

import anyio
import structlog

from app.conversations.handoff_state import HandoffState
from app.conversations.outbox import Outbox
from app.conversations.staff_alerts import StaffAlerts, console_link, resident_text
from integrations.property.interface import PropertySystem
from integrations.wechat.messages import Incoming

log = structlog.get_logger(__name__)

REASON = "消息多次处理失败"
TO_RESIDENT = "抱歉，系统暂时无法自动处理您的消息，已转给工作人员，他们会尽快回复您。"
KIND_LABELS = {"image": "[图片]", "voice": "[语音]", "location": "[位置]", "event": "[菜单]"}


async def hand_to_staff(
    system: PropertySystem,
    handoffs: HandoffState,
    outbox: Outbox,
    conversation: str,
    incoming: Incoming,
) -> None:
    words = incoming.text or KIND_LABELS.get(incoming.kind, f"[{incoming.kind}]")
    handoff = await anyio.to_thread.run_sync(
        lambda: system.handoffs.open(
            conversation,
            channel=incoming.channel,
            reason=REASON,
            transcript=[{"from": "resident", "text": words}],
        )
    )
    await handoffs.opened(conversation, handoff.id)
    await StaffAlerts(outbox).send(
        f"【转人工】{REASON}",
        f"> 会话：{handoff.id}\n> 住户消息：{resident_text(words)}\n{console_link(handoff.id)}",
    )
    await outbox.send(incoming.channel, incoming.sender, TO_RESIDENT, title="物业助手回复")
    log.error("message_handed_to_staff", handoff_id=handoff.id, channel=incoming.channel)
