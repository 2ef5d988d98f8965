"""How the console shows times, waits, deadlines and statuses (Jinja filters)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates

from integrations.property.interface import ComplaintInfo
from integrations.property.models import ComplaintStatus, RepairStatus
from integrations.property.services.complaints import STATUS_LABELS as COMPLAINT_LABELS
from integrations.property.services.complaints import sla_state
from integrations.property.services.numbering import LOCAL_TZ, moment_label
from integrations.property.services.repairs import STATUS_LABELS as REPAIR_LABELS

SPEAKERS = {"resident": "住户", "bot": "物业助手"}
HANDOFF_LABELS = {"open": "等待接手", "claimed": "处理中", "closed": "已结束"}


def local(moment: datetime | None) -> str:
    return "" if moment is None else moment_label(moment)


def duration(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes}分钟"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}小时{rest}分钟" if rest else f"{hours}小时"
    return f"{hours // 24}天{hours % 24}小时"


def waited(since: datetime, now: datetime | None = None) -> str:
    seconds = ((now or datetime.now(LOCAL_TZ)) - since).total_seconds()
    return duration(max(0, int(seconds // 60)))


def sla(complaint: ComplaintInfo, now: datetime | None = None) -> tuple[str, str]:
    """(css class, words) for a complaint's deadline."""
    now = now or datetime.now(LOCAL_TZ)
    state = sla_state(complaint, now)
    if state == "met":
        return "ok", "已按时答复"
    if state == "missed":
        return "late", "超时后答复"
    if state == "overdue":
        return "late", f"已超时{waited(complaint.sla_due_at, now)}"
    left = int((complaint.sla_due_at - now).total_seconds() // 60)
    return ("soon" if left < 60 else "ok"), f"剩余{duration(left)}"


def speaker(name: str) -> str:
    return SPEAKERS.get(name, name)


def status_label(status: str, kind: str) -> str:
    if kind == "complaint":
        return COMPLAINT_LABELS[ComplaintStatus(status)]
    if kind == "repair":
        return REPAIR_LABELS[RepairStatus(status)]
    return HANDOFF_LABELS.get(status, status)


HERE = Path(__file__).parent
# What /console/static/ serves: the only stylesheet and script the console's CSP allows.
STATIC = {name: HERE / "static" / name for name in ("console.css", "handoff.js")}
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters.update(local=local, waited=waited, speaker=speaker, label=status_label)
templates.env.globals.update(
    sla=sla,
    complaint_statuses=COMPLAINT_LABELS,
    repair_statuses=REPAIR_LABELS,
)
