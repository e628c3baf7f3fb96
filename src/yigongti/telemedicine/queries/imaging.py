"""Scoped reads of imaging studies and their images.

A matched study is seen by whoever may see its order (the patient's scope, the readers of its center, the
ordering facility) and whose role reads clinical records; an unmatched one only by the imaging center's
members (it may carry any patient's name). Image bytes come from Orthanc once and are then kept on disk in the
data directory (an Orthanc instance never changes under its id), so a study's thumbnails are served without a
round trip to the PACS. The first look at a study's images by a user is audited (then once per
``AUDIT_WINDOW`` seconds, not once per thumbnail)."""

from __future__ import annotations

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
from yigongti.core.scoping import scope_for
from yigongti.orgs.permissions import Category, can_read, check_read

from .. import pacs
from ..models import Center, CenterKind, CenterMember, ImagingStudy, Order, StudyStatus
from ..permissions import member_of

THUMB = 160
PREVIEW = 768
SIZES = (THUMB, PREVIEW)
AUDIT_WINDOW = 600  # seconds


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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return data


# ---- who sees which study --------------------------------------------------------------------------------

def _order_visible(user, order: Order) -> bool:
    try:
        from .orders import orders_visible_to
    except ImportError:  # pragma: no cover - the orders module is another helper's; a plain rule meanwhile
        orders_visible_to = None
    if orders_visible_to is not None:
        return orders_visible_to(user).filter(pk=order.pk).exists()
    return (scope_for(user).contains(order.area_code) or user.facility_id == order.facility_id
            or member_of(user, order.center_id))


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
    return study


def image_for(actor: Actor, study_pk: int, index: int, size: int) -> bytes:
    """The ``index``-th image of a study (in reading order) as a JPEG, for an actor who may see the study. The
    first image request of a user for a study is audited, then at most once per ``AUDIT_WINDOW``."""
    if size not in SIZES:
        raise NotFound(_("图像不存在"))
    key = f"tm:img-audit:{actor.user_id}:{study_pk}"
    first = cache.add(key, 1, AUDIT_WINDOW)
    study = get_study_for(actor, study_pk, audit_read=False)
    if not 0 <= index < len(study.instances):
        raise NotFound(_("图像不存在"))
    if first:
        audit.record(actor, "view", "telemedicine_imaging_images", study.pk, order=study.order_id,
                     resident=study.order.resident_id if study.order else None)
    try:
        return thumbnail_bytes(study.instances[index], size)
    except pacs.PacsError:
        from ..imaging import PacsUnavailable

        raise PacsUnavailable() from None


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
    thumbs: list[dict]  # {index, instance, url, large, key}
    keys: list[dict]
    viewer_url: str
    explorer_url: str


def study_view(study: ImagingStudy) -> StudyView:
    c = pacs.client()
    keys = set(study.key_instances or [])
    thumbs = []
    for i, iid in enumerate(study.instances or []):
        thumbs.append({"index": i, "instance": iid, "key": iid in keys,
                       "url": reverse("telemedicine:imaging_image", args=[study.pk, i, THUMB]),
                       "large": reverse("telemedicine:imaging_image", args=[study.pk, i, PREVIEW])})
    viewer = explorer = ""
    if c is not None:
        explorer = c.explorer_link(study.orthanc_id)
        series = _first_series(c, study)
        viewer = c.viewer_link(series) if series else ""
    return StudyView(study, thumbs, [t for t in thumbs if t["key"]], viewer, explorer)


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
    return {"pacs_configured": pacs.configured(), "studies": [study_view(s) for s in studies],
            "may_match": bool(user and member_of(user, order.center_id)),
            "may_mark_keys": bool(user and member_of(user, order.center_id)),
            "unmatched_url": reverse("telemedicine:imaging_unmatched")}


def imaging_center_of(actor: Actor) -> Center | None:
    if actor.user is None:
        return None
    return Center.objects.filter(kind=CenterKind.IMAGING, members__user=actor.user).first()
