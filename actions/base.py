from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import anyio
import structlog
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import OperationalError

from app.deps import property_system
from integrations.property.interface import NotBound, PropertyError, PropertySystem

log = structlog.get_logger(__name__)

BIND_BUTTON = [{"title": "绑定房屋", "payload": "/bind_house"}]
SORRY = "抱歉，系统暂时出了点问题，请稍后再试，或拨打物业服务电话。"
# Waits before trying an action again when its database connection was lost (a restart).
RECONNECT_DELAYS = (0.5, 1.0, 2.0)


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
        """`act`, again after a lost database connection (PostgreSQL restarting): a failed
        transaction wrote nothing, so the second try cannot file anything twice. What an
        attempt said is kept only if it succeeds."""
        for delay in (*RECONNECT_DELAYS, None):
            attempt = CollectingDispatcher()
            try:
                events = await anyio.to_thread.run_sync(
                    self.act, attempt, tracker, property_system()
                )
            except OperationalError:
                if delay is None:
                    raise
                log.warning("database_reconnect", action=self.name(), retry_in=delay)
                await anyio.sleep(delay)
                continue
            dispatcher.messages.extend(attempt.messages)
            return events
        raise AssertionError("unreachable")


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    """The entity as the latest message said it (not a slot left from an earlier turn)."""
    return next(tracker.get_latest_entity_values(entity), None)
