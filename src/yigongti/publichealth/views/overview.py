"""公共卫生概览 (publichealth:home): the public-health figures of the reader's area with links to the lists."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path

from yigongti.core.actor import Actor
from yigongti.core.pages import domain_errors_as_pages
from yigongti.core.validation import today

from ..queries import overview as q


@login_required
@domain_errors_as_pages
def home(request):
    on = today()
    data = q.overview(Actor.from_request(request), on=on, fresh=request.GET.get("fresh") == "1")
    return render(request, "publichealth/home.html", {
        "o": data, "people": q.may_see_people(request.user), "year": on.year})


urlpatterns = [path("", home, name="home")]
