"""Structured logs (JSON by default) with mainland mobile numbers masked everywhere."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

_D = "0-9\uff10-\uff19"  # ASCII and full-width digits
_SEP = "[ \\-\u3000\uff0d]?"  # a space or hyphen between the groups (half or full width)
# A mainland mobile number however it is written: 13812345678, +86 138-1234-5678,
# 8613812345678, 138 1234 5678, full-width digits. Not a part of a longer code or number
# (BX2611210005, 2026112100012345) nor an amount (13812345678.00, ¥…).
PHONE = re.compile(
    rf"(?<![{_D}A-Za-z.\uff0e¥\uffe5])"
    rf"(?P<prefix>[+\uff0b]?(?:86|\uff18\uff16){_SEP})?"
    rf"(?P<head>[1\uff11][3-9\uff13-\uff19][{_D}])(?P<s1>{_SEP})"
    rf"[{_D}]{{4}}(?P<s2>{_SEP})(?P<tail>[{_D}]{{4}})"
    rf"(?![{_D}]|[.\uff0e][{_D}])"
)


def mask_phones(text: str) -> str:
    return PHONE.sub(r"\g<prefix>\g<head>\g<s1>****\g<s2>\g<tail>", text)


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return mask_phones(value)
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask(v) for v in value)
    return value


def mask_processor(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return {key: _mask(value) for key, value in event_dict.items()}


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            mask_processor,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        # uvicorn --no-access-log leaves uvicorn.access without handlers and not propagating.
        logger.propagate = logger.propagate or bool(logger.handlers)
        logger.handlers[:] = []
    logging.getLogger("httpx").setLevel(logging.WARNING)
