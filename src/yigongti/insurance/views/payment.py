"""Payment pages: rates, weights and the 基层病组 list; DIP groups and point values; CMI and efficiency. The
officer edits; the community's managers, the bureau and the city read."""

from __future__ import annotations

import datetime as dt
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.core.pages import domain_errors_as_pages, paginate_params
from yigongti.core.paging import slice_page
from yigongti.core.validation import parse_year
from yigongti.orgs.permissions import can

from .. import dip, efficiency, payment, rulepacks, weights
from ..queries import payment as q

PAGE_SIZE = 50


def _year(request) -> int:
    src = request.POST if request.method == "POST" else request.GET
    years = q.years_with_cases()
    return parse_year(src.get("year", ""), default=years[0] if years else dt.date.today().year)


def _version(request) -> str:
    v = (request.POST if request.method == "POST" else request.GET).get("version", "")
    return v if v in ("CHS-DRG 2.0", "CHS-DRG 1.1") else q.payment_version()


def _overview_context(request, year: int, version: str, **extra) -> dict:
    actor = Actor.from_request(request)
    search = request.GET.get("q", "")[:20]
    page = slice_page(q.weights_of(actor, year, version, search), paginate_params(request), PAGE_SIZE)
    page.count = q.weights_of(actor, year, version, search).count()
    grassroots = list(q.weights_of(actor, year, version).filter(grassroots=True).values_list("drg", flat=True))
    rates = [(r, payment.LEVEL_NAMES.get(r.level, r.level)) for r in q.rates_of(actor, year)]
    return {"year": year, "version": version, "rates": rates, "page": page, "q": search,
            "grassroots": grassroots, "levels": [("", payment.LEVEL_NAMES[""])] + [
                (lv, payment.LEVEL_NAMES[lv]) for lv in payment.LEVELS],
            "schemes": list(payment.SCHEME_NAMES.items()), "years": q.years_with_cases(),
            "can_edit": can(request.user, "insurance.set_rates"), "errors": {}, "form": {},
            "packs": rulepacks.packs(), "can_load_rules": can(request.user, "insurance.load_rules"), **extra}


@login_required
@domain_errors_as_pages
def overview(request):
    """Rates per level and scheme, the year's weights (paged), the 基层病组 list; the officer's actions."""
    year, version = _year(request), _version(request)
    if request.method == "POST":
        actor, action = Actor.from_request(request), request.POST.get("action", "")
        try:
            if action == "compute":
                out = weights.compute_weights(year, version, actor=actor)
                messages.success(request, _("已测算 %(n)s 个病组的权重（%(c)s 例）")
                                 % {"n": out["drgs"], "c": out["cases"]})
            elif action == "price":
                out = weights.price_cases(year, actor=actor, version=version)
                messages.success(request, _("已计算 %(n)s 例出院病例的DRG和DIP支付") % {"n": out["cases"]})
            elif action == "register_packs":
                done = rulepacks.register_packs(actor=actor)
                messages.success(request, _("已校验并加载 %(n)s 个分组方案") % {"n": len(done)})
            elif action == "set_payment_version":
                chosen = rulepacks.set_payment_version(request.POST.get("pack", "")[:40], actor=actor)
                messages.success(request, _("付费版本已设为 %(v)s") % {"v": chosen.version})
                version = chosen.version
        except InvalidInput as e:
            messages.error(request, e.message)
        return redirect(f"{reverse('insurance:payment')}?year={year}&version={version}")
    return render(request, "insurance/payment.html", _overview_context(request, year, version))


@login_required
@require_POST
@domain_errors_as_pages
def rates(request):
    """Set one rate row, or the 基层病组 list (``action=grassroots``); errors are shown on the overview."""
    year, version = _year(request), _version(request)
    actor, p = Actor.from_request(request), request.POST
    try:
        if p.get("action") == "grassroots":
            codes = [c for c in re.split(r"[\s,，、;；]+", p.get("drgs", "")[:5000]) if c]
            done = weights.set_grassroots(year, version, None if p.get("default") else codes, actor=actor)
            messages.success(request, _("基层病组目录已更新（%(n)s 个病组）") % {"n": len(done)})
        else:
            row = {k: p.get(k, "") for k in ("level", "scheme", "rate", "high_outlier", "low_outlier")}
            weights.set_rates(year, [row], actor=actor)
            messages.success(request, _("费率已保存"))
    except InvalidInput as e:
        errors = {k.removeprefix("rates.0."): v for k, v in e.errors.items()} or {"": [e.message]}
        return render(request, "insurance/payment.html",
                      _overview_context(request, year, version, errors=errors, form=p))
    return redirect(f"{reverse('insurance:payment')}?year={year}&version={version}")


@login_required
@domain_errors_as_pages
def dip_page(request):
    """The year's DIP groups (core and combined) and point values; the officer builds and estimates/settles."""
    year, actor = _year(request), Actor.from_request(request)
    if request.method == "POST":
        action, scheme = request.POST.get("action", ""), request.POST.get("scheme", "")
        try:
            if action == "build":
                raw = request.POST.get("threshold", "") or str(dip.THRESHOLD)
                if not raw.isdigit():
                    raise InvalidInput("invalid_threshold", _("核心病种例数阈值应为正整数"), field="threshold")
                out = dip.build_groups(year, actor=actor, threshold=int(raw))
                messages.success(request, _("已生成 %(n)s 个病种（核心 %(c)s 个）")
                                 % {"n": out["groups"], "c": out["core"]})
            elif action == "factors":
                given = {lv: request.POST.get(f"factor_{lv}", "").strip() for lv in payment.LEVELS}
                dip.set_level_factors(year, {lv: v for lv, v in given.items() if v}, actor=actor)
                messages.success(request, _("已保存医疗机构等级系数"))
            elif action in ("estimate", "settle"):
                fn = dip.estimate_point_value if action == "estimate" else dip.settle_point_value
                out = fn(year, scheme, actor=actor)
                messages.success(request, "；".join(out["explanation"][-1:]))
        except InvalidInput as e:
            messages.error(request, e.message)
        return redirect(f"{reverse('insurance:dip')}?year={year}")
    kind = request.GET.get("kind", "")
    page = slice_page(q.dip_groups_of(actor, year, kind), paginate_params(request), PAGE_SIZE)
    page.count = q.dip_groups_of(actor, year, kind).count()
    return render(request, "insurance/dip.html", {
        "year": year, "kind": kind, "page": page, "points": q.point_values_of(actor, year),
        "factors": [{**f, "name": payment.LEVEL_NAMES[f["level"]]} for f in q.level_factors_of(actor, year)],
        "schemes": list(payment.SCHEME_NAMES.items()), "threshold": dip.THRESHOLD,
        "can_edit": can(request.user, "insurance.set_rates"), "years": q.years_with_cases()})


@login_required
@domain_errors_as_pages
def efficiency_page(request):
    """CMI, cost and time efficiency indices per facility and department, and the 基层病组 share."""
    year, version = _year(request), _version(request)
    data = efficiency.efficiency_of(Actor.from_request(request), year, version)
    return render(request, "insurance/efficiency.html", {**data, "years": q.years_with_cases()})
