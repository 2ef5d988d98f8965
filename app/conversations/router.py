"""Exactly-once handling of channel messages inside WeChat's 5-second deadline.

A message is claimed in the key-value store (WeChat retries the same message up to three
times), written to the message log (whose unique key is the backstop), then answered.
If the answer is not ready by the deadline the channel replies `success` and the answer
is pushed when ready; a retry gets exactly what the first delivery got. Messages whose
processing never finished (the process died, Rasa was down) are taken up again by
`recover` and their answers pushed.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import anyio
import structlog
from sqlalchemy.exc import OperationalError

from app.conversations.handoff_state import HandoffState
from app.conversations.log import MessageLog
from app.conversations.models import InboundMessage
from app.conversations.outbox import Outbox
from app.conversations.rasa import RasaClient, RasaUnavailable
from app.conversations.unanswered import hand_to_staff
from app.kv import KeyValue
from integrations.property.db import through_reconnects
from integrations.property.interface import PropertySystem
from integrations.wechat.errors import StoreUnavailable
from integrations.wechat.messages import Incoming
from integrations.wechat.text import split_message, with_choices

log = structlog.get_logger(__name__)
T = TypeVar("T")

PENDING = "pending"
# Numbered choices wait this long for the next message (which alone may answer them).
CHOICES_TTL_SECONDS = 30 * 60
# How a choice is answered: its number as shown (1–99), nothing else ("01", "0002", "１").
CHOICE_NUMBER = re.compile(r"[1-9][0-9]?")
# Official Account menu keys (CLICK events) and the intent each stands for.
MENU_INTENTS = {
    "REPAIR": "report_repair",
    "BILL": "query_bill",
    "BOOKING": "book_facility",
    "COMPLAINT": "file_complaint",
    "HUMAN": "request_human",
}
WELCOME = (
    "欢迎关注！我是物业助手，24小时在线。您可以直接用文字或语音告诉我：\n"
    "· 报修：如“厨房水管漏水了”\n"
    "· 查账单：如“这个月物业费多少”\n"
    "· 预约场地：如“明天下午三点订羽毛球场”\n"
    "· 投诉建议：如“楼上装修太吵”\n"
    "· 转人工：回复“人工”"
)
VOICE_NOT_RECOGNISED = "抱歉，这条语音我没听清，请再说一遍，或者打字告诉我。"
UNSUPPORTED = "抱歉，这类消息我暂时看不懂，请用文字或语音告诉我您需要什么。"
STAFF_HELP = "收到。住户会话、报修和投诉请在客服工作台处理；紧急情况请直接电话联系。"
RASA_BUSY = "您的消息已收到，系统正在处理中，稍后会回复您，请不要重复发送。"
# What the bot reads of one message (the message log keeps all of it): enough for any
# request or complaint, and a 10,000-character paste cannot stall the NLU for seconds.
BOT_READS_CHARS = 500


@dataclass(frozen=True)
class Answer:
    """Replies to give now; `deferred` means answer `success`, the replies follow as pushes."""

    replies: list[str]
    deferred: bool = False


class Router:
    def __init__(
        self,
        kv: KeyValue,
        message_log: MessageLog,
        rasa: RasaClient,
        system: PropertySystem,
        handoffs: HandoffState,
        outbox: Outbox,
        *,
        dedupe_ttl_seconds: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kv = kv
        self.log = message_log
        self.rasa = rasa
        self.system = system
        self.handoffs = handoffs
        self.outbox = outbox
        self.dedupe_ttl_seconds = dedupe_ttl_seconds
        self.clock = clock
        self._tasks: set[asyncio.Task[Any]] = set()

    async def handle(self, incoming: Incoming, deadline_seconds: float) -> Answer:
        deadline = self.clock() + deadline_seconds
        key = f"dedupe:{incoming.channel}:{incoming.dedupe_key}"
        message_id = None
        if await self.kv.set_if_absent(key, PENDING, self.dedupe_ttl_seconds):
            try:
                message_id = await anyio.to_thread.run_sync(self.log.record, incoming)
            except OperationalError as error:  # let WeChat's retry find it unclaimed
                await self.kv.delete(key)
                log.warning("message_log_unavailable", error=type(error).__name__)
                raise StoreUnavailable(str(error)[:200]) from None
            if message_id is None:  # the store had forgotten it; the message log had not
                await self.kv.delete(key)
        if message_id is None:
            log.info("duplicate_message", channel=incoming.channel, key=incoming.dedupe_key)
            return await self._answer_of_first(key, incoming, deadline)

        work = self._spawn(self._process(message_id, incoming))
        try:
            replies = await asyncio.wait_for(asyncio.shield(work), deadline - self.clock())
        except TimeoutError:
            await self.kv.set(key, json.dumps({"deferred": True}), self.dedupe_ttl_seconds)
            work.add_done_callback(
                lambda done: self._spawn(self._deliver_later(message_id, incoming, done))
            )
            log.info("reply_deferred", channel=incoming.channel, message_id=message_id)
            return Answer([], deferred=True)
        except Exception:  # left unanswered in the log: `recover` takes it up again
            log.exception("message_failed", channel=incoming.channel, message_id=message_id)
            replies = None
        if replies is None:  # not answered (Rasa down…): told so now, answered by `recover`
            replies = [RASA_BUSY]
        else:
            # Marked while the reply goes out (retries are answered from the store meanwhile);
            # an answer never marked would be given again by `recover`.
            self._spawn(self._mark_answered(message_id, replies))
        await self.kv.set(key, json.dumps({"replies": replies}), self.dedupe_ttl_seconds)
        for extra in replies[1:]:  # a passive reply carries one message; the rest are pushed
            self._spawn(self.outbox.send(incoming.channel, incoming.sender, extra))
        return Answer(replies[:1])

    async def recover(self, older_than_seconds: float) -> int:
        """Answer messages left unanswered (by a crash or an outage) and push the answers."""
        rows: list[InboundMessage] = await anyio.to_thread.run_sync(
            self.log.claim_unanswered, timedelta(seconds=older_than_seconds)
        )
        for row in rows:
            incoming = Incoming(**row.payload)
            try:
                replies = await self._process(row.id, incoming)
            except Exception as error:  # one failing message must not hold up the others
                log.exception("message_failed", channel=incoming.channel, message_id=row.id)
                await self._postpone(row.id, incoming, f"{type(error).__name__}: {error}")
                continue
            if replies is not None:
                await self._push_replies(row.id, incoming, replies)
        return len(rows)

    async def offer_choices(self, conversation: str, payloads: list[str]) -> None:
        """What a bare digit from this resident stands for next; none clears the last offer."""
        key = f"choices:{conversation}"
        if payloads:
            await self.kv.set(key, json.dumps(payloads, ensure_ascii=False), CHOICES_TTL_SECONDS)
        else:
            await self.kv.delete(key)

    async def drain(self) -> None:
        """Wait for answers still being worked on (on shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _answer_of_first(self, key: str, incoming: Incoming, deadline: float) -> Answer:
        while True:
            stored = await self.kv.get(key)
            if stored and stored != PENDING:
                outcome = json.loads(stored)
                return Answer(
                    outcome.get("replies", [])[:1], deferred=bool(outcome.get("deferred"))
                )
            if stored is None:  # the store forgot it; the message log has not
                answer = await anyio.to_thread.run_sync(
                    self.log.stored_answer, incoming.channel, incoming.dedupe_key
                )
                if answer is not None:
                    replies, delivery = answer
                    return Answer(
                        replies[:1] if delivery == "reply" else [], deferred=delivery != "reply"
                    )
            if self.clock() >= deadline:
                return Answer([], deferred=True)
            await asyncio.sleep(0.05)

    async def _process(self, message_id: int, incoming: Incoming) -> list[str] | None:
        """The replies, or None when they cannot be had now (kept for `recover`)."""
        try:
            return await self._reply_to(incoming)
        except RasaUnavailable as error:
            log.warning("rasa_unavailable", message_id=message_id, error=str(error))
            await self._postpone(message_id, incoming, str(error))
            return None

    async def _postpone(self, message_id: int, incoming: Incoming, error: str) -> None:
        """Left for `recover`; after its last attempt, a person takes the conversation."""
        if await anyio.to_thread.run_sync(self.log.postponed, message_id, error):
            await hand_to_staff(
                self.system, self.handoffs, self.outbox, conversation_id(incoming), incoming
            )

    async def _deliver_later(
        self, message_id: int, incoming: Incoming, done: asyncio.Future[list[str] | None]
    ) -> None:
        if done.cancelled() or done.exception() is not None:
            log.error("deferred_message_failed", message_id=message_id)
            return
        replies = done.result()
        if replies is not None:
            await self._push_replies(message_id, incoming, replies)

    async def _mark_answered(self, message_id: int, replies: list[str]) -> None:
        try:
            await through_reconnects(
                lambda: self.log.answered(message_id, replies, "reply"), "message_answered"
            )
        except OperationalError:
            log.error("message_not_marked_answered", message_id=message_id)

    async def _push_replies(self, message_id: int, incoming: Incoming, replies: list[str]) -> None:
        for text in replies:
            await self.outbox.send(incoming.channel, incoming.sender, text, title="物业助手回复")
        await anyio.to_thread.run_sync(self.log.answered, message_id, replies, "push")

    def _spawn(self, coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _reply_to(self, incoming: Incoming) -> list[str]:
        if incoming.channel == "wecom-app":
            return [STAFF_HELP]
        if incoming.kind == "event":
            return await self._reply_to_event(incoming)
        if incoming.kind == "voice" and not incoming.text:
            return [VOICE_NOT_RECOGNISED]
        if incoming.kind in ("image", "location"):
            return [await self._attach(incoming)]
        if incoming.kind in ("text", "voice") and incoming.text and incoming.text.strip():
            if await self._to_staff(incoming):
                return []  # a person has this conversation: the bot stays silent
            return await self._ask_rasa(incoming, await self._resolve_choice(incoming))
        return [UNSUPPORTED]

    async def _to_staff(self, incoming: Incoming) -> bool:
        """While a handoff is open the resident's words go to its transcript (the staff
        console shows them), not to the bot."""
        handoff_id = await self.handoffs.active(conversation_id(incoming))
        if handoff_id is None:
            return False
        await anyio.to_thread.run_sync(
            lambda: self.system.handoffs.append(
                handoff_id, speaker="resident", text=incoming.text or ""
            )
        )
        log.info("message_to_staff", handoff_id=handoff_id, channel=incoming.channel)
        return True

    async def _reply_to_event(self, incoming: Incoming) -> list[str]:
        if incoming.event == "subscribe":
            return [WELCOME]
        if incoming.event == "click":
            intent = MENU_INTENTS.get((incoming.event_key or "").upper())
            if intent is not None:
                await self.offer_choices(conversation_id(incoming), [])  # a new request
                return await self._ask_rasa(incoming, f"/{intent}")
        return []  # unsubscribe, VIEW and the rest need no answer

    async def _attach(self, incoming: Incoming) -> str:
        info = await anyio.to_thread.run_sync(
            lambda: self.system.attachments.attach(
                conversation_id(incoming),
                kind=incoming.kind,
                media_id=incoming.media_id,
                url=incoming.picture_url,
                latitude=incoming.latitude,
                longitude=incoming.longitude,
                label=incoming.label,
            )
        )
        what = "照片" if incoming.kind == "image" else "位置"
        if info.target == "repair":
            return f"{what}已添加到您的报修单 {info.number}，维修师傅会看到。"
        if info.target == "complaint":
            return f"{what}已添加到您的投诉 {info.number}，工作人员会看到。"
        return f"收到您的{what}，已为您保存。需要报修或投诉的话，请告诉我具体情况。"

    async def _resolve_choice(self, incoming: Incoming) -> str:
        """A bare choice number answering the reply just before becomes the chosen button's
        payload. Choices answer the next message only: whatever it says, they are gone
        after it (a unit "1" or a phone's last digits "0002" typed later are just text)."""
        text = (incoming.text or "").strip()
        key = f"choices:{conversation_id(incoming)}"
        stored = await self.kv.get(key)
        if stored is None:
            return text
        await self.kv.delete(key)
        if CHOICE_NUMBER.fullmatch(text):
            choices = json.loads(stored)
            if int(text) <= len(choices):
                return choices[int(text) - 1]
        return text

    async def _ask_rasa(self, incoming: Incoming, text: str) -> list[str]:
        sender = conversation_id(incoming)
        messages = await self.rasa.send(
            sender, text[:BOT_READS_CHARS], metadata={"channel": incoming.channel}
        )
        parts: list[str] = []
        for message in messages:
            titles = [title for title, _ in message.buttons]
            if message.buttons:
                await self.offer_choices(sender, [payload for _, payload in message.buttons])
            parts.append(with_choices(message.text, titles))
        return split_message("\n\n".join(p for p in parts if p))


def conversation_id(incoming: Incoming) -> str:
    """The Rasa sender id: the OpenID for the Official Account, namespaced elsewhere."""
    if incoming.channel == "oa":
        return incoming.sender
    return f"{incoming.channel}:{incoming.sender}"


def push_target(conversation: str) -> tuple[str, str]:
    """The channel and recipient for a Rasa sender id (the inverse of `conversation_id`)."""
    channel, _, recipient = conversation.partition(":")
    if recipient and channel in ("wecom-bot", "wecom-app"):
        return channel, recipient
    return "oa", conversation
