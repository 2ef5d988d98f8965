"""The Rasa side of our extractors: each wraps a plain finder from this package."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    INTENT,
    INTENT_NAME_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components import speedups  # noqa: F401  (patches Rasa as the model loads)
from bot.components.chinese_time import LOCAL_TZ, find_times
from bot.components.emergencies import emergency_of
from bot.components.house_number import find_house_parts
from bot.components.moods import is_angry
from bot.components.phone import find_phones

REPORT_REPAIR = "report_repair"
REQUEST_HUMAN = "request_human"
EMERGENCY = "emergency"
MOOD, ANGRY = "mood", "angry"


def entity(kind: str, value: Any, start: int, end: int) -> dict[str, Any]:
    return {
        ENTITY_ATTRIBUTE_TYPE: kind,
        ENTITY_ATTRIBUTE_VALUE: value,
        ENTITY_ATTRIBUTE_START: start,
        ENTITY_ATTRIBUTE_END: end,
    }


class _Stateless(GraphComponent):
    """Nothing to train, nothing to persist."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> _Stateless:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


class _RuleExtractor(_Stateless, EntityExtractorMixin):
    @abstractmethod
    def extract(self, message: Message) -> list[dict[str, Any]]: ...

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if not message.get(TEXT):
                continue
            found = self.add_extractor_name(self.extract(message))
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class HouseNumberExtractor(_RuleExtractor):
    def extract(self, message: Message) -> list[dict[str, Any]]:
        return [
            entity(p.entity, p.value, p.start, p.end) for p in find_house_parts(message.get(TEXT))
        ]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class ChineseTimeExtractor(_RuleExtractor):
    def __init__(self) -> None:
        find_times("明天下午三点")  # load the parser's dictionaries now, not on a resident's turn

    def extract(self, message: Message) -> list[dict[str, Any]]:
        text = message.get(TEXT)
        sent = datetime.fromtimestamp(message.time, LOCAL_TZ) if message.time else None
        houses = [(p.start, p.end) for p in find_house_parts(text)]  # "3-1-602" is no date
        return [entity("time", t.value, t.start, t.end) for t in find_times(text, sent, houses)]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class PhoneNumberExtractor(_RuleExtractor):
    def extract(self, message: Message) -> list[dict[str, Any]]:
        return [entity("phone", p.value, p.start, p.end) for p in find_phones(message.get(TEXT))]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class EntityOverlapResolver(_Stateless):
    """Keeps the longest reading where lookups overlap: "燃气费" is a bill, not a gas
    repair; "卫生间" a room, not a hygiene complaint. Drops exact duplicates."""

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            found = message.get(ENTITIES) or []
            kept, seen = [], set()
            for item in found:
                inside_longer = any(
                    other is not item
                    and other[ENTITY_ATTRIBUTE_START] <= item[ENTITY_ATTRIBUTE_START]
                    and item[ENTITY_ATTRIBUTE_END] <= other[ENTITY_ATTRIBUTE_END]
                    and (other[ENTITY_ATTRIBUTE_END] - other[ENTITY_ATTRIBUTE_START])
                    > (item[ENTITY_ATTRIBUTE_END] - item[ENTITY_ATTRIBUTE_START])
                    for other in found
                )
                key = (item[ENTITY_ATTRIBUTE_TYPE], repr(item[ENTITY_ATTRIBUTE_VALUE]))
                if not inside_longer and key not in seen:
                    seen.add(key)
                    kept.append(item)
            if len(kept) != len(found):
                message.set(ENTITIES, kept, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmergencyIntent(_Stateless):
    """An emergency ("电梯里关着人", "煤气味") is a repair report whatever the classifiers
    thought, even a fallback: safety is a rule, not a learned guess. Runs after the classifiers."""

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            kind = emergency_of(message.get(TEXT) or "")
            if kind is None:
                continue
            message.set(INTENT, {INTENT_NAME_KEY: REPORT_REPAIR, "confidence": 1.0}, True)
            message.set(EMERGENCY, kind, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class AngerIntent(_Stateless):
    """A clearly angry resident ("你们到底管不管！！") is asking for a person, whatever the
    message is about: the intent becomes `request_human` and the message says `mood: angry`.
    An emergency stays an emergency (it is handed to a person too). Runs after
    `EmergencyIntent`."""

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if message.get(EMERGENCY) or not is_angry(message.get(TEXT) or ""):
                continue
            message.set(INTENT, {INTENT_NAME_KEY: REQUEST_HUMAN, "confidence": 1.0}, True)
            message.set(MOOD, ANGRY, add_to_output=True)
        return messages
