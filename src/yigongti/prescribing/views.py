"""Pages of prescribing: the list, the prescription form (from an encounter or a resident), one prescription
with its findings and the review, dispense and return forms, the review queue, the dispensing list, the month's
处方点评 and the rule pack editor. Each view parses, calls a query or a service and renders; refused input is
shown in Chinese beside the typed values."""

from __future__ import annotations

import datetime as dt
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core import inputs
from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, Forbidden, NotFound
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.permissions import can, check

from . import engine, queries, services
from .models import CommentClass, CommentSample, Kind, Rule, Severity, Status

LINES = 5
FREQS = [("qd", "qd 每日1次"), ("bid", "bid 每日2次"), ("tid", "tid 每日3次"), ("qid", "qid 每日4次"),
         ("qn", "qn 每晚1次"), ("q12h", "q12h"), ("q8h", "q8h"), ("prn", "prn 必要时"), ("once", "once 单次")]


def _reader(request) -> None:
    if request.user.role in queries.READERS and queries.community_of(request.user) is not None:
        return
    raise Forbidden(_("只有医生、乡村医生和药师可以查看处方"))


@login_required
@domain_errors_as_pages
def home(request):
    _reader(request)
    u = request.user
    return render(request, "prescribing/home.html", {
        "recent": queries.recent(u), "n_queue": queries.review_queue(u).count(),
        "n_dispense": queries.dispense_queue(u).count(),
        "may_review": can(u, "prescribing.review"), "may_prescribe": can(u, "prescribing.prescribe"),
        "may_dispense": can(u, "prescribing.dispense")})


def _lines_from_post(post) -> list[dict]:
    out = []
    for i in range(LINES):
        item = post.get(f"line-{i}-item", "").strip()
        if not item:
            continue
        out.append({k: post.get(f"line-{i}-{k}", "").strip()
                    for k in ("item", "dose", "unit", "frequency", "route", "days", "quantity")})
    return out


@login_required
@domain_errors_as_pages
def new(request):
    actor = Actor.from_request(request)
    if request.user.facility_id is None:
        raise Forbidden(_("只有本机构的医生或乡村医生可以开具处方"))
    facility = request.user.facility
    check(actor, "prescribing.prescribe", facility)  # the verb's message, the refusal audited
    resident = services._resident(actor, request.GET.get("resident") or request.POST.get("resident"))
    encounter_id = request.GET.get("encounter") or request.POST.get("encounter") or ""
    form = {"kind": "", "diagnoses": "", "weight_kg": "", "days_reason": ""}
    if encounter_id:
        from yigongti.encounters.models import Encounter

        e = Encounter.objects.filter(pk=inputs.pk_of(encounter_id), resident=resident).first()
        if e is not None:
            form["diagnoses"] = " ".join([e.main_icd10, *e.diagnoses.values_list("icd10", flat=True)]).strip()
    errors: dict = {}
    if request.method == "POST":
        form = request.POST.dict()
        data = {**form, "resident": resident.pk, "facility": facility.pk, "encounter": encounter_id or None,
                "lines": _lines_from_post(request.POST)}
        try:
            p = services.create_prescription(actor, data)
            if p.status == Status.REVIEW_PENDING:
                messages.warning(request, _("处方存在用药风险，已提交药师审核"))
            else:
                messages.success(request, _("处方已开具"))
            return redirect("prescribing:detail", pk=p.pk)
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = e.errors or {"general": [e.message]}
            messages.error(request, e.message)
    rows = [{"i": i, **{k: form.get(f"line-{i}-{k}", "") for k in
                        ("item", "dose", "unit", "frequency", "route", "days", "quantity")},
             "errors": [m for k, v in errors.items() if k.startswith(f"lines.{i}.") for m in v]}
            for i in range(LINES)]
    return render(request, "prescribing/form.html", {
        "resident": resident, "encounter": encounter_id, "facility": facility, "form": form, "errors": errors,
        "rows": rows, "items": queries.catalogue_for(facility, limit=500), "kinds": Kind.choices, "freqs": FREQS,
        "routes": engine.ROUTES}, status=422 if errors else 200)


@login_required
def items(request):
    """The catalogue search of the form (HTMX): options of the items the user's facility may prescribe."""
    if request.user.facility_id is None:
        return render(request, "prescribing/_item_options.html", {"items": []})
    found = queries.catalogue_for(request.user.facility, request.GET.get("q", "")[:40])
    return render(request, "prescribing/_item_options.html", {"items": found})


@login_required
@domain_errors_as_pages
def detail(request, pk: int):
    p = queries.get_prescription_for(Actor.from_request(request), pk)
    u = request.user
    d = p.dispensings.select_related("facility", "by").first()
    return render(request, "prescribing/detail.html", {
        "p": p, "lines": p.lines.select_related("item"), "reviews": p.reviews.select_related("pharmacist"),
        "dispensing": d, "dlines": d.lines.select_related("lot", "line__item").prefetch_related("codes__trace")
        if d else [], "findings": [{**f, "label": Severity(f["severity"]).label} for f in p.findings],
        "may_review": p.status == Status.REVIEW_PENDING and can(u, "prescribing.review", p),
        "may_dispense": p.dispensable and can(u, "prescribing.dispense", u.facility),
        "may_return": d is not None and p.status in (Status.DISPENSED, Status.PARTLY_RETURNED)
        and can(u, "prescribing.dispense", d.facility)})


def _act(request, pk: int, do, ok: str):
    p = queries.get_prescription_for(Actor.from_request(request), pk)
    try:
        do(p)
        messages.success(request, ok)
    except DomainError as e:
        if e.status == 404:
            raise
        messages.error(request, e.message)
    return redirect("prescribing:detail", pk=pk)


@login_required
@require_POST
@domain_errors_as_pages
def review(request, pk: int):
    return _act(request, pk, lambda p: services.review_prescription(
        request, p, decision=request.POST.get("decision", ""), reason=request.POST.get("reason", "")),
        _("已审核"))


@login_required
@require_POST
@domain_errors_as_pages
def dispense(request, pk: int):
    return _act(request, pk, lambda p: services.dispense(
        request, p, facility=request.user.facility, trace_codes=request.POST.get("trace_codes", "")), _("已发药"))


@login_required
@require_POST
@domain_errors_as_pages
def give_back(request, pk: int):
    def do(p):
        lines = {k.split("-", 1)[1]: int(v) for k, v in request.POST.items()
                 if k.startswith("ret-") and v.strip().isdigit() and int(v)}
        if not lines:
            raise services.InvalidInput("nothing_to_return", _("请填写退药数量"), field="lines")
        services.return_dispensed(request, p, lines=lines, reason=request.POST.get("reason", ""),
                                  trace_codes=request.POST.get("trace_codes", ""))
    return _act(request, pk, do, _("已退药"))


@login_required
@domain_errors_as_pages
def queue(request):
    _reader(request)
    now = timezone.now()
    rows = [{"p": p, "wait": int((now - (p.submitted_at or p.prescribed_at)).total_seconds() // 60)}
            for p in queries.review_queue(request.user)[:200]]
    return render(request, "prescribing/queue.html", {"rows": rows})


@login_required
@domain_errors_as_pages
def dispensing(request):
    _reader(request)
    return render(request, "prescribing/dispensing.html", {"rows": queries.dispense_queue(request.user)[:200]})


def _month(request) -> dt.date:
    raw = request.GET.get("month") or request.POST.get("month") or ""
    try:
        return dt.date.fromisoformat(raw + "-01" if len(raw) == 7 else raw).replace(day=1)
    except ValueError:
        return timezone.localdate().replace(day=1)


@login_required
@domain_errors_as_pages
def comments(request):
    u = request.user
    if not can(u, "prescribing.comment"):
        raise Forbidden(_("只有本医共体的药师可以抽取和点评处方"))
    month = _month(request)
    if request.method == "POST":
        try:
            n = len(services.draw_sample(request, u.facility.community, month))
            messages.success(request, _("本月抽样 %(n)s 张处方") % {"n": n})
        except DomainError as e:
            messages.error(request, e.message)
        return redirect(f"{request.path}?month={month:%Y-%m}")
    cid = queries.community_of(u)
    return render(request, "prescribing/comments.html", {
        "month": month, "samples": queries.samples_for(u, month)[:500],
        "by_doctor": queries.comment_counts(cid, month, "doctor") if cid else [],
        "by_facility": queries.comment_counts(cid, month, "facility") if cid else []})


@login_required
@domain_errors_as_pages
def comment(request, pk: int):
    u = request.user
    s = CommentSample.objects.filter(pk=pk, community_id=queries.community_of(u)).select_related(
        "prescription", "facility").first()
    if s is None or not can(u, "prescribing.comment", s):
        raise NotFound()
    errors: dict = {}
    if request.method == "POST":
        try:
            services.classify_sample(request, s, classification=request.POST.get("classification", ""),
                                     note=request.POST.get("note", ""))
            messages.success(request, _("已点评"))
            return redirect(f"/prescribing/comments/?month={s.month:%Y-%m}")
        except DomainError as e:
            errors = e.errors or {"general": [e.message]}
            messages.error(request, e.message)
    p = queries.get_prescription_for(Actor.from_request(request), s.prescription_id)
    return render(request, "prescribing/comment.html", {
        "s": s, "p": p, "lines": p.lines.select_related("item"), "errors": errors,
        "classes": [c for c in CommentClass.choices if c[0]],
        "findings": [{**f, "label": Severity(f["severity"]).label} for f in p.findings]},
        status=422 if errors else 200)


@login_required
@domain_errors_as_pages
def rules(request):
    u = request.user
    if not can(u, "prescribing.rules") or u.facility.community_id is None:
        raise Forbidden(_("只有本医共体的药师可以维护审方规则"))
    pack = services.pack_for(u.facility.community)
    if request.method == "POST":
        try:
            services.set_review_level(request, pack, int(request.POST.get("review_at") or 0))
            messages.success(request, _("已保存"))
        except (DomainError, ValueError) as e:
            messages.error(request, getattr(e, "message", _("请选择需审核的风险等级")))
        return redirect("prescribing:rules")
    return render(request, "prescribing/rules.html", {
        "pack": pack, "rules": pack.rules.select_related("updated_by"), "levels": Severity.choices[2:]})


@login_required
@domain_errors_as_pages
def rule(request, pk: int):
    u = request.user
    r = Rule.objects.filter(pk=pk, pack__community_id=queries.community_of(u)).select_related("pack").first()
    if r is None or not can(u, "prescribing.rules", r.pack):
        raise NotFound()
    form = {"params": json.dumps(r.params, ensure_ascii=False, indent=1), "severity": str(r.severity),
            "message": r.message, "enabled": r.enabled}
    errors: dict = {}
    if request.method == "POST":
        form = {**request.POST.dict(), "enabled": request.POST.get("enabled") == "on"}
        try:
            services.update_rule(request, r, form)
            messages.success(request, _("规则已保存，新开处方按新规则审核"))
            return redirect("prescribing:rules")
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = e.errors or {"general": [e.message]}
            messages.error(request, e.message)
    return render(request, "prescribing/rule.html", {"r": r, "form": form, "errors": errors,
                                                     "levels": Severity.choices[1:]},
                  status=422 if errors else 200)


urlpatterns = [
    path("", home, name="home"),
    path("new/", new, name="new"),
    path("items/", items, name="items"),
    path("queue/", queue, name="queue"),
    path("dispensing/", dispensing, name="dispensing"),
    path("comments/", comments, name="comments"),
    path("comments/<int:pk>/", comment, name="comment"),
    path("rules/", rules, name="rules"),
    path("rules/<int:pk>/", rule, name="rule"),
    path("<int:pk>/", detail, name="detail"),
    path("<int:pk>/review/", review, name="review"),
    path("<int:pk>/dispense/", dispense, name="dispense"),
    path("<int:pk>/return/", give_back, name="return"),
]
