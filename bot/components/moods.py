"""Whether a resident is clearly angry: such a message goes to a person, not to a form.

Plain `re`, no Rasa: the NLU pipeline (`AngerIntent`) uses it, and its tests run anywhere.
"Clearly" is meant: swearing, "受够了", threats to go to 12345 or the press, or an
exasperated phrase said with emphasis ("！！", "😡"). A complaint said calmly is a complaint.
"""

from __future__ import annotations

import re

FURIOUS = re.compile(
    r"气死|受够|忍无可忍|欺人太甚|太过分了|垃圾物业|破物业|烂物业|黑心物业|无良物业|什么破"
    r"|他妈|妈的|tmd|尼玛|操你|草泥马|滚蛋|滚开|混蛋|王八蛋|狗屁|废物|有病吧|骗子"
    r"|到底管不管|还管不管|到底有没有人管|要你们有什么用|要你们何用|拿钱不办事|收钱不办事"
    r"|(打|拨打|投诉到|告到|找)(12345|市长热线|住建局|媒体|电视台|记者)|曝光你们|起诉你们|告你们",
    re.IGNORECASE,
)
EXASPERATED = re.compile(
    r"太差|差劲|无语|离谱|气人|生气|火大|恶心|搞什么|怎么回事|什么态度|没人管|不管|"
    r"多少次|几次了|又是|还没修|还没人|一直没|到现在|拖了|敷衍"
)
EMPHASIS = re.compile(r"[!！]{2,}|[?？]{2,}|[?？][!！]|[!！][?？]|[😡🤬💢😤]")


def is_angry(text: str) -> bool:
    return bool(FURIOUS.search(text)) or bool(EXASPERATED.search(text) and EMPHASIS.search(text))
