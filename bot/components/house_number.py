"""Building / unit / room numbers in the many ways residents write them.

"3栋2单元501", "3-2-501", "三号楼二单元五零一室", "12幢1单元1102室", "12幢1102",
"3#楼2门501", "3号楼2单元" → building "3", unit "2", room "501" (Arabic digit strings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.components.numerals import CHINESE_NUMERAL, to_digits

NUM = rf"(?:[0-9０-９]+|{CHINESE_NUMERAL}+)"
BUILDING = r"(?:号楼|号栋|栋|幢|座|#楼|＃楼|#|＃|号)"
UNIT = r"(?:单元|门)"
ROOM = r"(?:室|号房|号|房)?"

PATTERNS = [
    # 3-2-501, 3－2－501
    re.compile(
        r"(?<![\d-])(?P<building>\d{1,3})[-－](?P<unit>\d{1,2})[-－](?P<room>\d{3,4})(?![\d-])"
    ),
    # 3栋2单元501(室), 三号楼二单元五零一
    re.compile(
        rf"(?P<building>{NUM})\s*{BUILDING}\s*(?P<unit>{NUM})\s*{UNIT}\s*"
        rf"(?:(?P<room>{NUM})\s*{ROOM})?"
    ),
    # 12幢1102(室): building and room, no unit
    re.compile(
        rf"(?P<building>{NUM})\s*(?:号楼|栋|幢|座|#楼|#)\s*(?P<room>(?:[0-9]{{3,4}}|"
        rf"[零〇洞一幺二两三四五六七八九]{{3,4}}))\s*{ROOM}"
    ),
    # 3号楼 / 3栋 alone
    re.compile(rf"(?P<building>{NUM})\s*(?:号楼|栋|幢|#楼)"),
]


@dataclass(frozen=True)
class Part:
    entity: str
    value: str
    start: int
    end: int


def find_house_parts(text: str) -> list[Part]:
    """Every building, unit and room mentioned; earlier patterns win overlapping spans."""
    taken: list[tuple[int, int]] = []
    parts: list[Part] = []
    for pattern in PATTERNS:
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            found = []
            for entity in ("building", "unit", "room"):
                raw = match.groupdict().get(entity)
                if raw:
                    try:
                        value = to_digits(raw)
                    except (KeyError, ValueError):
                        found = []
                        break
                    found.append(Part(entity, value, match.start(entity), match.end(entity)))
            if found:
                taken.append((match.start(), match.end()))
                parts.extend(found)
    return sorted(parts, key=lambda p: p.start)
