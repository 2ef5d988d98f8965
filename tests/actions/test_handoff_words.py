"""What a resident is told about when a person will answer."""

from __future__ import annotations

from datetime import datetime, time

from actions.handoffs import when_staff_reply
from integrations.property.interface import ServiceContacts
from integrations.property.services.numbering import LOCAL_TZ

CONTACTS = ServiceContacts("幸福家园", "0571-88880000", "0571-88889999", time(8, 30), time(17, 30))


def test_in_office_hours_a_person_answers_within_minutes() -> None:
    now = datetime(2026, 11, 23, 10, tzinfo=LOCAL_TZ)
    assert when_staff_reply(CONTACTS, now) == "工作人员会尽快回复您，一般10分钟内。"


def test_after_hours_the_resident_is_told_when_and_whom_to_call_meanwhile() -> None:
    now = datetime(2026, 11, 23, 22, tzinfo=LOCAL_TZ)
    said = when_staff_reply(CONTACTS, now)
    assert said.startswith("现在是下班时间（办公时间 08:30–17:30）")
    assert said.endswith("紧急情况请拨打24小时电话 0571-88889999。")
