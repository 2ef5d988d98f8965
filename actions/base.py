from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from contextvars import ContextVar
from typing import Any

import anyio
import structlog
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import OperationalError

from app.deps import property_system
from integrations.property.db import RECONNECT_DELAYS
from integrations.property.interface import NotBound, PropertyError, PropertySystem

log = structlog.get_logger(__name__)

BIND_BUTTON = [{"title": "绑定房屋", "payload": "/bind_house"}]
SORRY = "抱歉，系统暂时出了点问题，请稍后再试，或拨打物业服务电话。"
_final_attempt: ContextVar[bool] = ContextVar("final_attempt", default=True)


class PropertyAction(Action, ABC):
    """An action that talks to the property system.

    `act` runs in a worker thread (the services are synchronous); a rule the
    property system refuses is told to the resident as it is, anything else gets
    a polite apology and an error log naming the conversation.
    """

    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    def act(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        system: PropertySystem,
    ) -> list[dict[str, Any]]: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            return await self._act_through_reconnects(dispatcher, tracker)
        except NotBound as error:
            dispatcher.utter_message(text=error.message, buttons=BIND_BUTTON)
        except PropertyError as error:
            dispatcher.utter_message(text=error.message)
        except Exception:
            log.exception("action_failed", action=self.name(), conversation_id=tracker.sender_id)
            dispatcher.utter_message(text=SORRY)
        return []

    async def _act_through_reconnects(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        """`act`, again after a lost database connection; what an attempt said is kept only
        if it succeeds. An action may commit more than once (a complaint, then its handoff,
        then the staff alert): each create carries a key from `self.key`, so the attempt
        after a reconnect finds what the one before made instead of making it again."""

        def attempt(final: bool) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
            said = CollectingDispatcher()
            token = _final_attempt.set(final)
            try:
                return self.act(said, tracker, property_system()), said
            finally:
                _final_attempt.reset(token)

        for delay in RECONNECT_DELAYS:
            try:
                events, said = await anyio.to_thread.run_sync(attempt, False)
                break
            except OperationalError:
                log.warning("database_reconnect", work=self.name(), retry_in=delay)
                await anyio.sleep(delay)
        else:
            events, said = await anyio.to_thread.run_sync(attempt, True)
        dispatcher.messages.extend(said.messages)
        return events

    def key(self, tracker: Tracker, what: str = "") -> str | None:
        """The idempotency key of what this action makes for the message it answers: the
        same on every attempt at that message, another for the next one (None when the
        tracker names no message)."""
        message = message_ref(tracker)
        if message is None:
            return None
        raw = f"{tracker.sender_id}\x1f{message}\x1f{self.name()}\x1f{what}"
        return hashlib.sha256(raw.encode()).hexdigest()[:40]


def message_ref(tracker: Tracker) -> str | None:
    """Which user message this turn answers: Rasa's message id, else its event time."""
    message_id = (tracker.latest_message or {}).get("message_id")
    if message_id:
        return str(message_id)
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            if event.get("message_id"):
                return str(event["message_id"])
            if event.get("timestamp") is not None:
                return f"t{event['timestamp']}"
            return None
    return None


def derived(key: str | None, what: str) -> str | None:
    """Another key for a second thing made for the same message (its handoff, its alert)."""
    return None if key is None else hashlib.sha256(f"{key}:{what}".encode()).hexdigest()[:40]


def may_retry() -> bool:
    """Whether an OperationalError raised now gets `act` another attempt after a reconnect
    (False when `act` was called directly or on its last attempt)."""
    return not _final_attempt.get()


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    """The entity as the latest message said it (not a slot left from an earlier turn)."""
    return next(tracker.get_latest_entity_values(entity), None)
