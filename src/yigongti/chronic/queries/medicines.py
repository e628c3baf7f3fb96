"""Reads of the regular medicines: one patient's list (the medicines page), and the monthly delivery list of a
village (药品配送清单: what to bring to the village clinic for the month, per patient and totals per drug — the
pharmacy issue turns it into orders and stock). Scoped, public-health read category, audited; the delivery list
is one query whatever the village's size."""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit, exports
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput, NotFound
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Region
from yigongti.orgs.permissions import Category, check_read

from ..models import Condition, Enrolment, EnrolmentStatus, RegularMedicine, unit_label


def enrolment_for(actor: Actor, pk) -> Enrolment:
    """One enrolment the reader may see (audited); out of scope and nonexistent look the same (404)."""
    check_read(actor, Category.PUBLIC_HEALTH)
    try:
        e = scope_for(actor.user).filter(Enrolment.objects.select_related("resident", "village", "facility"),
                                         "resident__area_code").get(pk=int(pk))
    except (Enrolment.DoesNotExist, ValueError, TypeError):
        audit.record(actor, "denied", "enrolment", pk)
        raise NotFound(_("慢病管理记录不存在或不在您的管辖范围内")) from None
    audit.record(actor, "view", "enrolment_medicines", e.pk)
    return e


def medicine_for(actor: Actor, pk, enrolment: Enrolment | None = None) -> RegularMedicine:
    """One regular medicine the reader may see (of that enrolment, when given)."""
    check_read(actor, Category.PUBLIC_HEALTH)
    qs = RegularMedicine.objects.select_related("enrolment__resident")
    if enrolment is not None:
        qs = qs.filter(enrolment=enrolment)
    try:
        return scope_for(actor.user).filter(qs, "enrolment__resident__area_code").get(pk=int(pk))
    except (RegularMedicine.DoesNotExist, ValueError, TypeError):
        audit.record(actor, "denied", "regular_medicine", pk)
        raise NotFound(_("用药记录不存在或不在您的管辖范围内")) from None


def medicines_of(enrolment: Enrolment, today: dt.date | None = None) -> tuple[list[RegularMedicine],
                                                                               list[RegularMedicine]]:
    """(in use, stopped) medicines of an enrolment already read through ``enrolment_for``."""
    today = today or timezone.localdate()
    current: list[RegularMedicine] = []
    stopped: list[RegularMedicine] = []
    for m in RegularMedicine.objects.filter(enrolment=enrolment).select_related("prescribed_by").order_by(
            "name", "-since", "-id"):
        (current if m.until is None or m.until >= today else stopped).append(m)
    return current, stopped


# ---- the monthly delivery list ----------------------------------------------------------------------------


def parse_month(value: str | None, today: dt.date | None = None) -> dt.date:
    """The first day of a ``YYYY-MM`` month (the current one if empty)."""
    today = today or timezone.localdate()
    if not value:
        return today.replace(day=1)
    try:
        year, month = (int(p) for p in str(value).split("-"))
        first = dt.date(year, month, 1)
    except ValueError:
        raise InvalidInput("invalid_month", _("月份格式应为 YYYY-MM"), field="month") from None
    if not (2000 <= year <= today.year + 1):
        raise InvalidInput("invalid_month", _("月份超出范围"), field="month")
    return first


def month_end(first: dt.date) -> dt.date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def quantity(units_per_day: Decimal, since: dt.date, until: dt.date | None, first: dt.date, last: dt.date) -> int:
    """Units to deliver for the month: the daily amount × the days of the month it is taken, rounded up."""
    start = max(since, first)
    end = min(until, last) if until is not None else last
    days = (end - start).days + 1
    return math.ceil(Decimal(units_per_day) * days) if days > 0 else 0


@dataclass
class DeliveryLine:
    enrolment_id: int
    resident_id: int
    name: str
    condition: str
    drug: str
    strength: str
    dose: str
    frequency: str
    units_per_day: Decimal
    unit: str
    days: int
    quantity: int

    @property
    def condition_label(self) -> str:
        return str(Condition(self.condition).label)

    @property
    def unit_label(self) -> str:
        return unit_label(self.unit)


@dataclass
class DrugTotal:
    drug: str
    strength: str
    unit: str
    patients: int
    quantity: int

    @property
    def unit_label(self) -> str:
        return unit_label(self.unit)


@dataclass
class Delivery:
    village: Region
    month: dt.date
    lines: list[DeliveryLine] = field(default_factory=list)
    totals: list[DrugTotal] = field(default_factory=list)

    @property
    def patients(self) -> int:
        return len({line.resident_id for line in self.lines})

    @property
    def month_label(self) -> str:
        return f"{self.month:%Y-%m}"


def delivery_for(actor: Actor, village: Region, month: dt.date) -> Delivery:
    """What to deliver to the village for the month: each managed patient's medicines in use at some day of the
    month, with the month's quantity; totals per drug (name × strength × unit). One query; audited."""
    check_read(actor, Category.PUBLIC_HEALTH)
    first, last = month, month_end(month)
    qs = RegularMedicine.objects.filter(
        enrolment__village_id=village.pk, enrolment__status=EnrolmentStatus.MANAGED, since__lte=last).filter(
        Q(until__isnull=True) | Q(until__gte=first))
    qs = scope_for(actor.user).filter(qs, "enrolment__resident__area_code")
    rows = qs.order_by("enrolment__resident__name", "enrolment__resident_id", "enrolment__condition", "name").values(
        "enrolment_id", "enrolment__resident_id", "enrolment__resident__name", "enrolment__condition", "name",
        "strength", "dose", "frequency", "units_per_day", "unit", "since", "until")
    out = Delivery(village, first)
    totals: dict[tuple[str, str, str], DrugTotal] = {}
    seen: dict[tuple[str, str, str], set[int]] = {}
    for r in rows:
        start = max(r["since"], first)
        end = min(r["until"], last) if r["until"] is not None else last
        qty = quantity(r["units_per_day"], r["since"], r["until"], first, last)
        line = DeliveryLine(r["enrolment_id"], r["enrolment__resident_id"], r["enrolment__resident__name"],
                            r["enrolment__condition"], r["name"], r["strength"], r["dose"], r["frequency"],
                            r["units_per_day"], r["unit"], (end - start).days + 1, qty)
        out.lines.append(line)
        key = (line.drug, line.strength, line.unit)
        total = totals.setdefault(key, DrugTotal(line.drug, line.strength, line.unit, 0, 0))
        total.quantity += qty
        seen.setdefault(key, set()).add(line.resident_id)
    for key, total in totals.items():
        total.patients = len(seen[key])
    out.totals = sorted(totals.values(), key=lambda t: (t.drug, t.strength))
    audit.record(actor, "view", "chronic_delivery", village.code, month=out.month_label,
                 enrolments=sorted({line.enrolment_id for line in out.lines}))
    return out


def delivery_xlsx(d: Delivery) -> bytes:
    """The delivery list as Excel: 汇总 (totals per drug, what the pharmacy prepares) and 明细 (per patient)."""
    from openpyxl.styles import Font

    wb = exports.new_workbook(_("汇总"))
    ws = wb.active
    exports.append_row(ws, [_("%(village)s %(month)s 两病长期用药配送清单") % {"village": d.village.name,
                                                                          "month": d.month_label}])
    ws["A1"].font = Font(bold=True, size=13)
    exports.append_row(ws, [_("药品名称"), _("规格"), _("单位"), _("患者数"), _("配送数量")])
    for t in d.totals:
        exports.append_row(ws, [t.drug, t.strength, t.unit_label, t.patients, t.quantity])
    detail = wb.create_sheet(_("明细"))
    exports.append_row(detail, [_("序号"), _("姓名"), _("病种"), _("药品名称"), _("规格"), _("每次用量"), _("用法"),
                                _("每日用量"), _("单位"), _("用药天数"), _("配送数量")])
    for i, line in enumerate(d.lines, start=1):
        exports.append_row(detail, [i, line.name, line.condition_label, line.drug, line.strength, line.dose,
                                    line.frequency, float(line.units_per_day), line.unit_label, line.days,
                                    line.quantity])
    for sheet, widths in ((ws, (22, 14, 6, 8, 10)), (detail, (5, 9, 10, 18, 14, 8, 6, 8, 6, 8, 8))):
        for c, w in enumerate(widths):
            sheet.column_dimensions[chr(65 + c)].width = w
    return exports.workbook_bytes(wb)


def delivery_filename(d: Delivery) -> str:
    return _("长期用药配送清单_%(village)s_%(month)s.xlsx") % {"village": d.village.name, "month": d.month_label}
