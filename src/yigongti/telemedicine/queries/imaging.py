"""Scoped reads of imaging studies and their images.

A matched study is seen by whoever may see its order (the patient's scope, the readers of its center, the
ordering facility) and whose role reads clinical records; an unmatched one only by the imaging center's
members (it may carry any patient's name). Image bytes come from Orthanc once and are then kept on disk in the
data directory (an Orthanc instance never changes under its id), so a study's thumbnails are served without a
round trip to the PACS. The first look at a study's images by a user is audited (then once per
``AUDIT_WINDOW`` seconds, not once per thumbnail)."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.orgs.permissions import Category, can_read, check_read

from .. import pacs
from ..models import Center, CenterKind, CenterMember, ImagingStudy, Order, StudyStatus
from ..permissions import member_of

THUMB = 160
PREVIEW = 768
SIZES = (THUMB, PREVIEW)
SHEET_COLS = 6
SHEET_MAX = 120  # images on a study's sheet; the whole study is read in Orthanc's viewer
AUDIT_WINDOW = 600  # seconds
GRANT_TTL = 120  # seconds a user's checked access to a study's images is remembered (the images of one page)


def cache_dir() -> Path:
    return Path(settings.DATA_DIR) / "pacs-cache"


def _cache_path(instance_id: str, size: int) -> Path:
    safe = "".join(ch for ch in instance_id if ch.isalnum() or ch == "-")[:64]
    return cache_dir() / safe[:2] / f"{safe}-{size}.jpg"


def thumbnail_bytes(instance_id: str, size: int = THUMB, *, client: pacs.Orthanc | None = None) -> bytes:
    """The instance as a JPEG of at most ``size`` px: from the disk cache, else rendered by Orthanc and kept."""
    path = _cache_path(instance_id, size)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    c = client or pacs.client()
    if c is None:
        raise pacs.PacsError("PACS not configured")
    data = c.preview(instance_id, size)
    _write(path, data)
    return data


def sheet_layout(n: int) -> tuple[int, int]:
    """Columns and rows of a study's contact sheet of ``n`` images."""
    n = max(1, min(n, SHEET_MAX))
    cols = min(SHEET_COLS, n)
    return cols, (n + cols - 1) // cols


def tile_style(index: int, n: int) -> str:
    """The CSS that shows tile ``index`` of the sheet in a square box of any size."""
    cols, rows = sheet_layout(n)
    col, row = index % cols, index // cols
    x = 0 if cols == 1 else col * 100 / (cols - 1)
    y = 0 if rows == 1 else row * 100 / (rows - 1)
    return f"background-size:{cols * 100}% {rows * 100}%;background-position:{x:.4f}% {y:.4f}%"


def _sheet_path(orthanc_id: str, instances: list[str]) -> Path:
    digest = hashlib.blake2b("|".join(instances[:SHEET_MAX]).encode(), digest_size=8).hexdigest()
    safe = "".join(ch for ch in orthanc_id if ch.isalnum() or ch == "-")[:64]
    return cache_dir() / "sheets" / f"{safe}-{digest}.jpg"


def sheet_bytes(orthanc_id: str, instances: list[str], *, client: pacs.Orthanc | None = None) -> bytes:
    """All thumbnails of a study in one JPEG (``SHEET_COLS`` a row, ``THUMB`` px squares, black between), so a
    page shows a study's thumbnails with one request, one scope check and one audit. Kept on disk."""
    path = _sheet_path(orthanc_id, instances)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    from PIL import Image

    shown = instances[:SHEET_MAX]
    cols, rows = sheet_layout(len(shown))
    sheet = Image.new("L", (cols * THUMB, rows * THUMB), 0)
    for i, iid in enumerate(shown):
        with Image.open(io.BytesIO(thumbnail_bytes(iid, THUMB, client=client))) as raw:
            tile = raw.convert("L")
            tile.thumbnail((THUMB, THUMB))
            x = (i % cols) * THUMB + (THUMB - tile.width) // 2
            y = (i // cols) * THUMB + (THUMB - tile.height) // 2
            sheet.paste(tile, (x, y))
    out = io.BytesIO()
    sheet.save(out, "JPEG", quality=82, optimize=True)
    data = out.getvalue()
    _write(path, data)
    return data


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


# ---- who sees which study --------------------------------------------------------------------------------

def _order_visible(user, order: Order) -> bool:
    from .orders import orders_visible_to

    return orders_visible_to(user).filter(pk=order.pk).exists()


def is_imaging_member(user) -> bool:
    return bool(user and user.pk) and CenterMember.objects.filter(user_id=user.pk,
                                                                   center__kind=CenterKind.IMAGING).exists()


def _may_see(actor: Actor, study: ImagingStudy) -> bool:
    user = actor.user
    if user is None:
        return actor.is_system
    if not can_read(user, Category.CLINICAL):
        return False
    if study.order is None:
        return is_imaging_member(user)
    return _order_visible(user, study.order)


def get_study_for(actor: Actor, pk: int, *, audit_read: bool = True) -> ImagingStudy:
    """One study if the actor may see it (404 otherwise, ids cannot be probed); the read is audited."""
    check_read(actor, Category.CLINICAL)
    study = (ImagingStudy.objects.select_related("order__resident", "order__center", "order__item", "device__facility")
             .filter(pk=pk).first())
    if study is None or not _may_see(actor, study):
        audit.record(actor, "denied", "telemedicine_imaging_study", pk)
        raise NotFound(_("影像检查不存在或无权查看"))
    if audit_read:
        audit.record(actor, "view", "telemedicine_imaging_study", study.pk,
                     order=study.order_id, resident=study.order.resident_id if study.order else None)
    _grant(actor, study)
    return study


def _grant_key(actor: Actor, study_pk: int) -> str:
    return f"tm:img-grant:{actor.user_id}:{study_pk}"


def _grant(actor: Actor, study: ImagingStudy) -> None:
    cache.set(_grant_key(actor, study.pk), (study.orthanc_id, list(study.instances or []), study.order_id,
                                            study.order.resident_id if study.order else None), GRANT_TTL)


def _images_of(actor: Actor, study_pk: int) -> tuple[str, list[str]]:
    """The study's Orthanc id and instances for an actor who may see it: the access checked by the page that
    showed the study (remembered ``GRANT_TTL`` seconds), else checked now. The first look at a study's images is
    audited, then at most once per ``AUDIT_WINDOW``."""
    if actor.user is None:
        raise NotFound(_("影像检查不存在或无权查看"))
    granted = cache.get(_grant_key(actor, study_pk))
    if granted is None:
        study = get_study_for(actor, study_pk, audit_read=False)
        granted = (study.orthanc_id, list(study.instances or []), study.order_id,
                   study.order.resident_id if study.order else None)
    orthanc_id, instances, order_id, resident_id = granted
    if cache.add(f"tm:img-audit:{actor.user_id}:{study_pk}", 1, AUDIT_WINDOW):
        audit.record(actor, "view", "telemedicine_imaging_images", study_pk, order=order_id, resident=resident_id)
    return orthanc_id, instances


def _unavailable() -> Exception:
    from ..imaging import PacsUnavailable

    return PacsUnavailable()


def image_for(actor: Actor, study_pk: int, index: int, size: int) -> bytes:
    """The ``index``-th image of a study (in reading order) as a JPEG of at most ``size`` px."""
    if size not in SIZES:
        raise NotFound(_("图像不存在"))
    _orthanc_id, instances = _images_of(actor, study_pk)
    if not 0 <= index < len(instances):
        raise NotFound(_("图像不存在"))
    try:
        return thumbnail_bytes(instances[index], size)
    except pacs.PacsError:
        raise _unavailable() from None


def sheet_for(actor: Actor, study_pk: int) -> bytes:
    """A study's thumbnails, one JPEG (``sheet_bytes``)."""
    orthanc_id, instances = _images_of(actor, study_pk)
    if not instances:
        raise NotFound(_("图像不存在"))
    try:
        return sheet_bytes(orthanc_id, instances)
    except (pacs.PacsError, OSError):  # OSError: Pillow could not read what the PACS rendered
        raise _unavailable() from None


# ---- lists and panels ------------------------------------------------------------------------------------

def unmatched_studies(actor: Actor) -> QuerySet[ImagingStudy]:
    """The imaging center's unmatched list (members only; a study with no order has no patient scope yet)."""
    check_read(actor, Category.CLINICAL)
    if actor.user is not None and not is_imaging_member(actor.user):
        return ImagingStudy.objects.none()
    return (ImagingStudy.objects.filter(status=StudyStatus.UNMATCHED).select_related("device__facility")
            .order_by("-received_at")[:200])


def studies_of(order: Order) -> list[ImagingStudy]:
    return list(ImagingStudy.objects.filter(order=order).exclude(status=StudyStatus.IGNORED).order_by("received_at"))


@dataclass
class StudyView:
    study: ImagingStudy
    sheet_url: str
    thumbs: list[dict]  # {index, instance, style (the tile of the sheet), large, key}
    keys: list[dict]
    more: int  # images not on the sheet (see the viewer)
    viewer_url: str
    explorer_url: str


def study_view(study: ImagingStudy, actor: Actor | None = None) -> StudyView:
    """What a page shows of a study; with the actor who was allowed to see it, its images are granted too."""
    c = pacs.client()
    if actor is not None and actor.user is not None:
        _grant(actor, study)
    keys = set(study.key_instances or [])
    instances = list(study.instances or [])
    shown = instances[:SHEET_MAX]
    thumbs = []
    for i, iid in enumerate(shown):
        thumbs.append({"index": i, "instance": iid, "key": iid in keys, "style": tile_style(i, len(shown)),
                       "large": reverse("telemedicine:imaging_image", args=[study.pk, i, PREVIEW])})
    key_rows = [{"index": i, "instance": iid,
                 "large": reverse("telemedicine:imaging_image", args=[study.pk, i, PREVIEW])}
                for i, iid in enumerate(instances) if iid in keys]
    viewer = explorer = ""
    if c is not None:
        explorer = c.explorer_link(study.orthanc_id)
        series = _first_series(c, study)
        viewer = c.viewer_link(series) if series else ""
    sheet = reverse("telemedicine:imaging_sheet", args=[study.pk]) if shown else ""
    return StudyView(study, sheet, thumbs, key_rows, len(instances) - len(shown), viewer, explorer)


def _first_series(c: pacs.Orthanc, study: ImagingStudy) -> str:
    key = f"tm:study-series:{study.orthanc_id}"
    series = cache.get(key)
    if series is None:
        try:
            series = (c.get_json(f"/studies/{study.orthanc_id}").get("Series") or [""])[0]
        except pacs.PacsError:
            return ""
        cache.set(key, series, 24 * 3600)
    return series


def order_panel(actor: Actor, order: Order) -> dict[str, Any]:
    """Context of ``telemedicine/kinds/_imaging.html`` on the order page: the order's studies with their
    thumbnails and key images, the viewer links, whether the PACS is configured."""
    studies = studies_of(order)
    if studies and actor.user is not None:
        audit.record(actor, "view", "telemedicine_imaging_study", studies[0].pk, order=order.pk,
                     studies=len(studies))
    user = actor.user
    return {"pacs_configured": pacs.configured(), "studies": [study_view(s, actor) for s in studies],
            "may_match": bool(user and member_of(user, order.center_id)),
            "may_mark_keys": bool(user and member_of(user, order.center_id)),
            "unmatched_url": reverse("telemedicine:imaging_unmatched")}


def imaging_center_of(actor: Actor) -> Center | None:
    if actor.user is None:
        return None
    return Center.objects.filter(kind=CenterKind.IMAGING, members__user=actor.user).first()
