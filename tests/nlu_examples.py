"""Reading Rasa NLU YAML in the app environment (no Rasa here): sentences and intents."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def read_examples(path: Path) -> list[tuple[str, str]]:
    """(sentence without entity markup, intent) for every example in the file."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = []
    for block in document.get("nlu", []):
        if "intent" not in block:
            continue
        for line in block["examples"].splitlines():
            text = ANNOTATION.sub(r"\1", line.strip().removeprefix("- "))
            if text:
                found.append((text, block["intent"]))
    return found
