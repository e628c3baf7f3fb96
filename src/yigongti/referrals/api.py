"""/api/v1/referrals: the same use cases as the pages (to be mapped to FHIR ServiceRequest/Task)."""

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.errors import Forbidden, NotFound
from yigongti.core.paging import page_dict, page_field, size_field

from . import queries, services, sheet
from .models import CareLevel
from .schemas import (
    AcceptIn,
    CompleteIn,
    FollowUpIn,
    FollowUpOut,
    GuidelineOut,
    ReasonIn,
    RedirectIn,
    ReferralDetailOut,
    ReferralIn,
    ReferralPage,
    RuleOut,
    SlotsOut,
)

router = Router(tags=["双向转诊"])


class ListQuery(Schema):
    box: str = Field("todo", description="todo 待办 / in 转入 / out 转出 / center 转诊中心待处理")
    q: str = Field("", max_length=40, description="患者姓名（汉字前缀、全拼或首字母）")
    township: str = Field("", max_length=12, description="患者所在乡镇（12位区划代码）")
    village: str = Field("", max_length=12, description="患者所在村（12位区划代码）")
    facility: str = Field("", max_length=12, description="转出或接收机构的ID")
    page: int = page_field()
    page_size: int = size_field()


@router.get("", response=ReferralPage)
def list_referrals(request, params: Query[ListQuery]):
    f = queries.ReferralFilter.from_query(params.dict())
    if params.box == "center":
        if not services.center_ids_of(request.user):
            raise Forbidden(_("只有转诊服务中心的工作人员可以查看转诊队列"))
        return page_dict(queries.center_queue(Actor.from_request(request), "pending", params.page, params.page_size,
                                              f=f))
    return page_dict(queries.my_referrals(Actor.from_request(request), params.box, params.page, params.page_size, f=f))


@router.post("", response={201: ReferralDetailOut})
def submit_referral(request, payload: ReferralIn):
    """Submit a referral. A retry with the same `idempotency_key` (or `Idempotency-Key` header) returns the
    first referral. 422 `guideline_warning`: the guideline says to treat here; send `override_reason`."""
    key = payload.idempotency_key or request.META.get("HTTP_IDEMPOTENCY_KEY", "")
    return Status(201, services.submit_referral(payload, key, actor=Actor.from_request(request)))


class GuidelineQuery(Schema):
    icd10: str
    direction: str = "up"
    to_level: str = CareLevel.COUNTY
    meets_up_criteria: bool = False
    pregnancy_risk: str = ""
    ecg_changes: bool = False
    major_trauma: bool = False


@router.get("/guideline", response=GuidelineOut)
def check_guideline(request, q: Query[GuidelineQuery]):
    """What the guideline says (warning, 上转指征 met, designated hospital) and whether the green channel applies."""
    advice, green = services.guideline_advice(request.user, q.icd10, q.direction, q.to_level,
                                              meets_up=q.meets_up_criteria, pregnancy_risk=q.pregnancy_risk,
                                              ecg_changes=q.ecg_changes, major_trauma=q.major_trauma)
    rule = advice.rule
    return {"rule": rule.name if rule else None, "level": rule.level if rule else None,
            "treat_level": rule.treat_level if rule else None, "warning": advice.warning, "note": advice.note,
            "meets_up": advice.meets_up, "green_channel": green}


@router.get("/rules", response=list[RuleOut])
def list_rules(request):
    return list(queries.guideline_rules())


@router.get("/{int:pk}", response=ReferralDetailOut)
def get_referral(request, pk: int):
    return queries.get_referral_for(Actor.from_request(request), pk)


@router.post("/{int:pk}/submit", response=ReferralDetailOut)
def submit_draft(request, pk: int):
    queries.check_visible(Actor.from_request(request), pk)
    return services.submit_draft(pk, actor=Actor.from_request(request))


@router.get("/{int:pk}/capacity", response=SlotsOut)
def capacity(request, pk: int, department: int):
    """The receiving department's free appointment slots (next 7 days) and free beds, to choose from."""
    r = queries.get_referral_for(Actor.from_request(request), pk)
    dept = queries.receiving_department(r, str(department))
    if dept is None:
        raise NotFound(_("科室不属于接收机构"))
    cap = queries.capacity_of(dept, exclude=r.pk)
    return {"department": dept.pk, "slots": cap.slots, "beds": cap.beds, "beds_total": cap.beds_total,
            "occupied": cap.occupied}


@router.get("/{int:pk}/print")
def print_sheet(request, pk: int, size: str = "a4"):
    """The printable 转诊单 as HTML (``size`` a4 or 80mm) with the QR code of the referral number."""
    r = queries.get_referral_for(Actor.from_request(request), pk)
    return HttpResponse(render_to_string("referrals/referral_print.html", sheet.context(r, size), request))


@router.get("/{int:pk}/qr.svg")
def qr(request, pk: int):
    """The QR code of the referral number (SVG)."""
    r = queries.get_referral_for(Actor.from_request(request), pk)
    return HttpResponse(sheet.qr_svg(r.number), content_type="image/svg+xml")


@router.post("/{int:pk}/accept", response=ReferralDetailOut)
def accept(request, pk: int, payload: AcceptIn):
    queries.check_visible(Actor.from_request(request), pk)
    return services.accept_referral(pk, payload, actor=Actor.from_request(request))


@router.post("/{int:pk}/redirect", response=ReferralDetailOut)
def redirect(request, pk: int, payload: RedirectIn):
    queries.check_visible(Actor.from_request(request), pk)
    return services.redirect_referral(pk, payload, actor=Actor.from_request(request))


@router.post("/{int:pk}/decline", response=ReferralDetailOut)
def decline(request, pk: int, payload: ReasonIn):
    queries.check_visible(Actor.from_request(request), pk)
    return services.decline_referral(pk, actor=Actor.from_request(request), reason=payload.reason)


@router.post("/{int:pk}/arrive", response=ReferralDetailOut)
def arrive(request, pk: int):
    queries.check_visible(Actor.from_request(request), pk)
    return services.arrive_referral(pk, actor=Actor.from_request(request))


@router.post("/{int:pk}/no-show", response=ReferralDetailOut)
def no_show(request, pk: int):
    """未到诊: the accepted patient never came (its own end state)."""
    queries.check_visible(Actor.from_request(request), pk)
    return services.no_show_referral(pk, actor=Actor.from_request(request))


@router.post("/{int:pk}/complete", response=ReferralDetailOut)
def complete(request, pk: int, payload: CompleteIn):
    """完成: ``outcome`` is the 离院方式 of the 病案首页 (1/2/3/4/5/9), ``treatment_result`` the result."""
    queries.check_visible(Actor.from_request(request), pk)
    return services.complete_referral(pk, payload, actor=Actor.from_request(request))


@router.post("/{int:pk}/cancel", response=ReferralDetailOut)
def cancel(request, pk: int, payload: ReasonIn):
    queries.check_visible(Actor.from_request(request), pk)
    return services.cancel_referral(pk, actor=Actor.from_request(request), reason=payload.reason)


@router.post("/{int:pk}/follow-ups/{int:fid}", response=FollowUpOut)
def record_follow_up(request, pk: int, fid: int, payload: FollowUpIn):
    queries.check_visible(Actor.from_request(request), pk)
    return services.record_follow_up(pk, fid, actor=Actor.from_request(request), note=payload.note,
                                     status=payload.status)
