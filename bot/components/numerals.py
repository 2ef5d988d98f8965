"""Chinese and full-width numerals as residents type them, to Arabic digit strings."""

from __future__ import annotations

import cn2an

DIGITS = {
    "零": "0",
    "〇": "0",
    "洞": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "两": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
UNITS = "十百千"
CHINESE_NUMERAL = "[零〇洞一幺二两三四五六七八九十百千]"
FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def to_digits(text: str) -> str:
    """'12' → '12', '十二' → '12', '五零一' → '501', '一千一百零二' → '1102', '３' → '3'."""
    text = text.translate(FULL_WIDTH).strip()
    if text.isdigit():
        return str(int(text)) if len(text) <= 2 else text
    if any(unit in text for unit in UNITS):
        return str(cn2an.cn2an(text.replace("两", "二").replace("幺", "一"), "normal"))
    return "".join(DIGITS[char] for char in text)
