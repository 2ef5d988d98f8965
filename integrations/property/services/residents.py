"""Residents and house binding.

A WeChat identity owns only the rooms a proof bound to it. The proofs (which ones a company
accepts, and in which order, is `BindingPolicy`):

- ``phone_last4``: exactly the last four digits of the phone registered for the room. It
  shows the claimant knows that number, no more, so it grants 租户 and 家属; a 业主 claim
  through it goes to staff review when review is accepted (and binds only when it is not).
- ``sms``: a six-digit code sent to the registered phone shows the claimant holds that
  phone (the owner's): it grants any role.
- ``review``: staff decide (the claimant brings papers or is called back); any role.

Failures are counted per room (all accounts, per proof, per local day) and per resident
(over the last 24 hours, a room's own failures forgotten once that room is bound); a
success never clears the count of another room. Every attempt is a `BindAttempt` row.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from integrations.property.interface import (
    BindingRequestInfo,
    House,
    InvalidTransition,
    NotFound,
    ProofChoice,
    PropertyError,
    ResidentInfo,
    ReviewPending,
    ServiceContacts,
)
from integrations.property.models import (
    BindAttempt,
    BindingProof,
    BindingRequest,
    BindingRequestStatus,
    BindSmsCode,
    Building,
    Community,
    HouseRole,
    Resident,
    ResidentRoom,
    Room,
    Unit,
    utcnow,
)
from integrations.property.services._base import (
    Service,
    ensure_resident,
    find_room,
    house_of,
    load_resident,
    resident_info,
)
from integrations.property.services.numbering import LOCAL_TZ
from integrations.sms import SmsError, SmsSender

log = structlog.get_logger(__name__)

MAX_BIND_FAILURES = 5  # per resident, then locked for BIND_LOCK
BIND_LOCK = timedelta(minutes=30)
FAILURE_WINDOW = timedelta(hours=24)
MAX_ROOM_FAILURES_PER_DAY = 10  # per room and proof, from all accounts, per local day
CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=5)
CODE_MAX_TRIES = 5
CODE_INTERVAL = timedelta(minutes=1)  # one new code per minute per resident
MAX_ROOM_CODES_PER_DAY = 5
ROLE_LABELS = {HouseRole.OWNER: "业主", HouseRole.TENANT: "租户", HouseRole.FAMILY: "家属"}
STATUS_LABELS = {"pending": "审核中", "approved": "已通过", "rejected": "未通过"}
AT_THE_OFFICE = "带证件到物业服务中心办理"
ASK_REVIEW = "回复“绑定房屋”申请人工审核"
LOCKED = "验证失败次数过多，请30分钟后再试，或带证件到物业服务中心办理。"
PHONE_PROOFS = (BindingProof.PHONE_LAST4, BindingProof.SMS)


@dataclass(frozen=True)
class BindingPolicy:
    """Which proofs are accepted, in order of preference, and the SMS sender if any."""

    proofs: tuple[BindingProof, ...] = (BindingProof.PHONE_LAST4, BindingProof.REVIEW)
    sms: SmsSender | None = None

    @classmethod
    def parse(cls, proofs: str, sms: SmsSender | None = None) -> BindingPolicy:
        """From a comma-separated list such as ``phone_last4,sms,review``."""
        names = [name.strip() for name in proofs.split(",") if name.strip()]
        unknown = [name for name in names if name not in set(BindingProof)]
        if unknown or not names:
            raise ValueError(f"BINDING_PROOFS: unknown or no proofs {unknown or proofs!r}")
        return cls(tuple(dict.fromkeys(BindingProof(name) for name in names)), sms)

    def accepts(self, proof: BindingProof) -> bool:
        return proof in self.proofs

    def grants(self, proof: BindingProof, role: HouseRole) -> bool:
        """Whether `proof` alone binds `role` (else the claim goes to review)."""
        if proof is BindingProof.PHONE_LAST4 and role is HouseRole.OWNER:
            return not self.accepts(BindingProof.REVIEW)
        return True


def mask_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 8 else "****"


class ResidentService(Service):
    policy: BindingPolicy = BindingPolicy()

    def by_openid(self, openid: str) -> ResidentInfo | None:
        with self._tx() as session:
            resident = load_resident(session, openid)
            return resident_info(resident) if resident else None

    def contacts(self, openid: str) -> ServiceContacts:
        """The community of the resident's first house; the only community if unbound."""
        with self._tx() as session:
            resident = load_resident(session, openid)
            community = None
            if resident is not None and resident.houses:
                community = session.scalar(
                    select(Community)
                    .join(Building)
                    .join(Unit)
                    .join(Room)
                    .where(Room.id == resident.houses[0].room_id)
                )
            if community is None:
                only = session.scalars(select(Community).limit(2)).all()
                community = only[0] if len(only) == 1 else None
            if community is None:
                return ServiceContacts("", "", "")
            return ServiceContacts(
                community.name,
                community.service_phone,
                community.emergency_phone,
                community.office_opens,
                community.office_closes,
            )

    # --- binding by the resident -------------------------------------------------------

    def proof_for(self, openid: str, *, building: str, unit: str, room: str) -> ProofChoice:
        """The first accepted proof this room can be bound with now: the phone proofs need
        a registered phone (and SMS a sender) and are skipped while locked."""
        now = utcnow()
        with self._tx() as session:
            target = _require_room(session, building, unit, room)
            resident = load_resident(session, openid)
            for proof in self.policy.proofs:
                if proof is BindingProof.REVIEW:
                    return ProofChoice(proof.value)
                if not target.registered_phone or (
                    proof is BindingProof.SMS and self.policy.sms is None
                ):
                    continue
                if proof is BindingProof.SMS and _codes_used_up(session, resident, target, now):
                    continue
                if _lock_message(session, resident, target, proof, now) is None:
                    return ProofChoice(proof.value, mask_phone(target.registered_phone))
            raise PropertyError(self._no_proof_left(session, resident, target, now))

    def send_bind_code(self, openid: str, *, building: str, unit: str, room: str) -> str:
        """Text a code to the room's registered phone (unless one sent to this resident for
        this room is still good); returns the phone masked, as the resident may see it."""
        if not self.policy.accepts(BindingProof.SMS) or self.policy.sms is None:
            raise PropertyError("暂不支持短信验证码绑定，请" + AT_THE_OFFICE + "。")
        now = utcnow()
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        with self._tx() as session:
            resident = ensure_resident(session, openid)
            target = _require_room(session, building, unit, room)
            if not target.registered_phone:
                raise PropertyError(f"{target.label}没有登记手机号，请{AT_THE_OFFICE}。")
            masked = mask_phone(target.registered_phone)
            refusal = _lock_message(session, resident, target, BindingProof.SMS, now)
            if refusal is not None:
                raise PropertyError(refusal)
            if _live_code(session, resident.id, target.id, now) is not None:
                return masked
            last = session.scalar(
                select(func.max(BindSmsCode.created_at)).where(
                    BindSmsCode.resident_id == resident.id
                )
            )
            if last is not None and now - last < CODE_INTERVAL:
                raise PropertyError("验证码获取太频繁，请1分钟后再试。")
            if _codes_used_up(session, resident, target, now):
                raise PropertyError(
                    f"{target.label}今天获取验证码的次数已达上限，请明天再试，或{AT_THE_OFFICE}。"
                )
            row = BindSmsCode(
                resident_id=resident.id,
                room_id=target.id,
                code_hash=_hash_code(code),
                created_at=now,
                expires_at=now + CODE_LIFETIME,
                wrong_tries=0,
                voided=False,
            )
            session.add(row)
            session.flush()
            row_id, phone = row.id, target.registered_phone
        try:
            self.policy.sms.send_code(phone, code)
        except SmsError as error:
            log.warning("bind_code_not_sent", code=error.code, error=error.message)
            with self._tx() as session:
                session.execute(
                    update(BindSmsCode).where(BindSmsCode.id == row_id).values(voided=True)
                )
            raise PropertyError(
                "验证码短信发送失败，请稍后再试，或" + AT_THE_OFFICE + "。"
            ) from None
        return masked

    def bind(
        self,
        openid: str,
        *,
        building: str,
        unit: str,
        room: str,
        role: str,
        phone_last4: str | None = None,
        sms_code: str | None = None,
    ) -> House | BindingRequestInfo:
        """Bind a WeChat identity to a room with one phone proof: `phone_last4` or
        `sms_code`. A proof that does not grant the role claimed (业主 by the last four
        digits, when review is accepted) files a review request instead."""
        if (phone_last4 is None) == (sms_code is None):
            raise PropertyError("请用一种方式验证身份：手机号后四位或短信验证码。")
        proof = BindingProof.PHONE_LAST4 if phone_last4 is not None else BindingProof.SMS
        if not self.policy.accepts(proof):
            raise PropertyError("物业暂未开放这种验证方式，请" + AT_THE_OFFICE + "。")
        claimed = _role(role)
        now = utcnow()
        with self._tx() as session:  # committed even when refused: failed attempts count
            resident = ensure_resident(session, openid)
            # The room's row is locked for the attempt, so guesses arriving together on many
            # accounts are counted one after another against the room's daily limit.
            target = _require_room(session, building, unit, room, lock=True)
            refusal = _lock_message(session, resident, target, proof, now)
            if refusal is None:
                if proof is BindingProof.PHONE_LAST4:
                    proven = _digits_match(target.registered_phone, phone_last4 or "")
                else:
                    proven = _code_matches(session, resident, target, sms_code or "", now)
                session.add(
                    BindAttempt(
                        resident_id=resident.id,
                        room_id=target.id,
                        proof=proof,
                        succeeded=proven,
                        at=now,
                    )
                )
                session.flush()
                if not proven:
                    refusal = self._failure_message(session, resident, target, proof, now)
            if refusal is None:
                if self.policy.grants(proof, claimed) or _holds(resident, target, claimed):
                    return _link(session, resident, target, claimed, now)
                return _file_review(session, resident, target, claimed, None, proof, now)
        raise PropertyError(refusal)

    def request_review(
        self,
        openid: str,
        *,
        building: str,
        unit: str,
        room: str,
        role: str,
        name: str | None = None,
    ) -> BindingRequestInfo:
        """A claim for staff to decide; one at a time per resident."""
        if not self.policy.accepts(BindingProof.REVIEW):
            raise PropertyError("物业暂未开放人工审核绑定，请" + AT_THE_OFFICE + "。")
        claimed = _role(role)
        with self._tx() as session:
            resident = ensure_resident(session, openid)
            target = _require_room(session, building, unit, room)
            if _holds(resident, target, claimed):
                raise PropertyError(f"您已绑定{target.label}（{ROLE_LABELS[claimed]}）。")
            return _file_review(session, resident, target, claimed, name, None, utcnow())

    # --- staff review -------------------------------------------------------------------

    def binding_requests(self, status: str | None = "pending") -> list[BindingRequestInfo]:
        """Requests of one status (pending: oldest first), or all, newest first."""
        query = select(BindingRequest).options(*_request_loads())
        if status:
            if status not in set(BindingRequestStatus):
                raise PropertyError(f"没有这种申请状态：{status}。")
            query = query.where(BindingRequest.status == status)
        order = BindingRequest.created_at if status == "pending" else BindingRequest.id.desc()
        with self._tx() as session:
            rows = session.scalars(query.order_by(order, BindingRequest.id)).all()
            return [_request_info(row) for row in rows]

    def binding_request(self, request_id: int) -> BindingRequestInfo:
        with self._tx() as session:
            return _request_info(_require_request(session, request_id))

    def approve_binding(self, request_id: int, *, reviewer: str) -> BindingRequestInfo:
        """The room is bound with the role claimed; a request decides exactly once."""
        now = utcnow()
        with self._tx() as session:
            _decide(session, request_id, BindingRequestStatus.APPROVED, reviewer, None, now)
            request = _require_request(session, request_id)
            resident = load_resident(session, request.resident.wechat_openid or "")
            assert resident is not None
            _link(session, resident, request.room, request.role, now)
            session.add(
                BindAttempt(
                    resident_id=resident.id,
                    room_id=request.room_id,
                    proof=BindingProof.REVIEW,
                    succeeded=True,
                    at=now,
                )
            )
            session.flush()
            return _request_info(request)

    def reject_binding(self, request_id: int, *, reviewer: str, remark: str) -> BindingRequestInfo:
        remark = remark.strip()
        if not remark:
            raise PropertyError("请填写未通过的原因，住户会收到这条说明。")
        with self._tx() as session:
            _decide(session, request_id, BindingRequestStatus.REJECTED, reviewer, remark, utcnow())
            return _request_info(_require_request(session, request_id))

    def _failure_message(
        self, session: Session, resident: Resident, target: Room, proof: BindingProof, now: datetime
    ) -> str:
        """What a failed attempt tells the resident, locking when a limit is reached."""
        review = self.policy.accepts(BindingProof.REVIEW)
        hint = f"，或{ASK_REVIEW}" if review else ""
        mine = _resident_failures(session, resident, now)
        if mine >= MAX_BIND_FAILURES:
            resident.bind_locked_until = now + BIND_LOCK
            return _resident_locked(review)
        if _room_failures(session, target, proof, now) >= MAX_ROOM_FAILURES_PER_DAY:
            return _room_locked(target, proof, review)
        left = MAX_BIND_FAILURES - mine
        if proof is BindingProof.SMS:
            return f"验证码不正确或已失效，还可以再试{left}次{hint}。"
        return f"手机号后四位与{target.label}登记的不一致，还可以再试{left}次。"

    def _no_proof_left(
        self, session: Session, resident: Resident | None, target: Room, now: datetime
    ) -> str:
        for proof in self.policy.proofs:
            refusal = _lock_message(session, resident, target, proof, now, review=False)
            if refusal is not None:
                return refusal
        return f"{target.label}暂时无法在线绑定，请{AT_THE_OFFICE}。"


def _role(role: str) -> HouseRole:
    try:
        return HouseRole(role)
    except ValueError:
        raise PropertyError("请选择：业主、租户或家属。") from None


def _require_room(
    session: Session, building: str, unit: str, room: str, *, lock: bool = False
) -> Room:
    target = find_room(session, building, unit, room)
    if target is not None and lock:
        session.scalar(select(Room.id).where(Room.id == target.id).with_for_update())
    if target is None:
        raise PropertyError(f"没有找到{building}栋{unit}单元{room}，请核对楼栋、单元和房号。")
    return target


def _digits_match(registered: str, last4: str) -> bool:
    digits = "".join(ch for ch in registered if ch.isdigit())
    return (
        len(last4) == 4
        and last4.isascii()
        and last4.isdigit()
        and len(digits) >= 4
        and hmac.compare_digest(digits[-4:], last4)
    )


def _hash_code(code: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    return f"{salt}${hashlib.sha256(f'{salt}:{code}'.encode()).hexdigest()}"


def _live_code(
    session: Session, resident_id: int, room_id: int, now: datetime
) -> BindSmsCode | None:
    return session.scalar(
        select(BindSmsCode)
        .where(
            BindSmsCode.resident_id == resident_id,
            BindSmsCode.room_id == room_id,
            BindSmsCode.used_at.is_(None),
            BindSmsCode.voided.is_(False),
            BindSmsCode.expires_at > now,
        )
        .order_by(BindSmsCode.created_at.desc())
        .limit(1)
        .with_for_update()
    )


def _codes_used_up(
    session: Session, resident: Resident | None, target: Room, now: datetime
) -> bool:
    """The room had its codes for today, and this resident holds none still good."""
    if resident is not None and _live_code(session, resident.id, target.id, now) is not None:
        return False
    sent_today = session.scalar(
        select(func.count())
        .select_from(BindSmsCode)
        .where(BindSmsCode.room_id == target.id, BindSmsCode.created_at >= _today(now))
    )
    return (sent_today or 0) >= MAX_ROOM_CODES_PER_DAY


def _code_matches(
    session: Session, resident: Resident, target: Room, code: str, now: datetime
) -> bool:
    row = _live_code(session, resident.id, target.id, now)
    if row is None:
        return False
    salt = row.code_hash.split("$", 1)[0]
    if (
        len(code) == CODE_DIGITS
        and code.isascii()
        and code.isdigit()
        and hmac.compare_digest(_hash_code(code, salt), row.code_hash)
    ):
        row.used_at = now
        return True
    row.wrong_tries += 1
    if row.wrong_tries >= CODE_MAX_TRIES:
        row.voided = True
    return False


def _today(now: datetime) -> datetime:
    """The start of the local (Asia/Shanghai) day of `now`."""
    return now.astimezone(LOCAL_TZ).replace(hour=0, minute=0, second=0, microsecond=0)


def _resident_failures(session: Session, resident: Resident, now: datetime) -> int:
    """This resident's failures since the window (or their last lock) began, except those on
    a room they have bound since."""
    since = now - FAILURE_WINDOW
    if resident.bind_locked_until is not None and resident.bind_locked_until > since:
        since = resident.bind_locked_until
    attempts = session.execute(
        select(BindAttempt.room_id, BindAttempt.succeeded)
        .where(BindAttempt.resident_id == resident.id, BindAttempt.at >= since)
        .order_by(BindAttempt.at, BindAttempt.id)
    ).all()
    failures: dict[int, int] = {}
    for room_id, succeeded in attempts:
        failures[room_id] = 0 if succeeded else failures.get(room_id, 0) + 1
    return sum(failures.values())


def _room_failures(session: Session, target: Room, proof: BindingProof, now: datetime) -> int:
    return session.scalar(
        select(func.count())
        .select_from(BindAttempt)
        .where(
            BindAttempt.room_id == target.id,
            BindAttempt.proof == proof,
            BindAttempt.succeeded.is_(False),
            BindAttempt.at >= _today(now),
        )
    )


def _resident_locked(review: bool) -> str:
    if review:
        return (
            "验证失败次数过多，请30分钟后再试，或" + ASK_REVIEW + "，也可以" + AT_THE_OFFICE + "。"
        )
    return LOCKED


def _room_locked(target: Room, proof: BindingProof, review: bool) -> str:
    how = "短信验证码" if proof is BindingProof.SMS else "手机号后四位"
    then = f"请明天再试，或{ASK_REVIEW}" if review else "请明天再试"
    return (
        f"{target.label}今天用{how}验证失败的次数过多，已暂停这种方式绑定该房屋。"
        f"{then}，也可以{AT_THE_OFFICE}。"
    )


def _lock_message(
    session: Session,
    resident: Resident | None,
    target: Room,
    proof: BindingProof,
    now: datetime,
    *,
    review: bool = True,
) -> str | None:
    """Why `proof` cannot be tried now (a phone proof locked for the resident or the room)."""
    if proof not in PHONE_PROOFS:
        return None
    if resident is not None and resident.bind_locked_until and resident.bind_locked_until > now:
        return _resident_locked(review)
    if _room_failures(session, target, proof, now) >= MAX_ROOM_FAILURES_PER_DAY:
        return _room_locked(target, proof, review)
    return None


def _holds(resident: Resident, target: Room, role: HouseRole) -> bool:
    return any(h.room_id == target.id and h.role == role for h in resident.houses)


def _link(
    session: Session, resident: Resident, target: Room, role: HouseRole, now: datetime
) -> House:
    link = next((h for h in resident.houses if h.room_id == target.id), None)
    if link is None:
        link = ResidentRoom(resident_id=resident.id, room_id=target.id, role=role, bound_at=now)
        session.add(link)
        resident.houses.append(link)
    link.role = role
    session.flush()
    session.refresh(link, ["room"])
    return house_of(link)


def _file_review(
    session: Session,
    resident: Resident,
    target: Room,
    role: HouseRole,
    name: str | None,
    verified_by: BindingProof | None,
    now: datetime,
) -> BindingRequestInfo:
    pending = session.scalar(
        select(BindingRequest)
        .where(
            BindingRequest.resident_id == resident.id,
            BindingRequest.status == BindingRequestStatus.PENDING,
        )
        .options(*_request_loads())
        .limit(1)
    )
    if pending is not None:
        raise ReviewPending(
            f"您绑定{pending.room.label}的申请正在审核中，物业工作人员审核后会通知您，请耐心等待。"
        )
    request = BindingRequest(
        resident_id=resident.id,
        room_id=target.id,
        role=role,
        name=(name or "").strip()[:50] or None,
        verified_by=verified_by,
        status=BindingRequestStatus.PENDING,
        created_at=now,
    )
    session.add(request)
    session.flush()
    session.refresh(request, ["resident", "room"])
    return _request_info(request)


def _request_loads() -> tuple[object, ...]:
    return (
        selectinload(BindingRequest.resident),
        selectinload(BindingRequest.room).selectinload(Room.unit).selectinload(Unit.building),
    )


def _require_request(session: Session, request_id: int) -> BindingRequest:
    request = session.scalar(
        select(BindingRequest)
        .where(BindingRequest.id == request_id)
        .options(*_request_loads())
        .execution_options(populate_existing=True)
    )
    if request is None:
        raise NotFound(f"没有找到绑定申请 {request_id}。")
    return request


def _decide(
    session: Session,
    request_id: int,
    status: BindingRequestStatus,
    reviewer: str,
    remark: str | None,
    now: datetime,
) -> None:
    """Pending -> `status`, in one conditional UPDATE: two staff deciding at once cannot
    both succeed."""
    changed = session.execute(
        update(BindingRequest)
        .where(
            BindingRequest.id == request_id,
            BindingRequest.status == BindingRequestStatus.PENDING,
        )
        .values(status=status, reviewer=reviewer, remark=remark, reviewed_at=now)
    ).rowcount
    if not changed:
        current = _require_request(session, request_id)
        raise InvalidTransition(
            f"绑定申请 {request_id} 已审核（{STATUS_LABELS[current.status.value]}），不能再审核。"
        )


def _request_info(request: BindingRequest) -> BindingRequestInfo:
    return BindingRequestInfo(
        id=request.id,
        resident_openid=request.resident.wechat_openid,
        resident_name=request.resident.name,
        name=request.name,
        house=request.room.label,
        role=request.role.value,
        verified_by=request.verified_by.value if request.verified_by else None,
        status=request.status.value,
        remark=request.remark,
        reviewer=request.reviewer,
        created_at=request.created_at,
        reviewed_at=request.reviewed_at,
    )
