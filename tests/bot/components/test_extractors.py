"""The Rasa wrappers add entities (with their extractor's name) to the parsed message."""

from __future__ import annotations

from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.extractors import (
    ChineseTimeExtractor,
    HouseNumberExtractor,
    PhoneNumberExtractor,
)


def test_extractors_add_normalised_entities_to_the_message() -> None:
    message = Message(
        data={
            TEXT: "3栋2单元501明天下午三点来修，电话13800000001",
            ENTITIES: [{"entity": "repair_item", "value": "水管"}],
        }
    )

    for extractor in (HouseNumberExtractor(), ChineseTimeExtractor(), PhoneNumberExtractor()):
        extractor.process([message])

    found = {(e["entity"], e.get("extractor")): e["value"] for e in message.get(ENTITIES)}
    assert found[("building", "HouseNumberExtractor")] == "3"
    assert found[("unit", "HouseNumberExtractor")] == "2"
    assert found[("room", "HouseNumberExtractor")] == "501"
    assert found[("phone", "PhoneNumberExtractor")] == "13800000001"
    assert found[("time", "ChineseTimeExtractor")]["start"].endswith("T15:00:00+08:00")
    assert found[("repair_item", None)] == "水管"  # what earlier components found is kept


def test_an_empty_message_is_left_alone() -> None:
    message = Message(data={TEXT: ""})
    HouseNumberExtractor().process([message])
    assert message.get(ENTITIES) is None
