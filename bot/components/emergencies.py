"""Which reports cannot wait for a form: trapped in a lift, gas, sparks, a flood.

Plain `re`, no Rasa: the NLU pipeline (`EmergencyIntent`) and the repair actions both use it.
"""

from __future__ import annotations

import re

# Checked in order; the first that matches names the emergency.
EMERGENCIES = (
    (
        "电梯困人",
        re.compile(
            r"(电梯|电悌).{0,8}困|困.{0,4}(电梯|电悌)|(关|卡)在(电梯|电悌)"
            r"|(电梯|电悌).{0,4}(关|卡)着?人"
            r"|(电梯|电悌).{0,6}(卡|停|关).{0,10}(有人|人在里|出不来|我在里|在里面)"
            r"|救命.{0,6}(电梯|电悌)|(电梯|电悌).{0,10}救命"
        ),
    ),
    ("燃气泄漏", re.compile(r"(燃气|煤气|天然气|液化气).{0,3}(味|泄漏|漏气|泄露)")),
    ("漏电起火", re.compile(r"漏电|冒火花|火花|电线.{0,3}(冒烟|着火|烧)|起火|着火")),
    ("大面积漏水", re.compile(r"大面积漏水|水漫|淹了|漫到|爆管|(水管|管子).{0,2}爆")),
)


def emergency_of(text: str) -> str | None:
    for kind, pattern in EMERGENCIES:
        if pattern.search(text):
            return kind
    return None
