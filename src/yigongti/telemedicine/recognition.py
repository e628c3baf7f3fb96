"""Mutual recognition of results (结果互认, 国卫医发〔2022〕6号): when a doctor orders an item on the recognised
list, the resident's results of the same item from any facility of the community within the item's validity
window are shown first; the doctor records "recognised, not repeated" (here) or gives a reason to repeat
(``services.orders.place_order`` records it with the order). The list and the windows are data
(``CatalogItem.recognised`` and ``validity_days``)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.orgs.permissions import Category, check, check_read

from .models import CatalogItem, Order, Recognition, RecognitionDecision
from .services.orders import _resident_in_scope, recent_results


def _item(pk) -> CatalogItem:
    item = CatalogItem.objects.select_related("center").filter(pk=pk, active=True).first() if str(pk).isdigit() \
        else None
    if item is None:
        raise InvalidInput("unknown_item", _("检查检验项目不存在或未启用"), field="item")
    return item


def recent_for(actor: Actor, resident_pk, item_pk) -> list[Order]:
    """The resident's recent results of this recognised item in the community (newest first); audited."""
    check_read(actor, Category.CLINICAL)
    if not str(resident_pk).isdigit():
        raise InvalidInput("invalid_input", _("请选择患者"), field="resident")
    resident = _resident_in_scope(actor, int(resident_pk))
    item = _item(item_pk)
    rows = list(recent_results(resident, item)[:5])
    if rows:
        audit.record(actor, "view", "telemedicine_order", "", resident=resident.pk, recognition=item.code,
                     count=len(rows))
    return rows


def recognise_result(resident_pk: int, item_pk: int, prior_order_pk: int, *, actor: Actor) -> Recognition:
    """互认，不重复检查: the doctor uses the prior result instead of ordering the item again (the tests avoided and
    their cost are counted by the indicators)."""
    if actor.user is None or not actor.user.facility_id:
        raise Forbidden(_("只有医疗机构的医生可以记录结果互认"), code="no_facility")
    resident = _resident_in_scope(actor, int(resident_pk))
    check(actor, "telemedicine.recognise", resident)
    item = _item(item_pk)
    prior = next((o for o in recent_results(resident, item) if o.pk == prior_order_pk), None)
    if prior is None:
        raise InvalidInput("not_recognisable", _("所选结果不在互认有效期内或不属于该患者"), field="prior_order")
    with transaction.atomic():
        rec = Recognition.objects.create(resident=resident, area_code=resident.area_code, item=item,
                                         prior_order=prior, decision=RecognitionDecision.RECOGNISED,
                                         facility=actor.user.facility, decided_by=actor.user,
                                         decided_at=timezone.now(), saved_amount=item.price)
        audit.record(actor, "create", "telemedicine_recognition", rec.pk, resident=resident.pk, item=item.code,
                     prior=prior.pk)
    return rec
