"""Use cases of the imaging center's studies: the PACS (Orthanc) keeps the images, the platform keeps
``ImagingStudy`` rows — which order a study belongs to, the key images its reader chose.

- ``sync_studies()`` reads Orthanc's change log after the last position it saw; every study that became stable
  (``StableStudy``: no new image for ``StableAge`` seconds) becomes an ``ImagingStudy``, matched to the order
  with its AccessionNumber (the order then counts as acquired) or put on the unmatched list. Run by
  ``yigongti worker`` (``imaging_jobs``), by the center's 同步 button and by the demo. Without a position (a
  new cache, a new PACS) it compares Orthanc's study list with the rows instead, so nothing is missed.
- ``match_study`` / ``ignore_study``: a member of the imaging center files an unmatched study by hand.
- ``set_key_images``: the reader marks the images the report refers to.
- ``register()`` fills ``KIND_PANELS["imaging"]`` (the order page's images) and loads the recurring poll."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from yigongti.orgs.permissions import check

from . import pacs
from .models import Center, CenterKind, Device, DeviceKind, ImagingStudy, Order, OrderStatus, StudyStatus

log = logging.getLogger(__name__)

CURSOR_KEY = "telemedicine:orthanc:seq"
CURSOR_TTL = 90 * 24 * 3600
IMAGING_KINDS = (CenterKind.IMAGING, CenterKind.PATHOLOGY)  # a pathology slide (SM) may come through Orthanc too


class PacsUnavailable(DomainError):
    status = 503

    def __init__(self, message: str = "") -> None:
        super().__init__("pacs_unavailable", message or _("影像归档系统（PACS）未配置或暂时无法连接"))


def _client() -> pacs.Orthanc:
    c = pacs.client()
    if c is None:
        raise PacsUnavailable(_("影像归档系统（PACS）未配置"))
    return c


def _cursor_key(c: pacs.Orthanc) -> str:
    return f"{CURSOR_KEY}:{c.url}"


def reset_cursor() -> None:
    c = pacs.client()
    if c is not None:
        cache.delete(_cursor_key(c))


# ---- sync -------------------------------------------------------------------------------------------------

def sync_studies(*, actor: Actor | None = None, client: pacs.Orthanc | None = None) -> int:
    """Bring the studies that arrived in Orthanc since the last sync into the platform; returns how many new
    ``ImagingStudy`` rows were made (matched or not). Safe to run from two places at once."""
    c = client or pacs.client()
    if c is None:
        return 0
    actor = actor or Actor.system("pacs")
    key = _cursor_key(c)
    since = cache.get(key)
    try:
        if since is None or since > c.last_change():
            last = c.last_change()
            ids = _unknown(c.study_ids())
        else:
            ids, last = _changed_studies(c, int(since))
        made = 0
        for orthanc_id in ids:
            made += int(_store(c, orthanc_id, actor))
    except pacs.PacsError as e:
        log.warning("sync_studies: %s", e)
        raise PacsUnavailable() from e
    cache.set(key, last, CURSOR_TTL)
    return made


def _changed_studies(c: pacs.Orthanc, since: int) -> tuple[list[str], int]:
    ids: list[str] = []
    last = since
    while True:
        changes, last, done = c.changes(since=last, limit=1000)
        for ch in changes:
            if ch.kind == "StableStudy" and ch.orthanc_id not in ids:
                ids.append(ch.orthanc_id)
        if done or not changes:
            return ids, last


def _unknown(orthanc_ids: list[str]) -> list[str]:
    known: set[str] = set()
    for i in range(0, len(orthanc_ids), 500):
        chunk = orthanc_ids[i:i + 500]
        known.update(ImagingStudy.objects.filter(orthanc_id__in=chunk).values_list("orthanc_id", flat=True))
    return [i for i in orthanc_ids if i not in known]


def _study_date(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text[:8], "%Y%m%d").date()
    except ValueError:
        return None


def _order_for_accession(accession: str) -> Order | None:
    if not accession:
        return None
    return (Order.objects.filter(accession_no=accession, kind__in=IMAGING_KINDS)
            .exclude(status=OrderStatus.CANCELLED).first())


def _store(c: pacs.Orthanc, orthanc_id: str, actor: Actor) -> bool:
    """One study: refresh its row if we have it (more images may have come), else make it and match it."""
    info = c.study(orthanc_id)
    fields = {"study_instance_uid": info.study_instance_uid[:64], "accession_no": info.accession_no[:20],
              "modality": ",".join(info.modalities)[:16], "description": info.description[:120],
              "source_ae": info.source_ae[:16], "study_date": _study_date(info.study_date),
              "series_count": len(info.series), "instance_count": len(info.instances),
              "instances": info.instances}
    existing = ImagingStudy.objects.filter(orthanc_id=orthanc_id).first()
    if existing is not None:
        if existing.instances != info.instances:
            ImagingStudy.objects.filter(pk=existing.pk).update(**fields)
        return False
    now = timezone.now()
    device = Device.objects.filter(ae_title=info.source_ae, kind=DeviceKind.MODALITY).first() \
        if info.source_ae else None
    order = _order_for_accession(info.accession_no)
    try:
        with transaction.atomic():
            study = ImagingStudy.objects.create(
                orthanc_id=orthanc_id, received_at=now, device=device, order=order,
                status=StudyStatus.MATCHED if order else StudyStatus.UNMATCHED,
                matched_at=now if order else None, **fields)
            audit.record(actor, "create", "telemedicine_imaging_study", study.pk,
                         matched=bool(order), order=order.pk if order else None)
            if order is not None:
                _acquired(order, study, actor)
    except IntegrityError:  # another sync stored it first
        return False
    _warm(c, orthanc_id, info.instances)
    return True


def _acquired(order: Order, study: ImagingStudy, actor: Actor) -> None:
    from .services.orders import mark_acquired

    if order.status == OrderStatus.ORDERED:
        mark_acquired(order, actor=actor, at=study.received_at, device=study.device)


def _warm(c: pacs.Orthanc, orthanc_id: str, instance_ids: list[str]) -> None:
    """Render the study's thumbnail sheet into the cache now, so the first page that shows it is fast."""
    from .queries import imaging as q

    try:
        q.sheet_bytes(orthanc_id, instance_ids, client=c)
    except (pacs.PacsError, OSError) as e:
        log.warning("thumbnails of %s not warmed: %s", orthanc_id, e)


# ---- the center's hand ----------------------------------------------------------------------------------

def _study(pk: int) -> ImagingStudy:
    study = ImagingStudy.objects.select_related("order").filter(pk=pk).first()
    if study is None:
        raise NotFound(_("影像检查不存在"))
    return study


def _imaging_center(actor: Actor, order: Order | None = None) -> Center | None:
    if order is not None:
        return order.center
    if actor.user is None:
        return None
    return Center.objects.filter(kind=CenterKind.IMAGING, members__user=actor.user).first() \
        or Center.objects.filter(kind=CenterKind.IMAGING).first()


def match_study(pk: int, order_pk: int | str, *, actor: Actor, note: str = "") -> ImagingStudy:
    """人工匹配: file an unmatched (or wrongly matched) study under an imaging order, by its id or accession no."""
    study = _study(pk)
    order = _find_order(order_pk)
    check(actor, "telemedicine.match_study", order.center)
    if study.order_id == order.pk:
        return study
    with transaction.atomic():
        locked = ImagingStudy.objects.select_for_update().get(pk=study.pk)
        previous = locked.order_id
        locked.order = order
        locked.status = StudyStatus.MATCHED
        locked.matched_at = timezone.now()
        locked.matched_by = actor.user
        locked.key_instances = []
        locked.save(update_fields=["order", "status", "matched_at", "matched_by", "key_instances"])
        audit.record(actor, "update", "telemedicine_imaging_study", locked.pk, move="matched", order=order.pk,
                     previous=previous, note=note[:200])
        _acquired(order, locked, actor)
    return locked


def _find_order(order_pk: int | str) -> Order:
    text = str(order_pk).strip()
    qs = Order.objects.select_related("center").filter(kind__in=IMAGING_KINDS)
    order = qs.filter(accession_no=text.upper()).first()
    if order is None and text.isdigit():
        order = qs.filter(pk=int(text)).first()
    if order is None:
        raise InvalidInput("order_not_found", _("未找到该影像申请单（请输入申请单号）"), field="order")
    if order.status == OrderStatus.CANCELLED:
        raise Conflict("cancelled", _("申请单已取消，不能匹配影像"))
    return order


def ignore_study(pk: int, reason: str, *, actor: Actor) -> ImagingStudy:
    """忽略: a study that belongs to no order of ours (a test image, a phantom), with a reason."""
    study = _study(pk)
    check(actor, "telemedicine.match_study", _imaging_center(actor, study.order))
    if not (reason or "").strip():
        raise InvalidInput("reason_required", _("请填写忽略理由"), field="reason")
    if study.status == StudyStatus.MATCHED:
        raise Conflict("matched", _("已匹配的影像不能忽略"))
    with transaction.atomic():
        ImagingStudy.objects.filter(pk=study.pk).update(status=StudyStatus.IGNORED)
        audit.record(actor, "update", "telemedicine_imaging_study", study.pk, move="ignored", reason=reason[:200])
    study.status = StudyStatus.IGNORED
    return study


def set_key_images(pk: int, instance_ids: list[str], *, actor: Actor) -> ImagingStudy:
    """关键图像: the reader marks the images the report refers to (instances of this study, in its order)."""
    study = _study(pk)
    if study.order is None:
        raise Conflict("unmatched", _("未匹配申请单的影像不能标记关键图像"))
    check(actor, "telemedicine.report", study.order)
    wanted = {i.strip() for i in instance_ids if i and i.strip()}
    unknown = wanted - set(study.instances)
    if unknown:
        raise InvalidInput("unknown_instance", _("所选图像不属于该检查"), field="instances")
    if len(wanted) > 20:
        raise InvalidInput("too_many", _("关键图像最多 20 张"), field="instances")
    keys = [i for i in study.instances if i in wanted]
    with transaction.atomic():
        ImagingStudy.objects.filter(pk=study.pk).update(key_instances=keys)
        audit.record(actor, "update", "telemedicine_imaging_study", study.pk, move="key_images", count=len(keys))
    study.key_instances = keys
    return study


def sync_now(*, actor: Actor) -> int:
    """同步: a member of the imaging center pulls what the PACS received now (the worker does it every pass)."""
    if actor.user is not None:
        center = _imaging_center(actor)
        if center is None:
            raise Forbidden(_("只有影像中心人员可以同步影像"))
        check(actor, "telemedicine.match_study", center)
    return sync_studies(actor=actor)


def upload_study(files: list[bytes], *, client: pacs.Orthanc | None = None) -> list[str]:
    """Store DICOM instances in Orthanc (the demo, the tests; devices send with C-STORE): their Orthanc ids."""
    c = client or _client()
    return [c.upload(b)["ID"] for b in files]


def register() -> None:
    from . import imaging_jobs  # noqa: F401  (the worker's recurring poll)
    from .queries.imaging import order_panel
    from .registry import KIND_PANELS

    KIND_PANELS["imaging"] = order_panel
