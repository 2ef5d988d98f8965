"""Issue 14, item 6: `+8613812345678`, `138 1234 5678`, `138-1234-5678` reached the logs
unmasked. Every way a resident writes a mainland mobile number is masked, in structured
fields and in stdlib log lines alike; order numbers and amounts are left as they are."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from app.logging import configure_logging, mask_phones


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("+8613812345678", "+86138****5678"),
        ("8613812345678", "86138****5678"),
        ("+86 138 1234 5678", "+86 138 **** 5678"),
        ("138 1234 5678", "138 **** 5678"),
        ("138-1234-5678", "138-****-5678"),
        ("138 1234-5678", "138 ****-5678"),
        ("我的电话：１３８１２３４５６７８", "我的电话：１３８****５６７８"),
        ("电话１３８－１２３４－５６７８谢谢", "电话１３８－****－５６７８谢谢"),
        ("13812345678和13900001111", "138****5678和139****1111"),
    ],
)
def test_every_way_of_writing_a_mobile_number_is_masked(text: str, masked: str) -> None:
    assert mask_phones(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "报修单 BX2611210005 已派单",
        "投诉 TS2611210003",
        "订单号 2026112100012345",
        "欠费 ¥1,677.58",
        "金额 13812345678.50 元",
        "¥13812345678",
        "座机 0571-88880000",
        "时间 2026-11-22 13:45",
        "12812345678",  # not a mobile prefix
    ],
)
def test_order_numbers_amounts_and_other_numbers_are_left_alone(text: str) -> None:
    assert mask_phones(text) == text


def test_no_written_form_reaches_the_log_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    written = ["+8613812345678", "138 1234 5678", "138-1234-5678", "１３８１２３４５６７８"]
    structlog.get_logger("test").info("bind", said=written, note={"text": f"打{written[1]}"})
    logging.getLogger("stdlib").warning("resident wrote %s", written[2])

    out = capsys.readouterr().err
    lines = [json.loads(line) for line in out.splitlines()]

    assert lines[0]["said"] == [
        "+86138****5678",
        "138 **** 5678",
        "138-****-5678",
        "１３８****５６７８",
    ]
    assert lines[0]["note"] == {"text": "打138 **** 5678"}
    assert lines[1]["event"] == "resident wrote 138-****-5678"
    assert not any(form in out for form in written)
