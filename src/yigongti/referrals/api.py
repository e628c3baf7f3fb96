"""/api/v1/referrals: the same use cases as the pages (to be mapped to FHIR ServiceRequest/Task)."""

from django.conf import settings
from ninja import Field, Query, Router, Schema, Status

from yigongti.core.errors import Forbidden, InvalidInput

from . import queries, services
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
)

router = Router(tags=["双向转诊"])


class ListQuery(Schema):
    box: str = Field("todo", description="todo 待办 / in 转入 / out 转出 / center 转诊中心待处理")
    page: int = Field(1, ge=1)
    page_size: int = Field(settings.YIGONGTI_PAGE_SIZE, ge=1, le=settings.YIGONGTI_MAX_PAGE_SIZE)


def _page(p):
    return {"items": p.items, "page": p.number, "page_size": p.size, "has_next": p.has_next, "count": p.count}


@router.get("", response=ReferralPage)
def list_referrals(request, params: Query[ListQuery]):
    if params.box == "center":
        if not services.center_ids_of(request.user):
            raise Forbidden("只有转诊服务中心的工作人员可以查看转诊队列")
        return _page(queries.center_queue(request, "pending", params.page, params.page_size))
    return _page(queries.my_referrals(request, params.box, params.page, params.page_size))


@router.post("", response={201: ReferralDetailOut})
def submit_referral(request, payload: ReferralIn):
    """Submit a referral. A retry with the same `idempotency_key` (or `Idempotency-Key` header) returns the
    first referral. 422 `guideline_warning`: the guideline says to treat here; send `override_reason`."""
    data = payload.dict()
    key = data.pop("idempotency_key") or request.META.get("HTTP_IDEMPOTENCY_KEY", "")
    return Status(201, services.submit_referral(request, request.user, data, key))


@router.get("/guideline", response=GuidelineOut)
def check_guideline(request, icd10: str, direction: str = "up", to_level: str = CareLevel.COUNTY):
    if not request.user.facility_id:
        raise InvalidInput("no_facility", "账号未关联医疗机构")
    advice = services.check_guideline(icd10, direction, request.user.facility, to_level)
    return {"rule": advice.rule.name if advice.rule else None, "level": advice.rule.level if advice.rule else None,
            "warning": advice.warning}


@router.get("/rules", response=list[RuleOut])
def list_rules(request):
    return list(queries.guideline_rules())


@router.get("/{int:pk}", response=ReferralDetailOut)
def get_referral(request, pk: int):
    return queries.get_referral_for(request, pk)


@router.post("/{int:pk}/submit", response=ReferralDetailOut)
def submit_draft(request, pk: int):
    queries.get_referral_for(request, pk)
    return services.submit_draft(request, request.user, pk)


@router.post("/{int:pk}/accept", response=ReferralDetailOut)
def accept(request, pk: int, payload: AcceptIn):
    queries.get_referral_for(request, pk)
    return services.accept_referral(request, request.user, pk, **payload.dict())


@router.post("/{int:pk}/redirect", response=ReferralDetailOut)
def redirect(request, pk: int, payload: RedirectIn):
    queries.get_referral_for(request, pk)
    return services.redirect_referral(request, request.user, pk, **payload.dict())


@router.post("/{int:pk}/decline", response=ReferralDetailOut)
def decline(request, pk: int, payload: ReasonIn):
    queries.get_referral_for(request, pk)
    return services.decline_referral(request, request.user, pk, reason=payload.reason)


@router.post("/{int:pk}/arrive", response=ReferralDetailOut)
def arrive(request, pk: int):
    queries.get_referral_for(request, pk)
    return services.arrive_referral(request, request.user, pk)


@router.post("/{int:pk}/complete", response=ReferralDetailOut)
def complete(request, pk: int, payload: CompleteIn):
    queries.get_referral_for(request, pk)
    return services.complete_referral(request, request.user, pk, outcome=payload.outcome, note=payload.note)


@router.post("/{int:pk}/cancel", response=ReferralDetailOut)
def cancel(request, pk: int, payload: ReasonIn):
    queries.get_referral_for(request, pk)
    return services.cancel_referral(request, request.user, pk, reason=payload.reason)


@router.post("/{int:pk}/follow-ups/{int:fid}", response=FollowUpOut)
def record_follow_up(request, pk: int, fid: int, payload: FollowUpIn):
    queries.get_referral_for(request, pk)
    return services.record_follow_up(request, request.user, pk, fid, note=payload.note, status=payload.status)
