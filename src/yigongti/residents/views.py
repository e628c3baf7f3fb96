from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from yigongti.core.errors import DomainError
from yigongti.core.pages import domain_errors_as_pages, hx_or_full, paginate_params
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Region, RegionLevel

from . import queries, services
from .forms import ResidentForm
from .merging import can_manage_index
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


@login_required
@domain_errors_as_pages
def resident_list(request):
    g = request.GET
    f = queries.ResidentFilter(q=g.get("q", "").strip()[:40], village=g.get("village", ""), tag=g.get("tag", ""),
                               sex=g.get("sex", ""))
    page = queries.search_residents(request, f, paginate_params(request))
    ctx = {"page": page, "f": f, "tags": KeyPopulation.choices, "villages": _villages_in_scope(request.user)}
    return hx_or_full(request, "residents/resident_list.html", "residents/_resident_rows.html", ctx)


@login_required
@domain_errors_as_pages
def resident_detail(request, pk: int):
    resident = queries.get_resident_for(request, pk)
    return render(request, "residents/resident_detail.html",
                  {"r": resident, "tags": resident.tags.all(),
                   "sources": resident.source_records.order_by("created"),
                   "merges": MergeEvent.objects.filter(survivor=resident).select_related("merged_by"),
                   "can_manage": can_manage_index(request.user),
                   "can_unmask": request.user.has_perm("orgs.unmask_personal_data")})


@login_required
@require_POST
@domain_errors_as_pages
def resident_unmask(request, pk: int):
    resident = queries.get_resident_for(request, pk)
    shown = queries.reveal_identifiers(request, resident)
    return render(request, "residents/_identifiers.html", {"r": resident, "shown": shown})


def _form_page(request, template, resident=None):
    villages = _villages_in_scope(request.user)
    if request.method == "POST":
        form = ResidentForm(request.POST, villages=villages)
        if form.is_valid():
            try:
                if resident is None:
                    resident = services.register_resident(request, request.user, form.cleaned_data)
                    messages.success(request, "建档成功")
                else:
                    # Identifiers are never put into the page unmasked: blank means "unchanged".
                    data = {k: v for k, v in form.cleaned_data.items()
                            if k not in ("id_number", "phone") or v}
                    services.update_resident(request, request.user, resident, data)
                    messages.success(request, "已保存")
                return redirect("residents:detail", pk=resident.pk)
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
    else:  # a new record, prefilled from the registration search that found nobody
        keys = ("name", "id_number", "sex", "birth_date", "phone")
        form = ResidentForm(villages=villages, initial={k: request.GET[k] for k in keys if request.GET.get(k)})
    return render(request, template, {"form": form, "r": resident})


@login_required
@domain_errors_as_pages
def resident_create(request):
    return _form_page(request, "residents/resident_form.html")


@login_required
@domain_errors_as_pages
def resident_edit(request, pk: int):
    return _form_page(request, "residents/resident_form.html", queries.get_resident_for(request, pk))
