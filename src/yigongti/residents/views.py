from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError
from yigongti.core.exports import list_xlsx_response
from yigongti.core.idcard import IdNumberError, parse_id_number
from yigongti.core.pages import domain_errors_as_pages, hx_or_full, option_tags
from yigongti.core.paging import pager_context
from yigongti.core.ratelimit import RateLimited
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Region, RegionLevel
from yigongti.orgs.permissions import can

from . import panels, queries, services
from .candidates import check_id_lookup
from .forms import ResidentForm
from .models import KeyPopulation, MergeEvent


def _villages_in_scope(user) -> list[tuple[str, str]]:
    """(code, "乡镇 村") for the villages the user serves; cached per scope because every search page
    renders this list and the villages of a county change rarely."""
    scope = scope_for(user)
    key = f"villages:{'*' if scope.prefixes is None else ','.join(scope.prefixes)}"
    choices = cache.get(key)
    if choices is None:
        villages = scope.filter(Region.objects.filter(level=RegionLevel.VILLAGE), "code").order_by("code")
        choices = [(code, f"{town or ''} {name}") for code, name, town in
                   villages.values_list("code", "name", "parent__name")]
        cache.set(key, choices, 600)
    return choices


def id_number_warnings(raw: str | None) -> tuple[str, ...]:
    """What a valid ID number is worth a second look for (a birth year before 1900)."""
    if not raw:
        return ()
    try:
        return parse_id_number(raw).warnings
    except IdNumberError:
        return ()


def rate_limited_page(request, e: RateLimited):
    """The Chinese page for a refused lookup: 429 with Retry-After. An HTMX request gets the message as a
    fragment with status 200, because htmx does not swap error responses into the page (the refusal is
    audited and counted all the same)."""
    if request.htmx:
        resp = render(request, "residents/_rate_limited.html", {"message": e.message})
        resp["Retry-After"] = str(e.retry_after)
        return resp
    resp = render(request, "error.html", {"status": 429, "message": e.message}, status=429)
    resp["Retry-After"] = str(e.retry_after)
    return resp


def _filter_from(request) -> tuple[queries.ResidentFilter, int]:
    """The list's filter from a POST (the search form: an ID number may be in it) or a GET (links and
    bookmarks: never an ID number, which would land in the access log and the browser history)."""
    data = request.POST if request.method == "POST" else request.GET
    f = queries.ResidentFilter(q=data.get("q", "").strip()[:40], village=data.get("village", "")[:12],
                               tag=data.get("tag", "")[:10], sex=data.get("sex", "")[:1],
                               township=data.get("township", "")[:12], facility=data.get("facility", "")[:12])
    if request.method != "POST" and queries.is_id_search(f):
        messages.warning(request, _("身份证号不能放在网址中，请在检索框中输入后点击检索"))
        f.q = ""
    try:
        page = max(int(data.get("page") or data.get("jump") or 1), 1)
    except ValueError:
        page = 1
    return f, min(page, 10**6)


@login_required
@domain_errors_as_pages
def resident_list(request):
    f, number = _filter_from(request)
    try:
        page = queries.search_residents(Actor.from_request(request), f, number)
    except RateLimited as e:
        return rate_limited_page(request, e)
    keep = {k: v for k, v in f.__dict__.items() if v and not (k == "q" and queries.is_id_search(f))}
    ctx = {"page": page, "f": f, "export_query": urlencode(keep), "export_limit": queries.EXPORT_LIMIT,
           **pager_context(page, keep)}
    if not request.htmx or request.htmx.boosted:  # the whole page: the filter's selects (an HTMX search: rows only)
        user = request.user
        townships, facilities = queries.township_choices(user), queries.facility_choices(user)
        ctx.update(townships=townships, facilities=facilities,
                   township_options=option_tags(townships, f.township),
                   facility_options=option_tags(facilities, f.facility),
                   village_options=option_tags(_villages_in_scope(user), f.village),
                   tag_options=option_tags(KeyPopulation.choices, f.tag))
    return hx_or_full(request, "residents/resident_list.html", "residents/_resident_rows.html", ctx)


EXPORT_HEADER = ["档案号", "姓名", "性别", "年龄", "出生日期", "身份证号（脱敏）", "联系电话（脱敏）", "乡镇", "村",
                 "重点人群"]


@login_required
@domain_errors_as_pages
def resident_export(request):
    """The list as filtered, as an Excel file: only residents the user may see, masked as the page shows
    them, every cell formula-safe, the export audited with the ids it carried."""
    f, _ = _filter_from(request)
    labels = dict(KeyPopulation.choices)
    rows = ([r.pk, r.name, r.get_sex_display(), r.age, r.birth_date, r.masked_id_number, r.masked_phone,
             r.village.parent.name if r.village and r.village.parent_id else "",
             r.village.name if r.village else r.place,
             "、".join(str(labels.get(t.tag, t.tag)) for t in r.tags.all())]
            for r in queries.export_residents(Actor.from_request(request), f))
    return list_xlsx_response("居民名单.xlsx", "居民", EXPORT_HEADER, rows)


@login_required
@domain_errors_as_pages
def resident_detail(request, pk: int):
    resident = queries.get_resident_for(Actor.from_request(request), pk)
    phone_shown = queries.reveal_phone_for_care(Actor.from_request(request), resident)
    sources = list(resident.source_records.order_by("created"))
    names = queries.source_system_names(sources)
    return render(request, "residents/resident_detail.html",
                  {"r": resident, "tags": resident.tags.all(),
                   "sources": [(s, names[s.source_system]) for s in sources],
                   "panels": panels.panels_for(Actor.from_request(request), resident),
                   "merges": MergeEvent.objects.filter(survivor=resident).select_related("merged_by"),
                   "can_manage": can(request.user, "residents.merge"),
                   "can_unmask": can(request.user, "residents.unmask"),
                   "phone_shown": phone_shown})


@login_required
@require_POST
@domain_errors_as_pages
def resident_unmask(request, pk: int):
    resident = queries.get_resident_for(Actor.from_request(request), pk)
    try:
        shown = queries.reveal_identifiers(Actor.from_request(request), resident)
    except RateLimited as e:
        return rate_limited_page(request, e)
    return render(request, "residents/_identifiers.html", {"r": resident, "shown": shown})


def _form_page(request, template, resident=None):
    villages = _villages_in_scope(request.user)
    if request.method == "POST" and request.POST.get("prefill"):
        # a new record, prefilled from the registration search that found nobody (POSTed, so that the
        # ID number and phone typed there stay out of the URL)
        keys = ("name", "id_number", "sex", "birth_date", "phone")
        form = ResidentForm(villages=villages, initial={k: request.POST[k] for k in keys if request.POST.get(k)})
    elif request.method == "POST":
        form = ResidentForm(request.POST, villages=villages)
        if form.is_valid():
            actor = Actor.from_request(request)
            try:
                if form.cleaned_data.get("id_number"):
                    check_id_lookup(form.cleaned_data, actor=actor)  # "该身份证号已建档" answers a guess
                if resident is None:
                    resident = services.register_resident(form.cleaned_data, actor=actor)
                    messages.success(request, _("建档成功"))
                else:
                    # Identifiers are never put into the page unmasked: blank means "unchanged".
                    data = {k: v for k, v in form.cleaned_data.items()
                            if k not in ("id_number", "phone") or v}
                    services.update_resident(resident, data, actor=actor)
                    messages.success(request, _("已保存"))
                for warning in id_number_warnings(form.cleaned_data.get("id_number")):
                    messages.warning(request, warning)
                return redirect("residents:detail", pk=resident.pk)
            except RateLimited as e:
                return rate_limited_page(request, e)
            except DomainError as e:
                for field, msgs in (e.errors or {None: [e.message]}).items():
                    for msg in msgs:
                        form.add_error(field if field in form.fields else None, msg)
    elif resident is not None:
        form = ResidentForm(villages=villages, initial={
            "name": resident.name, "sex": resident.sex, "birth_date": resident.birth_date.isoformat(),
            "village": resident.area_code,
            "tags": list(resident.tags.values_list("tag", flat=True)),
        })
    else:  # a new record; a link may prefill what is not an identifier
        keys = ("name", "sex", "birth_date")
        form = ResidentForm(villages=villages, initial={k: request.GET[k] for k in keys if request.GET.get(k)})
    return render(request, template, {"form": form, "r": resident})


@login_required
@domain_errors_as_pages
def resident_create(request):
    return _form_page(request, "residents/resident_form.html")


@login_required
@domain_errors_as_pages
def resident_edit(request, pk: int):
    resident = queries.get_resident_for(Actor.from_request(request), pk)
    return _form_page(request, "residents/resident_form.html", resident)
