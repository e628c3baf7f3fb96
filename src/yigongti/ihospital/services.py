"""The internet hospital's writes, one function per business verb.

Resident side (``principal``: the resident's own session, never a staff account): ``request_login_code``,
``verify_login_code``, ``request_consultation``, ``send_message``, ``cancel_consultation``, ``choose_delivery``,
``start_payment``; the gateway's callback: ``handle_payment_notice``.

Staff side (``Actor`` + ``orgs.permissions.check``): ``accept_consultation``, ``reply``, ``decline_consultation``,
``close_consultation``, ``prescribe`` (through ``prescribing.services.create_prescription``, source "ihospital"),
``review`` and ``dispense`` (through the prescribing app's services), ``move_delivery`` (ship, deliver, pick up);
``expire_overdue`` for the worker.

Each locks the row it changes, checks the move against ``workflow``, writes and appends an audit event; a refused
input raises ``InvalidInput`` with a Chinese message."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor, actor_of
from yigongti.core.carelevel import CareLevel
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yigongti.core.notify import notify
from yigongti.core.personal import PhoneError, mask_phone, normalise_phone
from yigongti.core.ratelimit import RateLimited
from yigongti.orgs.models import Facility, FacilityType, Role, User
from yigongti.orgs.permissions import check
from yigongti.residents.models import Resident

from . import eligibility, gateway, images, sms
from . import workflow as wf
from .models import Delivery, LoginCode, Message, OnlineConsultation, Payment, PaymentNotice, Picture
from .principal import ResidentPrincipal
from .workflow import DeliveryMode, DeliveryStatus, PaymentStatus, Status

CODE_TTL = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 5  # wrong codes before a code is spent
# (count, window): codes sent to one phone; codes asked from one address; wrong codes typed for one phone
PHONE_LIMIT = (5, dt.timedelta(hours=1))
PHONE_GAP = dt.timedelta(seconds=60)
IP_LIMIT = (20, dt.timedelta(hours=1))
FAIL_LIMIT = (10, dt.timedelta(hours=1))
KIND_NEW = "ihospital_requested"
log = logging.getLogger("yigongti.ihospital")
DEFAULT_FEE = Decimal("10.00")  # 复诊诊查费, yuan (``YIGONGTI_IHOSPITAL_FEE``)


# ---- login -------------------------------------------------------------------------------------------------

def _digest(phone: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"ihospital-login:{phone}:{code}".encode(),
                    hashlib.sha256).hexdigest()


def _mobile(raw: str) -> str:
    try:
        phone = normalise_phone(raw)
    except PhoneError:
        phone = ""
    if len(phone) != 11:
        raise InvalidInput("invalid_phone", _("请输入正确的 11 位手机号码"), field="phone")
    return phone


def _limited(actor: Actor, what: str, retry: dt.timedelta, **detail) -> RateLimited:
    audit.record(actor, "denied", "ratelimit", f"ihospital_{what}", attempted=f"ratelimit:ihospital_{what}",
                 **detail)
    return RateLimited(int(retry.total_seconds()))


def request_login_code(phone: str, *, actor: Actor, now: dt.datetime | None = None) -> None:
    """Send a six-digit code to a phone registered for a resident. The answer is the same whether or not the phone
    is registered (no oracle of who is a patient); limited per phone (one a minute, five an hour) and per client
    address (twenty an hour)."""
    now = now or timezone.now()
    phone = _mobile(phone)
    masked = mask_phone(phone)
    recent = LoginCode.objects.filter(phone=phone, created_at__gte=now - PHONE_LIMIT[1])
    if recent.filter(created_at__gte=now - PHONE_GAP).exists():
        raise _limited(actor, "code_gap", PHONE_GAP, phone=masked)
    if recent.count() >= PHONE_LIMIT[0]:
        raise _limited(actor, "code_phone", PHONE_LIMIT[1], phone=masked)
    if actor.ip and LoginCode.objects.filter(ip=actor.ip, created_at__gte=now - IP_LIMIT[1]).count() >= IP_LIMIT[0]:
        raise _limited(actor, "code_ip", IP_LIMIT[1], phone=masked)
    code = f"{secrets.randbelow(10**6):06d}"
    known = Resident.objects.filter(phone=phone, merged_into__isnull=True).exists()
    row = LoginCode.objects.create(phone=phone, digest=_digest(phone, code) if known else "", created_at=now,
                                   expires_at=now + CODE_TTL, ip=actor.ip)
    audit.record(actor, "create", "ihospital_login_code", row.pk, phone=masked, registered=known)
    if known:
        text = _("【医共体互联网医院】您的登录验证码为 %(code)s，5 分钟内有效。请勿告诉他人。") % {"code": code}
        transaction.on_commit(lambda: sms.sender().send(phone, text))


def verify_login_code(phone: str, name: str, code: str, *, actor: Actor,
                      now: dt.datetime | None = None) -> Resident:
    """The resident whose registered phone and name these are, when ``code`` is the phone's latest unexpired,
    unused code (then spent). Real name: the phone must be a resident's and the name that resident's."""
    now = now or timezone.now()
    phone = _mobile(phone)
    masked = mask_phone(phone)
    name = (name or "").strip()
    code = (code or "").strip()
    failed = (LoginCode.objects.filter(phone=phone, created_at__gte=now - FAIL_LIMIT[1])
              .aggregate(n=Sum("attempts"))["n"] or 0)
    if failed >= FAIL_LIMIT[0]:
        raise _limited(actor, "code_attempts", FAIL_LIMIT[1], phone=masked)
    with transaction.atomic():
        row = (LoginCode.objects.select_for_update().filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
               .order_by("-created_at").first())
        ok = (row is not None and row.attempts < MAX_ATTEMPTS and bool(row.digest)
              and hmac.compare_digest(row.digest, _digest(phone, code)))
        if row is not None and not ok:
            row.attempts += 1
            row.save(update_fields=["attempts"])
        resident = None
        if ok:
            matches = list(Resident.objects.filter(phone=phone, name=name, merged_into__isnull=True)[:2])
            resident = matches[0] if len(matches) == 1 else None
            if resident is not None and row is not None:
                row.used_at = now
                row.save(update_fields=["used_at"])
    if not ok:
        audit.record(actor, "login_failed", "ihospital_resident", "", phone=masked, reason="bad_code")
        raise InvalidInput("bad_code", _("验证码错误或已过期，请重新获取"), field="code")
    if resident is None:
        audit.record(actor, "login_failed", "ihospital_resident", "", phone=masked, reason="name_mismatch")
        raise InvalidInput("name_mismatch", _("姓名与该手机号登记的居民信息不一致，请到村卫生室核实登记信息"),
                           field="name")
    audit.record(actor, "login", "ihospital_resident", resident.pk, phone=masked, resident=resident.pk)
    return resident


def _tell_resident(resident: Resident, text: str) -> None:
    """A text to the resident's phone after commit: a generic line (no name, no diagnosis), as ``core.notify``'s
    outside channels; a failing gateway never undoes the work."""
    phone = resident.phone
    if not phone:
        return

    def send() -> None:
        try:
            sms.sender().send(phone, text)
        except Exception:  # the resident sees it on the page anyway
            log.exception("sms sender failed")

    transaction.on_commit(send)


# ---- the resident's consultations --------------------------------------------------------------------------

def _own(p: ResidentPrincipal, consultation_pk: Any, *, lock: bool = False) -> OnlineConsultation:
    qs = OnlineConsultation.objects.filter(resident_id=p.resident_id)
    if lock:
        qs = qs.select_for_update()
    try:
        return qs.get(pk=int(consultation_pk))
    except (OnlineConsultation.DoesNotExist, TypeError, ValueError):
        audit.record(p.actor, "denied", "online_consultation", consultation_pk, resident=p.resident_id)
        raise NotFound(_("问诊不存在")) from None


def answering_facility(visit_facility: Facility) -> Facility | None:
    """Who answers a follow-up: the county hospital or township center that made the diagnosis; a village clinic's
    diagnosis goes to its township center; anything else to the community's lead hospital."""
    level = visit_facility.care_level
    if level in (CareLevel.COUNTY, CareLevel.TOWNSHIP) and visit_facility.community_id:
        return visit_facility
    if level == CareLevel.VILLAGE and visit_facility.parent_id:
        return visit_facility.parent
    community = visit_facility.community
    return community.lead_facility if community is not None else None


def _pictures(files: Sequence[Any]) -> list[images.Image]:
    if len(files) > images.MAX_FILES:
        raise InvalidInput("too_many_files", _("一次最多上传 %(n)s 张图片") % {"n": images.MAX_FILES}, field="pictures")
    return [images.read(f) for f in files]


def _save_message(c: OnlineConsultation, text: str, pics: list[images.Image], *, author: User | None,
                  now: dt.datetime) -> Message:
    m = Message.objects.create(consultation=c, from_resident=author is None, author=author, text=text, at=now)
    Picture.objects.bulk_create([Picture(message=m, content_type=i.content_type, size=len(i.data), data=i.data)
                                 for i in pics])
    return m


def request_consultation(p: ResidentPrincipal, data: Mapping[str, Any], files: Sequence[Any] = (),
                         now: dt.datetime | None = None) -> OnlineConsultation:
    """申请在线复诊 for one of the resident's own eligible diagnoses (``eligibility``), with a description and
    pictures; the doctors of the answering facility are told."""
    from .queries import eligible_diagnoses

    now = now or timezone.now()
    try:
        encounter_id = int(str(data.get("encounter", "")).strip())
    except ValueError:
        encounter_id = 0
    option = eligibility.find(eligible_diagnoses(p.resident, timezone.localdate(now)), encounter_id,
                              str(data.get("icd10", "")))
    if option is None:
        audit.record(p.actor, "denied", "online_consultation", "", resident=p.resident_id,
                     attempted="ihospital.request", reason="not_follow_up")
        raise InvalidInput("not_follow_up", str(eligibility.NOT_ELIGIBLE), field="icd10")
    question = str(data.get("question", "")).strip()
    errors: dict[str, list[str]] = {}
    if not question:
        errors["question"] = [_("请描述目前的病情和想咨询的问题")]
    elif len(question) > 2000:
        errors["question"] = [_("病情描述不能超过 2000 字")]
    if errors:
        raise InvalidInput("invalid_input", errors["question"][0], field="question", errors=errors)
    pics = _pictures(files)
    visit = Facility.objects.select_related("community__lead_facility", "parent").get(pk=option.facility_id)
    facility = answering_facility(visit)
    if facility is None:
        raise Conflict("no_facility", _("暂无可接诊的医疗机构，请到医疗机构线下就诊"))
    with transaction.atomic():
        Resident.objects.select_for_update().filter(pk=p.resident_id).first()  # one open request per diagnosis
        if OnlineConsultation.objects.filter(resident_id=p.resident_id, icd10=option.icd10,
                                             status__in=wf.OPEN).exists():
            raise Conflict("already_open", _("该诊断已有进行中的在线复诊，请在原问诊中继续沟通"))
        c = OnlineConsultation.objects.create(
            resident=p.resident, area_code=p.resident.area_code, facility=facility,
            encounter_id=option.encounter_id, icd10=option.icd10, diagnosis=option.name[:60], question=question,
            requested_at=now)
        _save_message(c, question, pics, author=None, now=now)
        audit.record(p.actor, "create", "online_consultation", c.pk, resident=p.resident_id, pictures=len(pics))
        doctors = User.objects.filter(facility=facility, role=Role.DOCTOR, is_active=True)
        notify(doctors, KIND_NEW, _("新的在线复诊申请：%(dx)s") % {"dx": option.name or option.icd10},
               url=f"/ihospital/c/{c.pk}/", public_title=_("您有一条新的在线复诊申请"))
    return c


def send_message(p: ResidentPrincipal, consultation_pk: Any, text: str, files: Sequence[Any] = (),
                 now: dt.datetime | None = None) -> Message:
    now = now or timezone.now()
    text = (text or "").strip()[:2000]
    pics = _pictures(files)
    if not text and not pics:
        raise InvalidInput("empty_message", _("请输入内容或选择图片"), field="text")
    with transaction.atomic():
        c = _own(p, consultation_pk, lock=True)
        if c.status not in wf.OPEN:
            raise Conflict("closed", _("问诊已%(status)s，不能再发送消息") % {"status": c.get_status_display()})
        m = _save_message(c, text, pics, author=None, now=now)
        audit.record(p.actor, "create", "online_message", m.pk, resident=p.resident_id, consultation=c.pk)
    return m


def cancel_consultation(p: ResidentPrincipal, consultation_pk: Any, reason: str = "",
                        now: dt.datetime | None = None) -> OnlineConsultation:
    now = now or timezone.now()
    with transaction.atomic():
        c = _own(p, consultation_pk, lock=True)
        c.status = wf.check_move(c.status, "cancel")
        c.reason, c.closed_at = (reason or "").strip()[:200], now
        c.save(update_fields=["status", "reason", "closed_at"])
        audit.record(p.actor, "update", "online_consultation", c.pk, resident=p.resident_id, move="cancel")
    return c


def choose_delivery(p: ResidentPrincipal, consultation_pk: Any, mode: str, address: str = "") -> Delivery:
    """The resident picks the village clinic (pickup) or home (with an address) while nothing is shipped."""
    address = (address or "").strip()[:200]
    if mode not in DeliveryMode.values:
        raise InvalidInput("invalid_mode", _("请选择配送方式"), field="mode")
    if mode == DeliveryMode.HOME and not address:
        raise InvalidInput("address_required", _("送药到家请填写收货地址"), field="address")
    with transaction.atomic():
        c = _own(p, consultation_pk)
        d = Delivery.objects.select_for_update().filter(consultation=c).first()
        if d is None:
            raise Conflict("no_delivery", _("医生开具处方后才能选择配送方式"))
        if d.status != DeliveryStatus.PENDING:
            raise Conflict("already_shipped", _("药品已发货，不能再修改配送方式"))
        d.mode, d.address = mode, address if mode == DeliveryMode.HOME else ""
        d.save(update_fields=["mode", "address"])
        audit.record(p.actor, "update", "ihospital_delivery", d.pk, resident=p.resident_id, mode=mode)
    return d


# ---- payment -----------------------------------------------------------------------------------------------

def amount_due(c: OnlineConsultation) -> Decimal:
    """复诊诊查费 plus the prescribed medicines at the catalogue's prices (when the prescribing app has them)."""
    fee = Decimal(str(getattr(settings, "YIGONGTI_IHOSPITAL_FEE", DEFAULT_FEE)))
    rx = prescription_of(c)
    total = Decimal(rx.amount) if rx is not None and rx.amount is not None else Decimal("0")
    return (fee + total).quantize(Decimal("0.01"))


def start_payment(p: ResidentPrincipal, consultation_pk: Any, now: dt.datetime | None = None) -> tuple[Payment, str]:
    """The consultation's open payment (made now if there is none) and where the resident goes to pay."""
    now = now or timezone.now()
    gw = gateway.gateway()
    with transaction.atomic():
        c = _own(p, consultation_pk, lock=True)
        if c.payments.filter(status=PaymentStatus.PAID).exists():
            raise Conflict("already_paid", _("该问诊已支付"))
        if c.status in (Status.REQUESTED, Status.DECLINED, Status.CANCELLED, Status.EXPIRED):
            raise Conflict("not_payable", _("医生接诊后才能支付"))
        pay = c.payments.filter(status__in=[PaymentStatus.UNPAID, PaymentStatus.PENDING]).first()
        if pay is None:
            pay = Payment.objects.create(consultation=c, out_trade_no=f"IH{now:%Y%m%d}{secrets.token_hex(6).upper()}",
                                         amount=amount_due(c), gateway=gw.name, created_at=now)
            audit.record(p.actor, "create", "ihospital_payment", pay.pk, resident=p.resident_id, amount=pay.amount)
        pay.status = PaymentStatus.PENDING
        pay.save(update_fields=["status"])
    return pay, gw.start(pay)


def handle_payment_notice(data: Mapping[str, Any], *, actor: Actor | None = None,
                          now: dt.datetime | None = None) -> Payment:
    """The gateway's callback: check the signature, keep the notice once (its id is unique), settle the payment.
    The same notice again, or any notice on a paid payment, changes nothing (counts once)."""
    now = now or timezone.now()
    actor = actor or Actor.system("payment-gateway")
    notice = gateway.gateway().parse_notice(dict(data))
    with transaction.atomic():
        pay = Payment.objects.select_for_update().filter(out_trade_no=notice.out_trade_no).first()
        if pay is None:
            raise NotFound(_("支付订单不存在"))
        if notice.amount != pay.amount:
            raise InvalidInput("amount_mismatch", _("支付通知金额与订单金额不一致"))
        if PaymentNotice.objects.filter(notice_id=notice.notice_id).exists():
            return pay
        try:
            with transaction.atomic():
                PaymentNotice.objects.create(payment=pay, notice_id=notice.notice_id, success=notice.success,
                                             received_at=now)
        except IntegrityError:  # the same notice delivered twice at once
            return pay
        if pay.status != PaymentStatus.PAID:
            pay.status = PaymentStatus.PAID if notice.success else PaymentStatus.FAILED
            pay.gateway_txn = notice.txn
            pay.paid_at = now if notice.success else None
            pay.save(update_fields=["status", "gateway_txn", "paid_at"])
            audit.record(actor, "update", "ihospital_payment", pay.pk, status=pay.status,
                         consultation=pay.consultation_id)
    return pay


# ---- the doctor --------------------------------------------------------------------------------------------

def _locked(pk: Any) -> OnlineConsultation:
    try:
        return OnlineConsultation.objects.select_for_update().get(pk=int(pk))
    except (OnlineConsultation.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("问诊不存在或无权访问")) from None


def _move(actor: Actor, c: OnlineConsultation, action: str, *, reason: str = "",
          now: dt.datetime | None = None, **changes) -> OnlineConsultation:
    now = now or timezone.now()
    check(actor, "ihospital.consult", c)
    with transaction.atomic():
        c = _locked(c.pk)
        c.status = wf.check_move(c.status, action, reason)
        fields = {"status", *changes}
        for k, v in changes.items():
            setattr(c, k, v)
        if action == "accept":
            c.accepted_at, c.doctor = now, actor.user
            fields |= {"accepted_at", "doctor"}
        if action in ("decline", "close"):
            c.closed_at, c.reason = now, reason.strip()[:200]
            fields |= {"closed_at", "reason"}
        c.save(update_fields=sorted(fields))
        audit.record(actor, "update", "online_consultation", c.pk, resident=c.resident_id, move=action)
    return c


def accept_consultation(actor, c: OnlineConsultation, now: dt.datetime | None = None) -> OnlineConsultation:
    return _move(actor_of(actor), c, "accept", now=now)


def decline_consultation(actor, c: OnlineConsultation, reason: str,
                         now: dt.datetime | None = None) -> OnlineConsultation:
    return _move(actor_of(actor), c, "decline", reason=reason, now=now)


def close_consultation(actor, c: OnlineConsultation, reason: str = "",
                       now: dt.datetime | None = None) -> OnlineConsultation:
    return _move(actor_of(actor), c, "close", reason=reason, now=now)


def check_video_url(url: str) -> str:
    from urllib.parse import urlsplit

    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 200:
        raise InvalidInput("invalid_url", _("视频问诊链接应为 http:// 或 https:// 开头的网址"), field="video_url")
    return url


def reply(actor, c: OnlineConsultation, text: str, video_url: str | None = None,
          now: dt.datetime | None = None) -> Message:
    """The doctor writes to the resident (accepting the request first if nobody had), optionally with the link of
    the county's video-meeting service."""
    actor = actor_of(actor)
    now = now or timezone.now()
    text = (text or "").strip()[:2000]
    url = check_video_url(video_url) if video_url is not None else None
    if not text and not url:
        raise InvalidInput("empty_message", _("请输入回复内容"), field="text")
    check(actor, "ihospital.consult", c)
    with transaction.atomic():
        c = _locked(c.pk)
        if c.status == Status.REQUESTED:
            wf.check_move(c.status, "accept")
            c.status, c.accepted_at, c.doctor = Status.ACCEPTED, now, actor.user
        c.status = wf.check_move(c.status, "reply")
        c.first_reply_at = c.first_reply_at or now
        if url is not None:
            c.video_url = url
        c.save(update_fields=["status", "accepted_at", "doctor", "first_reply_at", "video_url"])
        m = _save_message(c, text or _("视频问诊链接：%(url)s") % {"url": url}, [], author=actor.user, now=now)
        audit.record(actor, "create", "online_message", m.pk, resident=c.resident_id, consultation=c.pk)
        _tell_resident(c.resident, _("【医共体互联网医院】医生已回复您的在线复诊，请登录查看。"))
    return m


def _rx():
    from yigongti.prescribing import services as rx  # the prescribing app (helper "rx"); loaded when used

    return rx


def prescription_of(c: OnlineConsultation):
    if not c.prescription_ref:
        return None
    try:
        from yigongti.prescribing.models import Prescription
    except ImportError:  # the prescribing app is not installed
        return None
    return Prescription.objects.filter(pk=c.prescription_ref).first()


def resident_clinic(resident: Resident) -> Facility | None:
    """The village clinic of the resident's village (where a pickup goes)."""
    if not resident.village_id:
        return None
    return Facility.objects.filter(region_id=resident.village_id, type=FacilityType.VILLAGE_CLINIC,
                                   is_active=True).order_by("code").first()


def prescribe(actor, c: OnlineConsultation, data: Mapping[str, Any], now: dt.datetime | None = None):
    """开具电子处方 for the consultation's diagnosis through ``prescribing.services.create_prescription`` (source
    "ihospital"); the rule engine decides whether a pharmacist reviews it first. A delivery to the resident's
    village clinic is opened (the resident may choose home)."""
    actor = actor_of(actor)
    now = now or timezone.now()
    check(actor, "ihospital.consult", c)
    wf.check_move(OnlineConsultation.objects.values_list("status", flat=True).get(pk=c.pk), "prescribe")
    lines = list(data.get("lines") or [])
    if not lines:
        raise InvalidInput("no_lines", _("请至少开具一种药品"), field="lines")
    payload = {"resident": c.resident_id, "facility": c.facility_id, "source": "ihospital",
               "source_ref": f"consultation:{c.pk}", "kind": data.get("kind") or "normal",
               "diagnoses": [c.icd10, *[d for d in data.get("diagnoses", []) if d != c.icd10]], "lines": lines}
    for key in ("weight_kg", "pregnant", "days_reason"):
        if data.get(key) not in (None, ""):
            payload[key] = data[key]
    # the prescribing app checks its own verb and audits its refusal: called outside our transaction
    prescription = _rx().create_prescription(actor, payload)
    with transaction.atomic():
        locked = _locked(c.pk)
        locked.status = wf.check_move(locked.status, "prescribe")
        locked.prescription_ref, locked.prescribed_at = prescription.pk, now
        locked.doctor = locked.doctor or actor.user
        locked.accepted_at = locked.accepted_at or now
        locked.save(update_fields=["status", "prescription_ref", "prescribed_at", "doctor", "accepted_at"])
        Delivery.objects.get_or_create(consultation=locked, defaults={
            "clinic": resident_clinic(locked.resident), "created_at": now})
        audit.record(actor, "update", "online_consultation", c.pk, resident=c.resident_id, move="prescribe",
                     prescription=prescription.pk)
    return prescription


def review(actor, c: OnlineConsultation, decision: str, reason: str = ""):
    """The pharmacist's 审核 of the consultation's prescription (``prescribing.services.review_prescription``)."""
    c = OnlineConsultation.objects.get(pk=c.pk)  # the caller's copy may predate the prescription
    rx = prescription_of(c)
    if rx is None:
        raise Conflict("no_prescription", _("该问诊尚未开具处方"))
    return _rx().review_prescription(actor_of(actor), rx, decision=decision, reason=reason)


def dispensing_facility(c: OnlineConsultation, herbal: bool = False) -> Facility:
    """Where the medicines are dispensed: the shared TCM center for herbal prescriptions (中药饮片), else the
    county pharmacy (the distribution center's facility), else the answering facility."""
    from yigongti.pharmacy.models import DistributionCenter

    center = DistributionCenter.objects.filter(community_id=c.facility.community_id).first()
    if center is not None:
        if herbal and center.tcm_facility is not None:
            return center.tcm_facility
        return center.facility
    return c.facility


def dispense(actor, c: OnlineConsultation, *, facility: Facility | None = None, trace_codes: Sequence[str] = (),
             now: dt.datetime | None = None):
    """发药 at the county pharmacy or the shared TCM center (``prescribing.services.dispense``); the delivery then
    waits to be shipped (待发货), with the dispensing time it measures from."""
    actor = actor_of(actor)
    now = now or timezone.now()
    c = OnlineConsultation.objects.select_related("facility").get(pk=c.pk)
    rx = prescription_of(c)
    if rx is None:
        raise Conflict("no_prescription", _("该问诊尚未开具处方"))
    herbal = any(getattr(line.item, "kind", "") == "herbal" for line in rx.lines.select_related("item"))
    where = facility or dispensing_facility(c, herbal)
    done = _rx().dispense(actor, rx, facility=where, trace_codes=trace_codes, at=now)  # its verb, its audit
    with transaction.atomic():
        d = Delivery.objects.select_for_update().get(consultation_id=c.pk)
        d.from_facility, d.dispensed_at = where, d.dispensed_at or now
        d.save(update_fields=["from_facility", "dispensed_at"])
        audit.record(actor, "update", "ihospital_delivery", d.pk, resident=c.resident_id, move="dispensed")
    return done


# ---- delivery ----------------------------------------------------------------------------------------------

STAMP: dict[str, str] = {DeliveryStatus.SHIPPED: "shipped_at", DeliveryStatus.DELIVERED: "delivered_at",
                         DeliveryStatus.PICKED_UP: "picked_up_at"}
ORDER: list[str] = [DeliveryStatus.PENDING, DeliveryStatus.SHIPPED, DeliveryStatus.DELIVERED,
                    DeliveryStatus.PICKED_UP]


def move_delivery(actor, delivery: Delivery, action: str, now: dt.datetime | None = None) -> Delivery:
    """发货 (ship: a pharmacist, after dispensing), 送达 (deliver), 取药 (pick up at the clinic). A move already made
    (a village's flaky network sending it twice) returns the delivery unchanged: it counts once. A home delivery
    or a collected pickup closes the consultation."""
    actor = actor_of(actor)
    now = now or timezone.now()
    check(actor, "ihospital.deliver", delivery)
    if action not in wf.DELIVERY_MOVES:
        raise InvalidInput("unknown_action", _("未知的操作"))
    user = actor.user
    if action == "ship" and user is not None and user.role != Role.PHARMACIST:
        raise Forbidden(_("只有药师可以发货"), code="permission_denied")
    with transaction.atomic():
        d = Delivery.objects.select_for_update().select_related("consultation").get(pk=delivery.pk)
        target = wf.DELIVERY_MOVES[action][1]
        if ORDER.index(d.status) >= ORDER.index(target):
            return d  # already done: counts once
        if action == "ship" and d.dispensed_at is None:
            raise Conflict("not_dispensed", _("药品尚未发药，不能发货"))
        d.status = wf.check_delivery_move(d.status, action, d.mode)
        setattr(d, STAMP[d.status], now)
        d.save(update_fields=["status", STAMP[d.status]])
        finished = d.status == DeliveryStatus.PICKED_UP or (d.status == DeliveryStatus.DELIVERED
                                                           and d.mode == DeliveryMode.HOME)
        c = d.consultation
        if finished and c.status == Status.PRESCRIBED:
            OnlineConsultation.objects.filter(pk=c.pk).update(status=Status.CLOSED, closed_at=now)
        audit.record(actor, "update", "ihospital_delivery", d.pk, resident=c.resident_id, move=action)
        if d.status == DeliveryStatus.DELIVERED:
            _tell_resident(c.resident, _("【医共体互联网医院】您的处方药品已送达，请登录查看。")
                           if d.mode == DeliveryMode.HOME else
                           _("【医共体互联网医院】您的处方药品已送达村卫生室，请前往取药。"))
    return d


def expire_overdue(now: dt.datetime | None = None) -> int:
    """Requests nobody accepted within ``workflow.EXPIRE_HOURS`` expire (the worker's job; the system acts)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=wf.EXPIRE_HOURS)
    ids = list(OnlineConsultation.objects.filter(status=Status.REQUESTED, requested_at__lte=cutoff)
               .values_list("pk", flat=True))
    if ids:
        with transaction.atomic():
            n = OnlineConsultation.objects.filter(pk__in=ids, status=Status.REQUESTED).update(
                status=Status.EXPIRED, closed_at=now)
            audit.record(Actor.system("ihospital"), "update", "online_consultation", "", move="expire", ids=ids)
        return n
    return 0
