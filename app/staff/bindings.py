"""House binding review: staff approve or reject a resident's claim on a room and the
resident is told through the outbox (as `app/staff/desk.py` does for other decisions).
Also how the accepted proofs and the SMS sender are built from the settings."""

from __future__ import annotations

import anyio
import structlog

from app.deps import local_property_system
from app.settings import Settings
from app.staff.auth import Staff
from app.staff.desk import tell
from app.wiring import Wiring
from integrations.property.interface import BindingRequestInfo
from integrations.property.models import HouseRole
from integrations.property.services.residents import ROLE_LABELS, BindingPolicy
from integrations.sms import SmsSender
from integrations.sms.aliyun import AliyunSms
from integrations.sms.tencent import TencentCloudSms

log = structlog.get_logger(__name__)
TITLE = "房屋绑定"
TENCENT_FIELDS = (
    "tencent_sms_secret_id",
    "tencent_sms_secret_key",
    "tencent_sms_sdk_app_id",
    "tencent_sms_sign_name",
    "tencent_sms_template_id",
)
ALIYUN_FIELDS = (
    "aliyun_sms_access_key_id",
    "aliyun_sms_access_key_secret",
    "aliyun_sms_sign_name",
    "aliyun_sms_template_code",
)


def _value(settings: Settings, name: str) -> str:
    value = getattr(settings, name)
    value = getattr(value, "get_secret_value", lambda: value)()
    return value or ""


def missing_sms_settings(settings: Settings) -> list[str]:
    """The settings an SMS provider still needs (all of them when none is chosen)."""
    if settings.sms_provider is None:
        return ["SMS_PROVIDER"]
    fields = TENCENT_FIELDS if settings.sms_provider == "tencent" else ALIYUN_FIELDS
    return [name.upper() for name in fields if not _value(settings, name)]


def sms_sender(settings: Settings) -> SmsSender | None:
    if missing_sms_settings(settings):
        return None
    if settings.sms_provider == "tencent":
        return TencentCloudSms(
            *(_value(settings, name) for name in TENCENT_FIELDS),
            region=settings.tencent_sms_region,
            base_url=settings.tencent_sms_base_url,
        )
    return AliyunSms(
        *(_value(settings, name) for name in ALIYUN_FIELDS),
        base_url=settings.aliyun_sms_base_url,
    )


def binding_policy(settings: Settings) -> BindingPolicy:
    return BindingPolicy.parse(settings.binding_proofs, sms_sender(settings))


async def approve(wiring: Wiring, staff: Staff, request_id: int) -> BindingRequestInfo:
    system = local_property_system()
    request = await anyio.to_thread.run_sync(
        lambda: system.residents.approve_binding(request_id, reviewer=staff.display_name)
    )
    log.info("binding_approved", request_id=request_id, staff=staff.username)
    role = ROLE_LABELS[HouseRole(request.role)]
    await tell(
        wiring,
        request.resident_openid,
        f"您的房屋绑定申请已通过：{request.house}（{role}）。现在可以查账单、报修和预约场地了。",
        title=TITLE,
    )
    return request


async def reject(wiring: Wiring, staff: Staff, request_id: int, remark: str) -> BindingRequestInfo:
    system = local_property_system()
    request = await anyio.to_thread.run_sync(
        lambda: system.residents.reject_binding(
            request_id, reviewer=staff.display_name, remark=remark
        )
    )
    log.info("binding_rejected", request_id=request_id, staff=staff.username)
    await tell(
        wiring,
        request.resident_openid,
        f"您的房屋绑定申请（{request.house}）未通过：{request.remark}",
        title=TITLE,
    )
    return request
