"""The conversation tests (tests/bot/conversations, run by `rasa test core`) replay the
intents they are annotated with; this checks the trained model reads each line the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

CONVERSATIONS = Path(__file__).resolve().parents[1] / "bot" / "conversations"


def user_turns() -> list[tuple[str, str]]:
    turns = []
    for path in sorted(CONVERSATIONS.glob("*.yml")):
        for story in yaml.safe_load(path.read_text())["stories"]:
            turns += [(s["user"].strip(), s["intent"]) for s in story["steps"] if "user" in s]
    return turns


def understood(parsed: dict[str, Any]) -> str:
    intent = parsed["intent"]["name"]
    selector = parsed.get("response_selector", {}).get(intent)
    if selector:  # a retrieval intent: faq/payment_methods
        return selector["response"]["intent_response_key"]
    return intent


@pytest.mark.parametrize(("text", "intent"), sorted(set(user_turns())))
def test_the_model_reads_each_line_of_the_conversation_tests_as_annotated(
    rasa: httpx.Client, text: str, intent: str
) -> None:
    parsed = rasa.post("/model/parse", json={"text": text}).json()

    assert understood(parsed) == intent
