from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import structlog
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from app.deps import property_system
from integrations.property.db import through_reconnects
from integrations.property.interface import NotBound, PropertyError, PropertySystem

log = structlog.get_logger(__name__)

BIND_BUTTON = [{"title": "绑定房屋", "payload": "/bind_house"}]
SORRY = "抱歉，系统暂时出了点问题，请稍后再试，或拨打物业服务电话。"


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
        if it succeeds."""

        def attempt() -> tuple[list[dict[str, Any]], CollectingDispatcher]:
            said = CollectingDispatcher()
            return self.act(said, tracker, property_system()), said

        events, said = await through_reconnects(attempt, self.name())
        dispatcher.messages.extend(said.messages)
        return events


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    """The entity as the latest message said it (not a slot left from an earlier turn)."""
    return next(tracker.get_latest_entity_values(entity), None)
