"""Chinese time expressions resolved to ISO 8601 (Asia/Shanghai) against the message time.

JioNLP's time parser does the heavy lifting; around it we fix what residents say that it
reads differently: "明早/今晚" (tomorrow morning, tonight), "这个月/上个月", a bare "3点"
meaning 15:00 when booking, "下午两点半到四点" (the end is in the afternoon too) and a bare
"周六" meaning the coming Saturday, not the one just past.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import jionlp

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# Rewrites before parsing; each keeps a map back to the resident's own characters.
ALIASES = {
    "明早": "明天早上",
    "明晚": "明天晚上",
    "今早": "今天早上",
    "今晚": "今天晚上",
    "后早": "后天早上",
    "后晚": "后天晚上",
    "早上": "早上",
    "礼拜天": "周日",
    "礼拜": "周",
}
MONTHS = re.compile(r"(这个月|这月|本月|当月|上个月|上月|下个月|下月)")
MONTH_OFFSET = {
    "这个月": 0,
    "这月": 0,
    "本月": 0,
    "当月": 0,
    "上个月": -1,
    "上月": -1,
    "下个月": 1,
    "下月": 1,
}
MORNING = re.compile(r"凌晨|早|上午|清晨|半夜|夜里")
GREETING = re.compile(r"^(?:早上|早晨|上午|中午|下午|晚上)$")
BARE_WEEKDAY = re.compile(r"^(?:周|星期)[一二三四五六日天]")


@dataclass(frozen=True)
class TimeMatch:
    start: int
    end: int
    value: dict[str, str]


def _rewrite(text: str) -> tuple[str, list[int]]:
    """`text` with aliases expanded, and for each new character its original index."""
    out: list[str] = []
    origin: list[int] = []
    i = 0
    while i < len(text):
        for alias, expansion in ALIASES.items():
            if text.startswith(alias, i):
                out.append(expansion)
                origin.extend([i] * (len(expansion) - 1) + [i + len(alias) - 1])
                i += len(alias)
                break
        else:
            out.append(text[i])
            origin.append(i)
            i += 1
    return "".join(out), origin


def _month_span(first: date, offset: int) -> tuple[datetime, datetime]:
    month_index = first.year * 12 + first.month - 1 + offset
    start = datetime(month_index // 12, month_index % 12 + 1, 1, tzinfo=LOCAL_TZ)
    following = month_index + 1
    end = datetime(following // 12, following % 12 + 1, 1, tzinfo=LOCAL_TZ)
    return start, end


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _value(start: datetime, end: datetime) -> dict[str, str]:
    return {"start": _iso(start), "end": _iso(end)}


def _day_after(moment: datetime) -> datetime:
    """The end of an open range ("四点以后"): the end of that day."""
    return datetime.combine(moment.date() + timedelta(days=1), datetime.min.time(), LOCAL_TZ)


def _parse_local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=LOCAL_TZ)


def find_times(
    text: str, now: datetime | None = None, masked: list[tuple[int, int]] | None = None
) -> list[TimeMatch]:
    """Time expressions in `text`; `masked` spans (house numbers…) are not read as dates."""
    now = (now or datetime.now(LOCAL_TZ)).astimezone(LOCAL_TZ)
    for start, end in masked or []:
        text = text[:start] + "，" * (end - start) + text[end:]
    found: list[TimeMatch] = []
    for match in MONTHS.finditer(text):
        start, end = _month_span(now.date(), MONTH_OFFSET[match.group(1)])
        found.append(TimeMatch(match.start(), match.end(), _value(start, end)))
    rewritten, origin = _rewrite(MONTHS.sub(lambda m: "，" * len(m.group(0)), text))
    try:
        results = jionlp.ner.extract_time(rewritten, time_base=_base(now), with_parsing=True)
    except Exception:  # a parser hiccup must not lose the message
        results = []
    for item in results:
        detail = item.get("detail") or {}
        times = detail.get("time")
        if not isinstance(times, list) or len(times) != 2:
            continue  # durations ("三天") and periodic times are not points in time
        try:
            start = now if times[0] == "-inf" else _parse_local(times[0])
            end = _day_after(start) if times[1] == "inf" else _parse_local(times[1])
        except (TypeError, ValueError):
            continue
        begin, finish = item["offset"]
        original = text[origin[begin] : origin[finish - 1] + 1]
        following = text[origin[finish - 1] + 1 : origin[finish - 1] + 2]
        if GREETING.match(original) and following == "好":
            continue  # "早上好" is a greeting, not a time
        start, end = _adjust(original, start, end, now)
        found.append(TimeMatch(origin[begin], origin[finish - 1] + 1, _value(start, end)))
    return sorted(found, key=lambda t: t.start)


def _base(now: datetime) -> dict[str, int]:
    """The message time as jionlp wants it, in Shanghai wall-clock fields (no machine zone)."""
    return {
        "year": now.year,
        "month": now.month,
        "day": now.day,
        "hour": now.hour,
        "minute": now.minute,
        "second": now.second,
    }


def _adjust(
    original: str, start: datetime, end: datetime, now: datetime
) -> tuple[datetime, datetime]:
    if end.second == 59:  # jionlp ends at hh:59:59; an exclusive end reads better
        end += timedelta(seconds=1)
    clock_time = start.time() != datetime.min.time()
    if clock_time and 1 <= start.hour <= 6 and not MORNING.search(original):
        shift = timedelta(hours=12)  # "明天3点订球场" is the afternoon
        start, end = start + shift, end + shift
    if end < start and (start - end) < timedelta(hours=24):
        end += timedelta(hours=12)  # "下午两点半到四点": four in the afternoon
    if BARE_WEEKDAY.match(original) and start.date() < now.date():
        start, end = start + timedelta(days=7), end + timedelta(days=7)
    return start, end
