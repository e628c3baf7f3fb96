"""Importing another system's patient list into the index: preview first, commit on request.

The preview stages every row with what would happen to it (link to an existing person, queue for
review, create a new person, or why it cannot be imported); the index is untouched until the
batch is committed, and the commit runs in one transaction."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import cast

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput, NotFound
from yigongti.core.paging import slice_page
from yigongti.core.scoping import scope_for
from yigongti.core.uploads import DIGITS_LOST_MESSAGE, DateCellError, digits_lost, parse_date
from yigongti.orgs.models import Region, RegionLevel
from yigongti.orgs.permissions import check

from . import permissions  # noqa: F401  (declares the residents.* verbs)
from .candidates import Probe, find_candidates, make_probe
from .matching.io import (
    COLUMN_LABELS,
    INPUT_COLUMNS,
    TEMPLATE_EXAMPLE,
    ErrorReport,
    InputFileError,
    check_table,
    read_table,
)
from .matching.names import folded_key, is_garbled
from .models import BatchStatus, ImportBatch, ImportRow, LinkHow, MatchReview, Resident, RowAction, SourceRecord
from .services import name_problem

log = logging.getLogger(__name__)

MAX_ROWS = 10_000  # a preview runs in the request; larger files go through `yigongti empi link`
TOO_MANY = "请拆分后分批导入，或用命令 yigongti empi link 批量处理"
FIELD_LIMITS = {"record_id": 64, "source_system": 60}
REQUIRED_COLUMNS = ("name",)  # and record_id, which the ID number stands in for when the file has none
TEMPLATE_COLUMNS = [c for c in INPUT_COLUMNS if c != "source_system"]


def template_xlsx() -> bytes:
    """The downloadable Excel template: Chinese headers, one example row, text-formatted columns."""
    from yigongti.core.uploads import template_workbook

    return template_workbook("居民名单", [COLUMN_LABELS[c] for c in TEMPLATE_COLUMNS], TEMPLATE_EXAMPLE, [
        "第一行是列名，请勿修改；从第二行起每行一位居民（示例行请删除或改成真实数据）。",
        "必填：姓名，以及记录号或身份证号（没有记录号时以身份证号作为记录号）。",
        "出生日期可写 1972-07-08、1972/7/8、19720708 或 1972年7月8日，也可以是 Excel 日期；"
        "早于 1900 年或晚于今天的会被拒绝。",
        "身份证号、电话请保持“文本”格式：身份证号若被 Excel 存成数字（如 4.31127E+17）后几位已丢失，需要重新录入。",
        f"每个文件最多 {MAX_ROWS} 行；可另存为 Excel（.xlsx）或 CSV（UTF-8 或 GBK 编码均可）后上传。",
    ])


class ColumnsUnknown(InvalidInput):
    """The file's headers do not say where the names are: the page shows a column-mapping form, the API
    answers 422 ``missing_columns`` with the file's headers (``errors["headers"]``) to send back as ``mapping``."""

    def __init__(self, message: str, headers: list[str]):
        super().__init__("missing_columns", message, field="file",
                         errors={"file": [message], "headers": list(headers), "fields": list(INPUT_COLUMNS)})
        self.headers = list(headers)


def _pool(user):
    return scope_for(user).filter(Resident.objects.all())


class Places:
    """Recognises 乡镇/村 names inside a free-text address, within the user's scope."""

    def __init__(self, user):
        scope = scope_for(user)
        regions = scope.filter(Region.objects.filter(level__in=[RegionLevel.TOWNSHIP, RegionLevel.VILLAGE]), "code")
        self.townships = [r for r in regions if r.level == RegionLevel.TOWNSHIP]
        self.villages = [r for r in regions.select_related("parent") if r.level == RegionLevel.VILLAGE]
        self.fallback = (scope.prefixes[0] if scope.prefixes else "").ljust(12, "0")[:12]

    def locate(self, address: str) -> tuple[Region | None, str]:
        """(village or None, 12-digit area code)."""
        address = address or ""
        hits = [v for v in self.villages if v.name in address and (v.parent is None or v.parent.name in address)]
        if not hits:
            hits = [v for v in self.villages if v.name in address]
        if len(hits) == 1:
            return hits[0], hits[0].code
        towns = [t for t in self.townships if t.name in address]
        if len(towns) == 1:
            return None, towns[0].code
        return None, self.fallback


def _row_dict(table, i) -> dict:
    return {c: (None if table.column(c)[i].as_py() is None else str(table.column(c)[i].as_py()))
            for c in table.column_names if c != "row_number"}


def preview_import(path: str | Path, filename: str, source_system: str = "", *, actor: Actor,
                   mapping: dict[str, str] | None = None) -> ImportBatch:
    """Read a CSV/Excel/Parquet patient list and stage what importing it would do, in one transaction.

    ``mapping`` (our column → the file's column) overrides the recognised headers. Raises
    ``ColumnsUnknown`` when no name column can be found, ``InvalidInput`` for a file over the limits."""
    check(actor, "residents.import")
    user = actor.user
    report = ErrorReport()
    try:
        raw = read_table(path, max_rows=MAX_ROWS)
        table = check_table(raw, report, mapping)
    except InputFileError as e:
        if e.code == "missing_columns":
            raise ColumnsUnknown(f"{e.message}。请指明文件中的各列", raw.column_names) from None
        raise InvalidInput(e.code, e.message.replace(str(path), "上传的文件"), field="file") from None
    source = (source_system or "").strip().replace("\x00", "")[:60] or "import"
    filename = (filename or "upload").replace("\x00", "")[:200]
    try:
        staged = _stage_rows(table, report, source, user)  # reads only: no lock held while matching
        with transaction.atomic():  # the batch and all its rows, or nothing (a killed preview leaves nothing)
            batch = ImportBatch.objects.create(
                source_system=source, filename=filename, uploaded_by=user,
                file_problems=[r["message"] for r in report.rows
                               if r["row_number"] is None and r["field"] != "source_system"])  # the form names it
            for row in staged:
                row.batch = batch
            ImportRow.objects.bulk_create(staged, batch_size=2000)
            counts = Counter(str(r.action) for r in staged)
            # "total" marks the batch complete: a commit checks that this many rows were staged
            batch.summary = {**{a.value: counts[a.value] for a in RowAction if counts[a.value]}, "total": len(staged)}
            batch.save(update_fields=["summary"])
            audit.record(actor, "create", "import_batch", batch.pk, rows=len(staged), summary=batch.summary)
    except Exception:  # never a half-staged batch that later "commits" as {}, and never a 500
        log.exception("import preview failed")
        batch = ImportBatch.objects.create(source_system=source, filename=filename, uploaded_by=user,
                                           status=BatchStatus.FAILED, failure="预览时出错，未保存任何行")
        raise InvalidInput("preview_failed", f"预览失败：批次 {batch.pk} 已标记为失败，档案库未改动，"
                           "请检查文件后重新上传", field="file") from None
    return batch


def _stage_rows(table, report: ErrorReport, source: str, user) -> list[ImportRow]:
    staged = [ImportRow(row_number=cast(int, r["row_number"]), data={"record_id": r["record_id"]},
                        problems=[r["message"]], action=RowAction.ERROR)
              for r in report.rows if r["row_number"] is not None and r["severity"] == "error"]
    pool = _pool(user)
    known = set(SourceRecord.objects.filter(source_system=source).values_list("record_id", flat=True))
    for i in range(table.num_rows):
        data = _row_dict(table, i)
        system = data.get("source_system") or source
        data["source_system"] = system
        staged.append(_stage_row(None, int(table.column("row_number")[i].as_py()), data, pool,
                                 known if system == source else None))
    return staged


def _check_row(data: dict) -> tuple[Probe, dict[str, str]]:
    """The probe of one staged row and its field errors. The name goes through the form's own rule
    (``services.name_problem``); a birth date before 1900 or after today is an error; an ID number
    that Excel stored as a number is flagged and not used."""
    errors: dict[str, str] = {}
    for f, limit in FIELD_LIMITS.items():
        if len(str(data.get(f) or "")) > limit:
            errors[f] = f"超过 {limit} 个字符"
    name = (data.get("name") or "").strip()
    garbled = bool(name) and is_garbled(name)
    if name and not garbled and (problem := name_problem(name)):
        errors["name"] = problem
    try:
        birth = parse_date(data.get("birth_date"), what="出生日期")
    except DateCellError as e:
        errors["birth_date"], birth = e.message, None
    lost = digits_lost(data.get("id_number"))
    p = make_probe(name="" if garbled or "name" in errors else name, sex=data.get("sex"), birth_date=birth,
                   id_number="" if lost else data.get("id_number"), phone=data.get("phone"),
                   address=data.get("address"), household=data.get("household_id"))
    if garbled:
        p.problems.append("姓名无法识别（乱码），仅按其他信息匹配")
    if lost:
        p.problems.append(DIGITS_LOST_MESSAGE)
    return p, errors


def _probe(data: dict) -> Probe:
    return _check_row(data)[0]


def _stage_row(batch, row_number: int, data: dict, pool, known: set | None) -> ImportRow:
    row = ImportRow(batch=batch, row_number=row_number, data=data)
    if known is not None and data.get("record_id") in known:
        row.action, row.problems = RowAction.SKIP, ["该记录号此前已导入，跳过"]
        return row
    p, errors = _check_row(data)
    if errors:
        row.action = RowAction.ERROR
        row.problems = [f"{COLUMN_LABELS[f]}：{m}" for f, m in errors.items()] + list(p.problems)
        return row
    row.problems = list(p.problems)
    top = next(iter(find_candidates(p, pool, limit=1)), None)
    if top is not None:
        row.candidate, row.score = top.resident, round(top.score, 4)
        row.reasons = {"for": top.reasons_for, "against": top.reasons_against}
    if top is not None and top.linked:
        row.action = RowAction.LINK
    elif not (p.name and p.birth_date):
        row.action = RowAction.ERROR
        row.problems.append("缺少可用的姓名或出生日期，无法新建档案")
    elif top is not None:
        row.action = RowAction.REVIEW
    else:
        row.action = RowAction.CREATE
    return row


def _source_record(person, data: dict, p: Probe, batch, how, score=None, reasons=None) -> SourceRecord:
    return SourceRecord.objects.create(
        person=person, source_system=data["source_system"][:60], record_id=str(data.get("record_id"))[:64],
        name=(data.get("name") or "")[:60], sex=p.sex, birth_date=p.birth_date,
        id_number=(data.get("id_number") or "")[:24], id_valid=bool(p.id_normalised),
        phone=(data.get("phone") or "")[:24], address=(data.get("address") or "")[:200],
        household_ref=(data.get("household_id") or "")[:40], batch=batch, how=how, match_score=score,
        explanation=reasons or {})


def _new_person(p: Probe, places: Places) -> Resident:
    assert p.birth_date is not None  # rows without one are staged as errors and never created
    village, area = places.locate(p.address)
    # A number already held by someone else (a parent's ID on a child's record) stays on the source record only.
    id_number = p.id_normalised if p.id_normalised and not Resident.objects.filter(
        id_number=p.id_normalised).exists() else None
    return Resident.objects.create(name=p.name[:40], sex=p.sex or "U", birth_date=p.birth_date, id_number=id_number,
                                   phone=p.phone, village=village, area_code=area, pinyin_key=folded_key(p.name)[:80])


def commit_import(batch: ImportBatch, *, actor: Actor) -> ImportBatch:
    """Apply a previewed batch in one transaction. Rows staged as "create" are matched again, so that
    two rows of the same new person in one file become one person."""
    check(actor, "residents.import", batch)
    user = actor.user
    at = [0]  # the row being written, for the message if the database refuses it
    try:
        with transaction.atomic():
            batch = _commit_rows(batch.pk, user, actor, at)
    except InvalidInput as e:
        _mark_failed(batch.pk, e.message)
        raise
    except DatabaseError:
        log.exception("import commit failed")
        message = _("入库失败：第 %(row)s 行无法写入档案库，整批未入库"
                    "（批次已标记为失败，可放弃后修改文件重新上传）") % {"row": at[0]}
        _mark_failed(batch.pk, message)
        raise InvalidInput("commit_failed", message, field="file") from None
    return batch


def _mark_failed(pk: int, reason: str) -> None:
    ImportBatch.objects.filter(pk=pk, status=BatchStatus.PREVIEWED).update(status=BatchStatus.FAILED,
                                                                          failure=reason[:300])


def _commit_rows(pk: int, user, actor: Actor, at: list[int]) -> ImportBatch:
    batch = ImportBatch.objects.select_for_update().get(pk=pk)
    if batch.status != BatchStatus.PREVIEWED:
        raise Conflict("batch_not_pending", _("该批次%(status)s，不能入库") % {"status": batch.get_status_display()})
    staged = batch.rows.count()
    if batch.summary.get("total") != staged:
        raise InvalidInput("batch_incomplete", _("该批次的预览不完整（应有 %(total)s 行，实际 %(staged)s 行），"
                                                 "可能在预览时中断：不能入库，请放弃后重新上传")
                           % {"total": batch.summary.get("total", "?"), "staged": staged})
    pool, places = _pool(user), Places(user)
    counts: Counter[str] = Counter()
    for row in batch.rows.exclude(action__in=[RowAction.ERROR, RowAction.SKIP]).select_related("candidate"):
        at[0] = row.row_number
        data = row.data
        p, errors = _check_row(data)
        if errors:  # staged by an older preview, or edited since: refuse naming the row and field
            f, m = next(iter(errors.items()))
            message = (_("第 %(row)s 行%(column)s：%(problem)s，整批未入库"
                         "（批次已标记为失败，可放弃后修改文件重新上传）")
                       % {"row": row.row_number, "column": _(COLUMN_LABELS[f]), "problem": _(m)})
            raise InvalidInput("row_invalid", message, field=f, errors={f: [message]})
        if SourceRecord.objects.filter(source_system=data["source_system"], record_id=data["record_id"]).exists():
            counts[RowAction.SKIP.value] += 1
            continue
        action, candidate = row.action, row.candidate
        if action == RowAction.CREATE:
            again = next(iter(find_candidates(p, pool, limit=1)), None)
            if again is not None and again.linked:
                action, candidate = RowAction.LINK, again.resident
        if action == RowAction.LINK and candidate is not None and candidate.merged_into_id is None:
            _source_record(candidate, data, p, batch, LinkHow.LINKED, row.score, row.reasons)
        elif action == RowAction.REVIEW and candidate is not None:
            person = _new_person(p, places)
            record = _source_record(person, data, p, batch, LinkHow.CREATED, row.score, row.reasons)
            MatchReview.objects.create(record=record, person=person, candidate=candidate, score=row.score or 0,
                                       reasons_for=row.reasons.get("for", []),
                                       reasons_against=row.reasons.get("against", []),
                                       area_code=candidate.area_code)
        else:
            action = RowAction.CREATE
            _source_record(_new_person(p, places), data, p, batch, LinkHow.CREATED)
        counts[RowAction(action).value] += 1
    batch.status, batch.committed_at = BatchStatus.COMMITTED, timezone.now()
    batch.summary = {**batch.summary, "committed": dict(counts)}
    batch.save(update_fields=["status", "committed_at", "summary"])
    audit.record(actor, "create", "resident", "", import_batch=batch.pk, committed=dict(counts))
    return batch


SUMMARY_ORDER = [RowAction.CREATE, RowAction.LINK, RowAction.REVIEW, RowAction.SKIP, RowAction.ERROR]


def describe_counts(counts: dict) -> str:
    """``{"create": 4, "link": 3}`` as 新建 4、关联已有 3 (nothing for an empty batch)."""
    parts = [f"{a.label} {counts[a.value]}" for a in SUMMARY_ORDER if counts.get(a.value)]
    return _("、").join(parts) or _("无")


def describe_batch(batch: ImportBatch) -> str:
    """A batch's outcome in words, for the list and the messages."""
    summary = batch.summary or {}
    if batch.status == BatchStatus.FAILED:
        return _("导入失败：%(reason)s") % {"reason": batch.failure or _("原因未记录")}
    if batch.status == BatchStatus.COMMITTED:
        return _("已入库：%(counts)s") % {"counts": describe_counts(summary.get("committed", {}))}
    staged = {k: v for k, v in summary.items() if k in RowAction.values}
    total = summary.get("total")
    text = (_("共 %(total)s 行：%(counts)s") % {"total": total, "counts": describe_counts(staged)}
            if total is not None else _("预览不完整"))
    return _("已放弃（%(text)s）") % {"text": text} if batch.status == BatchStatus.DISCARDED else text


def get_batch_for(actor: Actor, pk) -> ImportBatch:
    """A batch its uploader may open (superusers any); others get 404 so batch ids cannot be probed."""
    check(actor, "residents.import")
    user = actor.user
    everything = user is None or user.is_superuser
    qs = ImportBatch.objects.all() if everything else ImportBatch.objects.filter(uploaded_by=user)
    try:
        return qs.get(pk=pk)
    except (ImportBatch.DoesNotExist, ValueError):
        raise NotFound(_("导入批次不存在")) from None


def staged_rows(actor: Actor, batch: ImportBatch, action: str = "", page: int = 1, size: int = 100):
    """One page of a batch's staged rows; the index persons they were matched to are audited as read."""
    rows = batch.rows.select_related("candidate")
    if action:
        rows = rows.filter(action=action)
    result = slice_page(rows, page, size)
    audit.record(actor, "list", "resident", "", import_batch=batch.pk,
                 ids=sorted({r.candidate_id for r in result.items if r.candidate_id}))
    return result


def discard_import(batch: ImportBatch, *, actor: Actor) -> ImportBatch:
    check(actor, "residents.import", batch)
    updated = ImportBatch.objects.filter(pk=batch.pk, status__in=[BatchStatus.PREVIEWED, BatchStatus.FAILED]).update(
        status=BatchStatus.DISCARDED)
    if not updated:
        raise Conflict("batch_not_pending", _("该批次已入库或已放弃"))
    audit.record(actor, "update", "import_batch", batch.pk, status="discarded")
    batch.refresh_from_db()
    return batch
