"""Pages of the resident index: registration search, file import, the review queue, merge/unmerge."""

from __future__ import annotations

import csv
import os
import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from yigongti.core.errors import DomainError
from yigongti.core.pages import domain_errors_as_pages, hx_or_full, paginate_params
from yigongti.core.paging import slice_page

from . import importing, merging, queries, reviewing
from .candidates import make_probe, registration_search
from .models import ImportBatch, MergeEvent, ReviewStatus

FIELDS = ("id_number", "name", "sex", "birth_date", "phone", "address")


@login_required
@domain_errors_as_pages
def find_person(request):
    """建档前检索: look the patient up in the index before creating a record."""
    g = request.GET
    probe = make_probe(**{k: g.get(k, "") for k in FIELDS})
    searched = any(g.get(k) for k in FIELDS)
    found = registration_search(request, probe) if searched else []
    ctx = {"probe": probe, "found": found, "searched": searched, "q": {k: g.get(k, "") for k in FIELDS}}
    return hx_or_full(request, "residents/find.html", "residents/_find_results.html", ctx)


@login_required
def import_list(request):
    if not merging.can_manage_index(request.user):
        raise PermissionDenied
    batches = slice_page(ImportBatch.objects.filter(uploaded_by=request.user), paginate_params(request), 20)
    return render(request, "residents/import_list.html", {"page": batches})


@login_required
@require_POST
def import_upload(request):
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要导入的文件（CSV、Excel 或 Parquet）")
        return redirect("residents:imports")
    suffix = os.path.splitext(upload.name)[1].lower()
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        for chunk in upload.chunks():
            tmp.write(chunk)
        tmp.flush()
        try:
            batch = importing.preview_import(request, request.user, tmp.name, upload.name,
                                             request.POST.get("source_system", ""))
        except DomainError as e:
            if e.status == 403:
                raise PermissionDenied from None
            messages.error(request, f"{upload.name}：{e.message}")
            return redirect("residents:imports")
    return redirect("residents:import", pk=batch.pk)


def _own_batch(request, pk) -> ImportBatch:
    try:
        return importing.get_batch_for(request, pk)
    except DomainError as e:
        if e.status == 403:
            raise PermissionDenied from None
        raise Http404 from None


@login_required
def import_detail(request, pk: int):
    batch = _own_batch(request, pk)
    action = request.GET.get("action", "")
    page = importing.staged_rows(request, batch, action, paginate_params(request))
    return render(request, "residents/import_detail.html", {"batch": batch, "page": page, "action": action})


@login_required
def import_report(request, pk: int):
    """The per-row problem report as CSV (UTF-8 with BOM so that Excel shows Chinese)."""
    batch = _own_batch(request, pk)
    resp = HttpResponse(content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-report.csv"'
    resp.write("\ufeff")
    w = csv.writer(resp)
    w.writerow(["行号", "记录号", "处理", "匹配概率", "问题"])
    for msg in batch.file_problems:
        w.writerow(["", "", "文件", "", msg])
    for row in batch.rows.all():
        w.writerow([row.row_number, row.data.get("record_id") or "", row.get_action_display(),
                    "" if row.score is None else f"{row.score:.3f}", "；".join(row.problems)])
    return resp


@login_required
@require_POST
@domain_errors_as_pages
def import_commit(request, pk: int):
    batch = _own_batch(request, pk)
    try:
        batch = importing.commit_import(request, request.user, batch)
        messages.success(request, f"已入库：{batch.summary.get('committed', {})}")
    except DomainError as e:
        messages.error(request, e.message)
    return redirect("residents:import", pk=pk)


@login_required
@require_POST
def import_discard(request, pk: int):
    batch = _own_batch(request, pk)
    try:
        importing.discard_import(request, request.user, batch)
        messages.info(request, "已放弃该批次，档案库未改动")
    except DomainError as e:
        messages.error(request, e.message)
    return redirect("residents:imports")


@login_required
def review_queue(request):
    if not merging.can_manage_index(request.user):
        raise PermissionDenied
    status = request.GET.get("status", ReviewStatus.OPEN)
    return render(request, "residents/review_queue.html",
                  {"page": reviewing.review_page(request, status, paginate_params(request)), "status": status,
                   "statuses": ReviewStatus.choices})


COMPARED = [("name", "姓名"), ("get_sex_display", "性别"), ("birth_date", "出生日期"),
            ("masked_id_number", "身份证号"), ("masked_phone", "联系电话"), ("place", "居住地"),
            ("household_id", "家庭户")]


@login_required
@domain_errors_as_pages
def review_detail(request, pk: int):
    review = reviewing.get_review_for(request, pk)
    rows = []
    for attr, label in COMPARED:
        a, b = getattr(review.person, attr), getattr(review.candidate, attr)
        a, b = a() if callable(a) else a, b() if callable(b) else b
        rows.append({"label": label, "left": a or "—", "right": b or "—", "differs": (a or "") != (b or "")})
    return render(request, "residents/review_detail.html",
                  {"review": review, "rows": rows, "record": review.record})


@login_required
@require_POST
@domain_errors_as_pages
def review_decide(request, pk: int):
    review = reviewing.get_review_for(request, pk)
    same = request.POST.get("decision") == "same"
    try:
        reviewing.decide_review(request, request.user, review, same, request.POST.get("note", ""))
        messages.success(request, "已确认为同一人并合并档案" if same else "已确认不是同一人，今后不再配对")
    except DomainError as e:
        messages.error(request, e.message)
    return redirect("residents:reviews")


@login_required
@require_POST
@domain_errors_as_pages
def merge(request, pk: int):
    survivor = queries.get_resident_for(request, pk)
    try:
        other = queries.get_resident_for(request, int(request.POST.get("other", "0")))
        merging.merge_residents(request, request.user, survivor, other, request.POST.get("reason", ""))
        messages.success(request, f"已将档案 {other.pk} 合并到本档案")
    except (DomainError, ValueError) as e:
        messages.error(request, getattr(e, "message", "请输入要合并的档案编号"))
    return redirect("residents:detail", pk=pk)


@login_required
@require_POST
@domain_errors_as_pages
def unmerge(request, event_id: int):
    event = get_object_or_404(MergeEvent, pk=event_id)
    queries.get_resident_for(request, event.survivor_id)  # scope check on the survivor
    try:
        merged = merging.unmerge_residents(request, request.user, event)
        messages.success(request, f"已拆分：档案 {merged.pk} 已恢复")
    except DomainError as e:
        messages.error(request, e.message)
    return redirect("residents:detail", pk=event.survivor_id)


