"""A center's catalogue (what may be ordered, the mutual-recognition list and windows) and its report
templates, kept by the center's director (``telemedicine.manage_center``)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from pydantic import Field

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput, NotFound
from yigongti.orgs.permissions import check
from yigongti.referrals.inputs import Input

from .models import CatalogItem, Center, ReportTemplate


class ItemInput(Input):
    code: str = Field(..., min_length=1, max_length=30)
    name: str = Field(..., min_length=1, max_length=80)
    modality: str = Field("", max_length=8)
    body_part: str = Field("", max_length=40)
    specimen: str = Field("", max_length=30)
    price: Decimal = Field(Decimal("0"), ge=0, max_digits=10, decimal_places=2)
    recognised: bool = False
    validity_days: int = Field(0, ge=0, le=3650)
    active: bool = True


class TemplateInput(Input):
    name: str = Field(..., min_length=1, max_length=60)
    item: int | None = None
    findings: str = ""
    conclusion: str = ""


def save_item(center: Center, data: ItemInput | Mapping[str, Any], *, actor: Actor) -> CatalogItem:
    """Add an item to the center's catalogue, or update the one with this code."""
    check(actor, "telemedicine.manage_center", center)
    inp = ItemInput.parse(data)
    if inp.recognised and not inp.validity_days:
        raise InvalidInput("validity_required", _("互认项目须填写互认有效期（天）"), field="validity_days")
    fields = inp.model_dump(exclude={"code"})
    try:
        with transaction.atomic():
            item, created = CatalogItem.objects.update_or_create(center=center, code=inp.code.upper(),
                                                                 defaults=fields)
            audit.record(actor, "create" if created else "update", "telemedicine_item", item.pk, code=item.code,
                         recognised=item.recognised, validity_days=item.validity_days)
    except IntegrityError:
        raise Conflict("duplicate_code", _("项目编码已存在")) from None
    return item


def save_template(center: Center, data: TemplateInput | Mapping[str, Any], pk: int | None = None, *,
                  actor: Actor) -> ReportTemplate:
    """Add a report template to the center (for one item or all), or update one of its templates."""
    check(actor, "telemedicine.manage_center", center)
    inp = TemplateInput.parse(data)
    if inp.item and not CatalogItem.objects.filter(pk=inp.item, center=center).exists():
        raise InvalidInput("unknown_item", _("项目不属于本中心"), field="item")
    if not (inp.findings or inp.conclusion):
        raise InvalidInput("empty_template", _("模板须有所见或结论"), field="conclusion")
    with transaction.atomic():
        if pk:
            template = ReportTemplate.objects.filter(pk=pk, center=center).first()
            if template is None:
                raise NotFound(_("报告模板不存在"))
        else:
            template = ReportTemplate(center=center)
        template.name, template.item_id = inp.name, inp.item
        template.findings, template.conclusion = inp.findings, inp.conclusion
        template.save()
        audit.record(actor, "update" if pk else "create", "telemedicine_template", template.pk, center=center.pk)
    return template


def delete_template(center: Center, pk: int, *, actor: Actor) -> None:
    check(actor, "telemedicine.manage_center", center)
    with transaction.atomic():
        n, _detail = ReportTemplate.objects.filter(pk=pk, center=center).delete()
        if not n:
            raise NotFound(_("报告模板不存在"))
        audit.record(actor, "delete", "telemedicine_template", pk, center=center.pk)
