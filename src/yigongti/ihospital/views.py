"""Pages of the internet hospital.

Resident (phone-first, 390 px; ``principal.resident_required``): login with phone + name + code, home (eligible
diagnoses and my consultations), new consultation, the conversation with the prescription, delivery and payment.
Staff: the consultation queue, one consultation (shared record, reply, prescribe, review, dispense), the delivery
board. The gateway: the simulated payment page and the callback (idempotent)."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, Forbidden
from yigongti.core.pages import domain_errors_as_pages
from yigongti.core.uploads import check_request_size
from yigongti.orgs.models import Role
from yigongti.orgs.permissions import can, has_role

from . import eligibility, gateway, principal, queries, services
from . import workflow as wf
from .models import Payment

FREQUENCIES = (("qd", _("每日一次")), ("bid", _("每日两次")), ("tid", _("每日三次")), ("qn", _("每晚一次")),
               ("prn", _("必要时")))


def _error(request, e: DomainError) -> None:
    if e.status in (403, 404):
        raise e
    messages.error(request, e.message)


# ---- resident ----------------------------------------------------------------------------------------------

@domain_errors_as_pages
def login(request):
    """Step one sends the code (``action=send``), step two checks it (``action=verify``)."""
    actor = principal.resident_actor(request)
    form = {"phone": request.POST.get("phone", "").strip()[:20], "name": request.POST.get("name", "").strip()[:40]}
    sent, errors = False, {}
    if request.method == "POST":
        try:
            if request.POST.get("action") == "send":
                services.request_login_code(form["phone"], actor=actor)
                sent = True
                messages.info(request, _("如果该手机号已在医共体登记，验证码已发送，5 分钟内有效"))
            else:
                sent = True
                resident = services.verify_login_code(form["phone"], form["name"], request.POST.get("code", ""),
                                                      actor=actor)
                principal.log_in(request, resident)
                nxt = request.POST.get("next", "")
                ok = url_has_allowed_host_and_scheme(nxt, {request.get_host()}) and nxt.startswith("/ihospital/m/")
                return redirect(nxt if ok else reverse("ihospital:home"))
        except DomainError as e:
            if e.status == 429:
                raise
            errors = e.errors or {"__all__": [e.message]}
            messages.error(request, e.message)
    resp = render(request, "ihospital/m_login.html", {"form": form, "sent": sent, "errors": errors,
                                                       "next": request.GET.get("next", request.POST.get("next", ""))},
                  status=422 if errors else 200)
    resp["Cache-Control"] = "no-store"
    return resp


@require_POST
def logout(request):
    principal.log_out(request)
    return redirect("ihospital:login")


@principal.resident_required
def home(request):
    p = request.resident
    return render(request, "ihospital/m_home.html", {
        "p": p, "eligible": queries.my_eligible(p), "consultations": queries.my_consultations(p),
        "no_diagnosis": str(eligibility.NO_DIAGNOSIS)})


@principal.resident_required
@domain_errors_as_pages
def new(request):
    p = request.resident
    options = queries.my_eligible(p)
    form = {"encounter": request.GET.get("encounter", ""), "icd10": request.GET.get("icd10", ""), "question": ""}
    errors: dict = {}
    if request.method == "POST":
        form = request.POST.dict()
        try:
            check_request_size(request)
            c = services.request_consultation(p, form, request.FILES.getlist("pictures"))
            messages.success(request, _("已提交在线复诊申请，医生接诊后会在这里回复您"))
            return redirect("ihospital:conversation", pk=c.pk)
        except DomainError as e:
            _error(request, e)
            errors = e.errors or {"__all__": [e.message]}
    return render(request, "ihospital/m_new.html", {"p": p, "options": options, "form": form, "errors": errors,
                                                     "no_diagnosis": str(eligibility.NO_DIAGNOSIS)},
                  status=422 if errors else 200)


@principal.resident_required
@domain_errors_as_pages
def conversation(request, pk: int):
    p = request.resident
    if request.method == "POST":
        try:
            action = request.POST.get("action", "message")
            if action == "cancel":
                services.cancel_consultation(p, pk, request.POST.get("reason", ""))
                messages.success(request, _("已取消"))
            elif action == "delivery":
                services.choose_delivery(p, pk, request.POST.get("mode", ""), request.POST.get("address", ""))
                messages.success(request, _("已保存配送方式"))
            else:
                check_request_size(request)
                services.send_message(p, pk, request.POST.get("text", ""), request.FILES.getlist("pictures"))
        except DomainError as e:
            _error(request, e)
        return redirect("ihospital:conversation", pk=pk)
    c = queries.my_consultation(p, pk)
    d = queries.delivery_of(c)
    return render(request, "ihospital/m_conversation.html", {
        "p": p, "c": c, "msgs": queries.messages_of(c), "delivery": d, "steps": queries.timeline(d),
        "prescription": services.prescription_of(c), "payment": c.payments.order_by("-created_at").first(),
        "may_cancel": "cancel" in wf.allowed(c.status, "resident"), "open": c.status in wf.OPEN,
        "modes": wf.DeliveryMode.choices, "amount": services.amount_due(c) if c.prescription_ref else None})


@principal.resident_required
@domain_errors_as_pages
def my_picture(request, pk: int, picture: int):
    c = queries.my_consultation(request.resident, pk)
    pic = queries.picture_of(c, picture)
    return HttpResponse(bytes(pic.data), content_type=pic.content_type)


@principal.resident_required
@domain_errors_as_pages
@require_POST
def pay(request, pk: int):
    try:
        _payment, url = services.start_payment(request.resident, pk)
    except DomainError as e:
        _error(request, e)
        return redirect("ihospital:conversation", pk=pk)
    return redirect(url)


@principal.resident_required
@domain_errors_as_pages
def sim_pay(request, out_trade_no: str):
    """The simulated gateway's page: confirm or fail; posts a signed notice through the same handler as the
    callback."""
    pay_row = Payment.objects.filter(out_trade_no=out_trade_no[:32],
                                     consultation__resident_id=request.resident.resident_id).first()
    if pay_row is None:
        return render(request, "error.html", {"status": 404, "message": _("支付订单不存在")}, status=404)
    gw = gateway.gateway()
    if request.method == "POST" and isinstance(gw, gateway.SimulatedGateway):
        notice = gw.notice_for(pay_row, success=request.POST.get("result") == "success",
                               notice_id=secrets.token_hex(16))
        services.handle_payment_notice(notice, actor=request.resident.actor)
        return redirect("ihospital:conversation", pk=pay_row.consultation_id)
    return render(request, "ihospital/m_sim_pay.html", {"payment": pay_row})


@csrf_exempt
@require_POST
def payment_notify(request):
    """The gateway's callback (server to server): 200 "success" once the notice is kept, again for a repeat."""
    data = request.POST.dict() or {}
    if not data and request.body:
        import json

        try:
            data = json.loads(request.body)
        except ValueError:
            data = {}
    try:
        pay_row = services.handle_payment_notice(data)
    except DomainError as e:
        return JsonResponse({"code": e.code, "message": e.message}, status=e.status)
    return JsonResponse({"result": "success", "status": pay_row.status})


# ---- staff -------------------------------------------------------------------------------------------------

def _gate(request) -> None:
    if not queries.may_see_queue(request.user):
        raise Forbidden(_("只有医生、药师和乡村医生可以查看互联网医院的问诊"))


@login_required
@domain_errors_as_pages
def queue(request):
    _gate(request)
    tab = request.GET.get("tab", "open") if request.GET.get("tab") in ("open", "all") else "open"
    return render(request, "ihospital/queue.html", {"rows": queries.queue(Actor.from_request(request), tab),
                                                     "tab": tab})


def _item_choices(c):
    from yigongti.pharmacy.models import Item

    return list(Item.objects.filter(community_id=c.facility.community_id, is_active=True)
                .order_by("generic_name")[:400]) if c.facility.community_id else []


def _line(post, i: int) -> dict | None:
    item = post.get(f"item_{i}", "").strip()
    if not item:
        return None
    return {"item": item, "dose": post.get(f"dose_{i}", "").strip(), "unit": post.get(f"unit_{i}", "").strip(),
            "frequency": post.get(f"frequency_{i}", "qd"), "route": "po", "days": post.get(f"days_{i}", "").strip(),
            "quantity": post.get(f"quantity_{i}", "").strip()}


@login_required
@domain_errors_as_pages
def detail(request, pk: int):
    _gate(request)
    actor = Actor.from_request(request)
    c = queries.get_consultation_for(actor, pk)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "accept":
                services.accept_consultation(actor, c)
            elif action == "reply":
                services.reply(actor, c, request.POST.get("text", ""), request.POST.get("video_url"))
            elif action == "decline":
                services.decline_consultation(actor, c, request.POST.get("reason", ""))
            elif action == "close":
                services.close_consultation(actor, c, request.POST.get("reason", ""))
            elif action == "prescribe":
                lines = [ln for ln in (_line(request.POST, i) for i in range(3)) if ln]
                services.prescribe(actor, c, {"lines": lines, "kind": request.POST.get("kind", "normal")})
                messages.success(request, _("已开具电子处方"))
            elif action in ("approve", "reject"):
                services.review(actor, c, action, request.POST.get("reason", ""))
                messages.success(request, _("审核结果已保存"))
            elif action == "dispense":
                codes = [x.strip() for x in request.POST.get("trace_codes", "").split() if x.strip()]
                services.dispense(actor, c, trace_codes=codes)
                messages.success(request, _("已发药，待发货"))
            else:
                messages.error(request, _("未知的操作"))
        except DomainError as e:
            _error(request, e)
        return redirect("ihospital:detail", pk=pk)
    d = queries.delivery_of(c)
    return render(request, "ihospital/detail.html", {
        "c": c, "msgs": queries.messages_of(c), "record": queries.shared_record(actor, c),
        "prescription": services.prescription_of(c), "delivery": d, "steps": queries.timeline(d),
        "may_consult": can(request.user, "ihospital.consult", c),
        "actions": wf.allowed(c.status, "doctor"),
        "is_pharmacist": has_role(request.user, Role.PHARMACIST),
        "items": _item_choices(c) if can(request.user, "ihospital.consult", c) and "prescribe" in
        wf.allowed(c.status, "doctor") else [], "frequencies": FREQUENCIES, "lines": range(3)})


@login_required
@domain_errors_as_pages
def picture(request, pk: int, picture: int):
    _gate(request)
    c = queries.get_consultation_for(Actor.from_request(request), pk)
    pic = queries.picture_of(c, picture)
    return HttpResponse(bytes(pic.data), content_type=pic.content_type)


@login_required
@domain_errors_as_pages
def deliveries(request):
    _gate(request)
    actor = Actor.from_request(request)
    if request.method == "POST":
        try:
            d = queries.get_delivery_for(actor, request.POST.get("delivery", ""))
            services.move_delivery(actor, d, request.POST.get("action", ""))
            messages.success(request, _("配送状态已更新"))
        except DomainError as e:
            _error(request, e)
        return redirect("ihospital:deliveries")
    status = request.GET.get("status", "")
    status = status if status in wf.DeliveryStatus.values else ""
    return render(request, "ihospital/deliveries.html", {
        "rows": queries.delivery_board(actor, status), "status": status, "statuses": wf.DeliveryStatus.choices,
        "may_deliver": can(request.user, "ihospital.deliver"),
        "is_pharmacist": has_role(request.user, Role.PHARMACIST)})


urlpatterns = [
    path("m/login/", login, name="login"),
    path("m/logout/", logout, name="logout"),
    path("m/", home, name="home"),
    path("m/new/", new, name="new"),
    path("m/c/<int:pk>/", conversation, name="conversation"),
    path("m/c/<int:pk>/picture/<int:picture>/", my_picture, name="my_picture"),
    path("m/c/<int:pk>/pay/", pay, name="pay"),
    path("m/pay/sim/<str:out_trade_no>/", sim_pay, name="sim_pay"),
    path("pay/notify/", payment_notify, name="payment_notify"),
    path("", queue, name="queue"),
    path("c/<int:pk>/", detail, name="detail"),
    path("c/<int:pk>/picture/<int:picture>/", picture, name="picture"),
    path("deliveries/", deliveries, name="deliveries"),
]
