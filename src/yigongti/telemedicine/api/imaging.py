"""/api/v1/telemedicine/imaging: the studies the PACS received (matched to orders or not), manual match, key
images, a sync now. Images are served by the pages (``image_url``); DICOMweb stays Orthanc's."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from ninja import Field, Router, Schema

from yigongti.core.actor import Actor

from .. import imaging
from ..models import ImagingStudy
from ..queries import imaging as q

router = Router(tags=["影像"])


class StudyOut(Schema):
    id: int
    status: str
    orthanc_id: str
    study_instance_uid: str
    accession_no: str
    order: int | None
    modality: str
    description: str
    source_ae: str
    study_date: dt.date | None
    received_at: dt.datetime
    instance_count: int
    instances: list[str]
    key_instances: list[str]
    thumbnails: str = Field(..., description="所有缩略图拼成的一张 JPEG（每行 6 幅，160 像素）")
    images: list[str] = Field(..., description="各幅图像（768 像素 JPEG）")
    viewer_url: str


class MatchIn(Schema):
    order: str = Field(..., description="申请单号（或申请单 id）", max_length=20)
    note: str = Field("", max_length=200)


class KeysIn(Schema):
    instances: list[str] = Field(default_factory=list, description="关键图像的 Orthanc 编号（属于该检查）")


class SyncOut(Schema):
    new_studies: int


def _out(s: ImagingStudy, viewer: bool = False) -> dict:
    view = q.study_view(s) if viewer else None
    return {"id": s.pk, "status": s.status, "orthanc_id": s.orthanc_id, "study_instance_uid": s.study_instance_uid,
            "accession_no": s.accession_no, "order": s.order_id, "modality": s.modality,
            "description": s.description, "source_ae": s.source_ae, "study_date": s.study_date,
            "received_at": s.received_at, "instance_count": s.instance_count, "instances": s.instances,
            "key_instances": s.key_instances,
            "thumbnails": reverse("telemedicine:imaging_sheet", args=[s.pk]) if s.instances else "",
            "images": [reverse("telemedicine:imaging_image", args=[s.pk, i, q.PREVIEW])
                       for i in range(len(s.instances))],
            "viewer_url": view.viewer_url if view else ""}


@router.get("/unmatched", response=list[StudyOut])
def unmatched(request):
    """The imaging center's unmatched studies (newest first; members of the center only)."""
    return [_out(s) for s in q.unmatched_studies(Actor.from_request(request))]


@router.get("/studies/{pk}", response=StudyOut)
def study(request, pk: int):
    """One study with its images (thumbnail URLs through the platform) and the viewer link; the read is audited."""
    return _out(q.get_study_for(Actor.from_request(request), pk), viewer=True)


@router.post("/studies/{pk}/match", response=StudyOut)
def match(request, pk: int, payload: MatchIn):
    """File a study under an imaging order by hand (imaging center members)."""
    return _out(imaging.match_study(pk, payload.order, actor=Actor.from_request(request), note=payload.note))


@router.post("/studies/{pk}/key-images", response=StudyOut)
def key_images(request, pk: int, payload: KeysIn):
    """Mark the study's key images (the center's readers)."""
    return _out(imaging.set_key_images(pk, payload.instances, actor=Actor.from_request(request)))


@router.post("/sync", response=SyncOut)
def sync(request):
    """Bring the studies that arrived in the PACS in now (imaging center members; the worker does it every pass)."""
    return {"new_studies": imaging.sync_now(actor=Actor.from_request(request))}
