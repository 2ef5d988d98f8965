from __future__ import annotations

import json
import logging

import pytest
import structlog

from app.logging import configure_logging, mask_phones


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("13800000001", "138****0001"),
        ("电话13912345678，谢谢", "电话139****5678，谢谢"),
        ("+86 15012345678", "+86 150****5678"),
        ("订单号 2026112100012345", "订单号 2026112100012345"),
        ("座机 0571-88880000", "座机 0571-88880000"),
    ],
)
def test_mobile_numbers_are_masked(text: str, masked: str) -> None:
    assert mask_phones(text) == masked


def test_logs_are_json_lines_without_phone_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    structlog.get_logger("test").info("bound", phone="13800000001", note={"msg": "打13900001111"})
    logging.getLogger("stdlib").warning("resident %s called", "13700007777")

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]

    assert [line["event"] for line in lines] == ["bound", "resident 137****7777 called"]
    assert lines[0]["phone"] == "138****0001"
    assert lines[0]["note"] == {"msg": "打139****1111"}
    assert lines[1]["level"] == "warning"
