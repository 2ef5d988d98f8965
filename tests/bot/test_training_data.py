"""Rules for the NLU data that keep the evaluation honest and the lookups effective."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import yaml

from scripts.eval_nlu_targets import CONTRACT, TRANSACTIONAL
from tests.nlu_examples import read_examples

ROOT = Path(__file__).resolve().parents[2]
TRANSACTIONAL_MINIMUM = 40


def blocks(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", [])


def sentences(paths: list[Path]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in paths:
        for text, intent in read_examples(path):
            found.setdefault(intent, []).append(text)
    return found


def normal(text: str) -> str:
    return "".join(
        c
        for c in unicodedata.normalize("NFKC", text)
        if not unicodedata.category(c).startswith(("P", "Z", "S"))
    )


TRAIN = sentences(sorted((ROOT / "data" / "nlu").glob("*.yml")))
EVAL = sentences(sorted((ROOT / "eval").glob("*.yml")))


def test_every_intent_of_the_contract_has_training_data() -> None:
    intents = {name.split("/")[0] for name in TRAIN}
    assert intents == CONTRACT


def test_transactional_intents_have_enough_distinct_examples() -> None:
    for intent in TRANSACTIONAL:
        distinct = {normal(text) for text in TRAIN[intent]}
        assert len(distinct) >= TRANSACTIONAL_MINIMUM, (intent, len(distinct))


def test_faq_has_at_least_twelve_answered_topics() -> None:
    topics = {name.split("/")[1] for name in TRAIN if name.startswith("faq/")}
    responses = yaml.safe_load((ROOT / "bot" / "domain" / "faq.yml").read_text())["responses"]
    assert len(topics) >= 12
    assert {f"utter_faq/{topic}" for topic in topics} == set(responses)


def test_no_evaluation_sentence_is_in_the_training_data() -> None:
    trained = {normal(text) for texts in TRAIN.values() for text in texts}
    leaked = [text for texts in EVAL.values() for text in texts if normal(text) in trained]
    assert leaked == []


def test_lookup_entries_are_unique_and_longer_forms_come_first() -> None:
    """Rasa matches a lookup table's entries in file order: a prefix must not shadow."""
    for path in sorted((ROOT / "data" / "nlu" / "lookups").glob("*.yml")):
        for block in blocks(path):
            entries = [
                e.strip().removeprefix("- ") for e in block["examples"].splitlines() if e.strip()
            ]
            assert len(entries) == len(set(entries)), path.name
            for i, entry in enumerate(entries):
                later = [other for other in entries[i + 1 :] if other.startswith(entry)]
                assert later == [], f"{path.name}: {entry!r} shadows {later}"


def test_no_blind_evaluation_sentence_is_in_the_training_data() -> None:
    """eval/blind/ was written apart from data/nlu: a sentence of it trained on tests nothing."""
    trained = {normal(text) for texts in TRAIN.values() for text in texts}
    for path in sorted((ROOT / "eval" / "blind").glob("*.yml")):
        items = yaml.safe_load(path.read_text(encoding="utf-8"))["items"]
        texts = [item.get("text") or item["phrase"] for item in items]
        assert [text for text in texts if normal(text) in trained] == [], path.name
