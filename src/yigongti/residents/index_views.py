"""Pages of the resident index: registration search, file import, the review queue, merge/unmerge."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from yigongti.core import audit, exports, uploads
from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError
from yigongti.core.pages import domain_errors_as_pages, hx_or_full, paginate_params
from yigongti.core.paging import slice_page
from yigongti.core.ratelimit import RateLimited
from yigongti.orgs.permissions import can

from . import importing, merging, queries, reviewing
from .candidates import make_probe, registration_search
from .models import ImportBatch, MergeEvent, ReviewStatus
from .views import _villages_in_scope as villages_in_scope
from .views import rate_limited_page

FIELDS = ("id_number", "name", "sex", "birth_date", "phone", "address")


@login_required
@domain_errors_as_pages
def find_person(request):
    """建档前检索: look the patient up in the index before creating a record.

    The search is a POST: ID numbers and phones stay out of URLs, access logs and the browser history."""
    if request.method == "POST":
        g = request.POST
    else:
        g = request.GET
        if any(g.get(k) for k in ("id_number", "phone")):
            messages.warning(request, "身份证号和电话不能放在网址中，请在下方表单中检索")
            g = {k: v for k, v in g.items() if k not in ("id_number", "phone")}
    probe = make_probe(**{k: g.get(k, "") for k in FIELDS})
    searched = request.method == "POST" and any(g.get(k) for k in FIELDS)
    try:
        found = registration_search(probe, actor=Actor.from_request(request)) if searched else []
    except RateLimited as e:
        return rate_limited_page(request, e)
    ctx = {"probe": probe, "found": found, "searched": searched, "q": {k: g.get(k, "") for k in FIELDS}}
    return hx_or_full(request, "residents/find.html", "residents/_find_results.html", ctx)


@login_required
def import_list(request):
    if not can(request.user, "residents.import"):
        raise PermissionDenied
    mine = ImportBatch.objects.filter(uploaded_by=request.user)
    batches = slice_page(mine, paginate_params(request), 20, count=mine.count())  # one account's batches: cheap
    for b in batches.items:
        b.summary_text = importing.describe_batch(b)
    return render(request, "residents/import_list.html",
                  {"page": batches, "max_size": uploads.human_size(uploads.max_upload_bytes()),
                   "max_rows": importing.MAX_ROWS})


@login_required
def import_template(request):
    """The Excel template: the Chinese headers, an example row, every column formatted as text."""
    if not can(request.user, "residents.import"):
        raise PermissionDenied
    resp = HttpResponse(importing.template_xlsx(), content_type=exports.XLSX_TYPE)
    resp["Content-Disposition"] = exports.content_disposition("居民名单导入模板.xlsx")
    return resp


@login_required
@require_POST
def import_upload(request):
    try:
        uploads.check_request_size(request)  # before the body is read
        upload = uploads.required_upload(request, request.FILES.get("file"))
    except DomainError as e:
        messages.error(request, e.message)
        return redirect("residents:imports")
    source_system = request.POST.get("source_system", "")
    try:
        with uploads.saved_upload(upload) as path:
            try:
                batch = importing.preview_import(path, upload.name, source_system, actor=Actor.from_request(request))
            except importing.ColumnsUnknown as e:
                request.session["import_mapping"] = {"token": uploads.stash(path), "filename": upload.name[:200],
                                                     "source_system": source_system[:60], "headers": e.headers,
                                                     "message": e.message}
                return redirect("residents:import_mapping")
    except DomainError as e:
        if e.status == 403:
            raise PermissionDenied from None
        messages.error(request, f"{upload.name[:100]}：{e.message}")
        return redirect("residents:imports")
    return redirect("residents:import", pk=batch.pk)


@login_required
def import_mapping(request):
    """The column-mapping step: the file's headers were not recognised, so the user says which is which."""
    pending = request.session.get("import_mapping")
    if not can(request.user, "residents.import"):
        raise PermissionDenied
    if not pending:
        messages.error(request, "上传的文件已过期，请重新上传")
        return redirect("residents:imports")
    headers = pending["headers"]
    fields = [(f, importing.COLUMN_LABELS[f], f in importing.REQUIRED_COLUMNS) for f in importing.INPUT_COLUMNS]
    chosen = {f: request.POST.get(f"col_{f}", "") for f, _l, _r in fields} if request.method == "POST" else {}
    error = pending.get("message", "")
    if request.method == "POST":
        mapping = {f: c for f, c in chosen.items() if c in headers or c == ""}
        try:
            path = uploads.stashed(pending["token"])
            batch = importing.preview_import(path, pending["filename"], pending["source_system"],
                                             actor=Actor.from_request(request), mapping=mapping)
        except importing.ColumnsUnknown as e:
            error = e.message
        except DomainError as e:
            if e.status == 403:
                raise PermissionDenied from None
            uploads.drop_stash(pending["token"])
            request.session.pop("import_mapping", None)
            messages.error(request, f"{pending['filename'][:100]}：{e.message}")
            return redirect("residents:imports")
        else:
            uploads.drop_stash(pending["token"])
            request.session.pop("import_mapping", None)
            return redirect("residents:import", pk=batch.pk)
    return render(request, "residents/import_mapping.html",
                  {"filename": pending["filename"], "headers": headers, "fields": fields, "chosen": chosen,
                   "error": error, "cancel": reverse("residents:imports")})


def _own_batch(request, pk) -> ImportBatch:
    try:
        return importing.get_batch_for(Actor.from_request(request), pk)
    except DomainError as e:
        if e.status == 403:
            raise PermissionDenied from None
        raise Http404 from None


@login_required
def import_detail(request, pk: int):
    batch = _own_batch(request, pk)
    action = request.GET.get("action", "")
    page = importing.staged_rows(Actor.from_request(request), batch, action, paginate_params(request))
    return render(request, "residents/import_detail.html", {"batch": batch, "page": page, "action": action,
                                                            "summary_text": importing.describe_batch(batch)})


@login_required
def import_report(request, pk: int):
    """The per-row problem report as CSV (UTF-8 with BOM so that Excel shows Chinese)."""
    batch = _own_batch(request, pk)
    rows = [["", "", "文件", "", msg] for msg in batch.file_problems]
    rows += ([row.row_number, row.data.get("record_id") or "", row.get_action_display(),
              "" if row.score is None else f"{row.score:.3f}", "；".join(row.problems)] for row in batch.rows.all())
    # The report names the imported rows' people and problems: downloading it is an audited read.
    audit.record(Actor.from_request(request), "export", "import_batch", batch.pk, report="report.csv")
    return exports.csv_response(f"import-{batch.pk}-report.csv", ["行号", "记录号", "处理", "匹配概率", "问题"], rows)


@login_required
@require_POST
@domain_errors_as_pages
def import_commit(request, pk: int):
    batch = _own_batch(request, pk)
    try:
        batch = importing.commit_import(batch, actor=Actor.from_request(request))
        messages.success(request, importing.describe_batch(batch))
    except DomainError as e:
        messages.error(request, e.message)
    return redirect("residents:import", pk=pk)


@login_required
@require_POST
def import_discard(request, pk: int):
    batch = _own_batch(request, pk)
    try:
        importing.discard_import(batch, actor=Actor.from_request(request))
        messages.info(request, "已放弃该批次，档案库未改动")
    except DomainError as e:
        messages.error(request, e.message)
    return redirect("residents:imports")


@login_required
def review_queue(request):
    if not can(request.user, "residents.review"):
        raise PermissionDenied
    status = request.GET.get("status", ReviewStatus.OPEN)
    township, village = request.GET.get("township", "")[:12], request.GET.get("village", "")[:12]
    page = reviewing.review_page(Actor.from_request(request), status, paginate_params(request),
                                 township=township, village=village)
    return render(request, "residents/review_queue.html",
                  {"page": page, "status": status, "statuses": ReviewStatus.choices, "township": township,
                   "village": village, "townships": queries.township_choices(request.user),
                   "villages": villages_in_scope(request.user)})


COMPARED = [("name", "姓名"), ("get_sex_display", "性别"), ("birth_date", "出生日期"),
            ("masked_id_number", "身份证号"), ("masked_phone", "联系电话"), ("place", "居住地"),
            ("household_id", "家庭户")]


@login_required
@domain_errors_as_pages
def review_detail(request, pk: int):
    review = reviewing.get_review_for(Actor.from_request(request), pk)
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
    review = reviewing.get_review_for(Actor.from_request(request), pk)
    same = request.POST.get("decision") == "same"
    try:
        reviewing.decide_review(review, same, request.POST.get("note", ""), actor=Actor.from_request(request))
        messages.success(request, "已确认为同一人并合并档案" if same else "已确认不是同一人，今后不再配对")
    except DomainError as e:
        messages.error(request, e.message)
    return redirect("residents:reviews")


@login_required
@require_POST
@domain_errors_as_pages
def merge(request, pk: int):
    survivor = queries.get_resident_for(Actor.from_request(request), pk)
    try:
        other = queries.get_resident_for(Actor.from_request(request), int(request.POST.get("other", "0")))
        merging.merge_residents(survivor, other, request.POST.get("reason", ""), actor=Actor.from_request(request))
        messages.success(request, f"已将档案 {other.pk} 合并到本档案")
    except (DomainError, ValueError) as e:
        messages.error(request, getattr(e, "message", "请输入要合并的档案编号"))
    return redirect("residents:detail", pk=pk)


@login_required
@require_POST
@domain_errors_as_pages
def unmerge(request, event_id: int):
    event = get_object_or_404(MergeEvent, pk=event_id)
    queries.get_resident_for(Actor.from_request(request), event.survivor_id)  # scope check on the survivor
    try:
        merged = merging.unmerge_residents(event, actor=Actor.from_request(request))
        messages.success(request, f"已拆分：档案 {merged.pk} 已恢复")
    except DomainError as e:
        messages.error(request, e.message)
    if request.POST.get("review", "").isdigit():  # undone from the review page: back to that review
        return redirect("residents:review", pk=int(request.POST["review"]))
    return redirect("residents:detail", pk=event.survivor_id)


