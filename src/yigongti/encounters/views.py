from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from yigongti.core.pages import domain_errors_as_pages, paginate_params

from . import queries


@login_required
@domain_errors_as_pages
def resident_timeline(request, pk: int):
    """A resident's encounters across village, township and county, and settlements outside the county."""
    resident, page, outside = queries.resident_timeline(request, pk, paginate_params(request))
    return render(request, "encounters/timeline.html", {"r": resident, "page": page, "outside": outside})


@login_required
@domain_errors_as_pages
def encounter_detail(request, pk: int):
    enc = queries.get_encounter_for(request, pk)
    return render(request, "encounters/encounter_detail.html",
                  {"e": enc, "diagnoses": enc.diagnoses.all(), "procedures": enc.procedures.all()})
