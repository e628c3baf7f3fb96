"""Importing another system's patient list into the index: preview first, commit on request.

The preview stages every row with what would happen to it (link to an existing person, queue for
review, create a new person, or why it cannot be imported); the index is untouched until the
batch is committed, and the commit runs in one transaction."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from yigongti.core import audit
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yigongti.core.paging import slice_page
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Region, RegionLevel

from .candidates import Probe, find_candidates, make_probe
from .matching.io import ErrorReport, InputFileError, check_table, read_table
from .matching.names import folded_key, is_garbled
from .merging import can_manage_index
from .models import (BatchStatus, ImportBatch, ImportRow, LinkHow, MatchReview, Resident, RowAction, SourceRecord)

MAX_ROWS = 10_000  # a preview runs in the request; larger files go through `yigongti empi link`


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


def preview_import(actor, user, path: str | Path, filename: str, source_system: str = "") -> ImportBatch:
    """Read a CSV/Excel/Parquet patient list and stage what importing it would do."""
    if not can_manage_index(user):
        raise Forbidden("只有医共体管理、机构管理员或卫健局可以导入档案")
    report = ErrorReport()
    try:
        table = check_table(read_table(path), report)
    except InputFileError as e:
        raise InvalidInput(e.code, e.message, field="file") from None
    if table.num_rows > MAX_ROWS:
        raise InvalidInput("file_too_large", f"文件超过 {MAX_ROWS} 行，请用命令 yigongti empi link 批量处理", field="file")
    batch = ImportBatch.objects.create(source_system=(source_system or "").strip()[:60] or "import",
                                       filename=filename[:200], uploaded_by=user,
                                       file_problems=[r["message"] for r in report.rows if r["row_number"] is None])
    staged = [ImportRow(batch=batch, row_number=r["row_number"], data={"record_id": r["record_id"]},
                        problems=[r["message"]], action=RowAction.ERROR)
              for r in report.rows if r["row_number"] is not None and r["severity"] == "error"]
    pool = _pool(user)
    known = set(SourceRecord.objects.filter(source_system=batch.source_system).values_list("record_id", flat=True))
    for i in range(table.num_rows):
        data = _row_dict(table, i)
        system = data.get("source_system") or batch.source_system
        data["source_system"] = system
        staged.append(_stage_row(batch, int(table.column("row_number")[i].as_py()), data, pool,
                                 known if system == batch.source_system else None))
    ImportRow.objects.bulk_create(staged, batch_size=2000)
    batch.summary = dict(Counter(r.action for r in staged))
    batch.save(update_fields=["summary"])
    audit.record(actor, "create", "import_batch", batch.pk, rows=len(staged), summary=batch.summary)
    return batch


def _probe(data: dict) -> Probe:
    p = make_probe(name=data.get("name"), sex=data.get("sex"), birth_date=data.get("birth_date"),
                   id_number=data.get("id_number"), phone=data.get("phone"), address=data.get("address"),
                   household=data.get("household_id"))
    if p.name and is_garbled(p.name):
        p.problems.append("姓名无法识别（乱码），仅按其他信息匹配")
        p.name = ""
    return p


def _stage_row(batch, row_number: int, data: dict, pool, known: set | None) -> ImportRow:
    row = ImportRow(batch=batch, row_number=row_number, data=data)
    if known is not None and data.get("record_id") in known:
        row.action, row.problems = RowAction.SKIP, ["该记录号此前已导入，跳过"]
        return row
    p = _probe(data)
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
    village, area = places.locate(p.address)
    # A number already held by someone else (a parent's ID on a child's record) stays on the source record only.
    id_number = p.id_normalised if p.id_normalised and not Resident.objects.filter(
        id_number=p.id_normalised).exists() else None
    return Resident.objects.create(name=p.name[:40], sex=p.sex or "U", birth_date=p.birth_date, id_number=id_number,
                                   phone=p.phone, village=village, area_code=area, pinyin_key=folded_key(p.name))


def commit_import(actor, user, batch: ImportBatch) -> ImportBatch:
    """Apply a previewed batch in one transaction. Rows staged as "create" are matched again, so that
    two rows of the same new person in one file become one person."""
    if not can_manage_index(user):
        raise Forbidden("只有医共体管理、机构管理员或卫健局可以导入档案")
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != BatchStatus.PREVIEWED:
            raise Conflict("batch_not_pending", f"该批次已{batch.get_status_display()}，不能再次入库")
        pool, places, counts = _pool(user), Places(user), Counter()
        for row in batch.rows.exclude(action__in=[RowAction.ERROR, RowAction.SKIP]).select_related("candidate"):
            p, data = _probe(row.data), row.data
            if SourceRecord.objects.filter(source_system=data["source_system"], record_id=data["record_id"]).exists():
                counts["skip"] += 1
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
            counts[action] += 1
        batch.status, batch.committed_at = BatchStatus.COMMITTED, timezone.now()
        batch.summary = {**batch.summary, "committed": dict(counts)}
        batch.save(update_fields=["status", "committed_at", "summary"])
        audit.record(actor, "create", "resident", "", import_batch=batch.pk, committed=dict(counts))
    return batch


def get_batch_for(who, pk) -> ImportBatch:
    """A batch its uploader may open (superusers any); others get 404 so batch ids cannot be probed."""
    user = getattr(who, "user", who)
    if not can_manage_index(user):
        raise Forbidden("只有医共体管理、机构管理员或卫健局可以导入档案")
    qs = ImportBatch.objects.all() if user.is_superuser else ImportBatch.objects.filter(uploaded_by=user)
    try:
        return qs.get(pk=pk)
    except (ImportBatch.DoesNotExist, ValueError):
        raise NotFound("导入批次不存在") from None


def staged_rows(who, batch: ImportBatch, action: str = "", page: int = 1, size: int = 100):
    """One page of a batch's staged rows; the index persons they were matched to are audited as read."""
    rows = batch.rows.select_related("candidate")
    if action:
        rows = rows.filter(action=action)
    result = slice_page(rows, page, size)
    audit.record(who, "list", "resident", "", import_batch=batch.pk,
                 ids=sorted({r.candidate_id for r in result.items if r.candidate_id}))
    return result


def discard_import(actor, user, batch: ImportBatch) -> ImportBatch:
    if not can_manage_index(user) or batch.uploaded_by_id != user.pk and not user.is_superuser:
        raise Forbidden("只能放弃自己上传的批次")
    updated = ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.PREVIEWED).update(
        status=BatchStatus.DISCARDED)
    if not updated:
        raise Conflict("batch_not_pending", "该批次已入库或已放弃")
    audit.record(actor, "update", "import_batch", batch.pk, status="discarded")
    batch.refresh_from_db()
    return batch
