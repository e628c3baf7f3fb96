"""Recording a vaccine dose (预防接种登记): the only writer of ``VaccineDose``.

The actor must hold ``publichealth.vaccinate`` for the child (a doctor, nurse or public-health worker of a 接种单位 —
a township health center or a county facility — never a village clinic). The dose is checked against the national
schedule (``publichealth.immunisation``): a dose before its minimum age or interval, out of order, or past its
catch-up age is refused with the rule that forbids it, the form field named. The child's row is locked while the
history is read and the dose written, so two desks recording the same child at once see each other's doses. A
retry of the same dose on the same day returns the dose already recorded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput, collect
from yigongti.core.validation import today as today_
from yigongti.orgs.models import Facility
from yigongti.orgs.permissions import check
from yigongti.residents.models import Resident

from .. import immunisation
from ..models import VaccineDose
from ._after import record_delivery, refresh_due

TEXT_LIMITS = {"lot": 30, "manufacturer": 60, "site": 20}


def parse_date(value: Any, errors: dict[str, list[str]], field: str, label: str) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        errors.setdefault(field, []).append(_("请填写%(label)s") % {"label": label})
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors.setdefault(field, []).append(_("%(label)s格式应为 YYYY-MM-DD") % {"label": label})
        return None


def _facility(actor: Actor, data: Mapping) -> Facility:
    user = actor.user
    if user is not None:
        if user.facility_id is None:
            raise InvalidInput("no_facility", _("账号未关联接种单位"), field="facility")
        return user.facility
    pk = data.get("facility")
    facility = Facility.objects.filter(pk=int(str(pk))).first() if str(pk or "").isdigit() else None
    if facility is None:
        raise InvalidInput("no_facility", _("请指定接种单位"), field="facility")
    return facility


def record_dose(actor: Actor, child: Resident, data: Mapping, *, on: dt.date | None = None) -> VaccineDose:
    """Record one dose: ``data`` has vaccine, dose, given_on (YYYY-MM-DD) and optional lot, manufacturer, site."""
    check(actor, "publichealth.vaccinate", child)
    rules = immunisation.schedule()
    errors: dict[str, list[str]] = {}
    vaccine = str(data.get("vaccine") or "").strip()
    if vaccine not in rules.vaccines():
        errors["vaccine"] = [_("请选择免疫程序中的疫苗")]
    try:
        dose = int(data.get("dose") or 0)
    except (TypeError, ValueError):
        dose = 0
    if dose < 1:
        errors["dose"] = [_("剂次应为正整数")]
    given_on = parse_date(data.get("given_on"), errors, "given_on", _("接种日期"))
    today = on or today_()
    if given_on is not None and given_on > today:
        errors.setdefault("given_on", []).append(_("接种日期不能晚于今天"))
    texts = {}
    for name, limit in TEXT_LIMITS.items():
        text = str(data.get(name) or "").strip()
        if len(text) > limit:
            errors[name] = [_("不超过 %(n)s 个字") % {"n": limit}]
        texts[name] = text
    collect(errors)
    assert given_on is not None
    facility = _facility(actor, data)
    user = actor.user
    by = user.staff if user is not None else None
    with transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=child.pk)
        history = list(VaccineDose.objects.filter(child=locked))
        same = next((d for d in history if d.vaccine == vaccine and d.dose == dose), None)
        if same is not None and same.given_on == given_on:
            return same  # a retry of the same registration
        problem = immunisation.dose_problem(rules, history, vaccine, dose, given_on, locked.birth_date)
        if problem is not None:
            field, message = problem
            raise InvalidInput("dose_refused", message, field=field)
        rule = rules.rule(vaccine, dose)
        assert rule is not None
        try:
            with transaction.atomic():
                row = VaccineDose.objects.create(
                    child=locked, vaccine=vaccine, dose=dose, given_on=given_on,
                    age_days=(given_on - locked.birth_date).days, facility=facility, by=by,
                    catch_up=immunisation.is_catch_up(rule, given_on, locked.birth_date),
                    schedule_edition=rules.edition, recorded_by=user, **texts)
        except IntegrityError:
            raise Conflict("dose_exists", _("%(name)s 已登记") % {"name": rule.label}) from None
        audit.record(actor, "create", "vaccine_dose", row.pk, resident=locked.pk, vaccine=vaccine, dose=dose,
                     given_on=given_on.isoformat(), catch_up=row.catch_up, edition=rules.edition)
        from yigongti.familydoctor.models import DeliverySource, ServiceKind

        record_delivery(resident=locked, kind=ServiceKind.CHILD, on=given_on, by=by, facility=facility,
                        source=DeliverySource.IMMUNISATION, source_id=str(row.pk), note=rule.name)
        refresh_due(locked.pk)
    return row
