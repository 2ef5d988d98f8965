"""The trained model, served by the real Rasa server, on sentences it never trained on.

`make eval` is the full report (entities, baseline, cross-validation, latency); this keeps
the headline targets from silently regressing when the training data changes.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from scripts.eval_nlu_targets import MAX_FALSE_ACTION_RATE, MIN_ACCURACY, TRANSACTIONAL
from tests.nlu_examples import read_examples

EVAL = Path(__file__).resolve().parents[2] / "eval"


def examples(name: str) -> list[tuple[str, str]]:
    return read_examples(EVAL / name)


def parse(rasa: httpx.Client, text: str) -> str:
    return rasa.post("/model/parse", json={"text": text}).json()["intent"]["name"]


def test_held_out_intent_accuracy_meets_the_target(rasa: httpx.Client) -> None:
    heldout = examples("heldout.yml")
    wrong = [(text, gold, got) for text, gold in heldout if (got := parse(rasa, text)) != gold]

    accuracy = 1 - len(wrong) / len(heldout)
    assert accuracy >= MIN_ACCURACY, f"accuracy {accuracy:.1%}; misread: {wrong}"


def test_out_of_domain_messages_rarely_trigger_an_action(rasa: httpx.Client) -> None:
    messages = examples("out_of_domain.yml")
    acted = [(text, got) for text, _ in messages if (got := parse(rasa, text)) in TRANSACTIONAL]

    assert len(acted) / len(messages) <= MAX_FALSE_ACTION_RATE, f"acted on: {acted}"
