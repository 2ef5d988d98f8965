"""Making bot text fit WeChat: valid inside CDATA, within length limits, choices as digits."""

from __future__ import annotations

import re
from collections.abc import Sequence

# WeChat counts message length in bytes (2048 for text); keep a margin for the wrapping.
MAX_MESSAGE_BYTES = 2000
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])")


def sanitise(text: str) -> str:
    """Safe inside <![CDATA[…]]>: no `]]>`, no characters XML 1.0 forbids."""
    return _INVALID_XML_CHARS.sub("", text).replace("]]>", "]]＞")


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def split_message(text: str, max_bytes: int = MAX_MESSAGE_BYTES) -> list[str]:
    """Split into messages of at most `max_bytes`, between sentences whenever possible."""
    text = text.strip()
    if _size(text) <= max_bytes:
        return [text] if text else []
    parts: list[str] = []
    current = ""
    for sentence in (s for s in _SENTENCE_END.split(text) if s):
        while _size(sentence) > max_bytes:  # one sentence longer than a message
            cut = max_bytes
            while _size(sentence[:cut]) > max_bytes:
                cut -= 1
            head, sentence = sentence[:cut], sentence[cut:]
            if current:
                parts.append(current)
                current = ""
            parts.append(head)
        if _size(current + sentence) > max_bytes:
            parts.append(current)
            current = sentence
        else:
            current += sentence
    if current:
        parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def with_choices(text: str, titles: Sequence[str]) -> str:
    """Buttons become numbered choices the resident answers with a digit."""
    if not titles:
        return text
    lines = [f"{i}. {title}" for i, title in enumerate(titles, start=1)]
    return "\n".join([text, *lines, "（回复数字即可选择）"])
