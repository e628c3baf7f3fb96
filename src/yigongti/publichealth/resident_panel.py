"""The resident page's panel "公共卫生服务" (``residents.panels``): the last health checks, the pregnancy under care,
the child visits and the vaccine card (doses given, the next due or overdue), for the roles that read public-health
records (``Category.PUBLIC_HEALTH``), within the reader's scope; one audit event per panel shown."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.scoping import scope_for
from yigongti.core.validation import today
from yigongti.orgs.permissions import Category, can_read

from . import immunisation
from .models import ChildVisit, HealthCheck, Pregnancy, PregnancyStatus, VaccineDose

CHILD_YEARS = 7


def _url(name: str, *args, query: str = "") -> str:
    try:
        return reverse(f"publichealth:{name}", args=args) + query
    except NoReverseMatch:  # another helper's page not there yet
        return ""


def rows(actor: Actor, resident):
    from yigongti.residents.panels import Row

    user = actor.user
    if user is not None and (not can_read(user, Category.PUBLIC_HEALTH)
                             or not scope_for(user).contains(resident.area_code)):
        return None
    on = today()
    out = []
    checks = list(HealthCheck.objects.filter(resident=resident).order_by("-date", "-id")[:3])
    for c in checks:
        bp = f" · {c.sbp}/{c.dbp}" if c.sbp and c.dbp else ""
        out.append(Row(c.date, f"{_('健康体检')} · {c.get_purpose_display()}{bp}", _url("check", c.pk)))
    if resident.age_on(on) >= 65 and not any(c.date.year == on.year for c in checks):
        out.append(Row(None, _("本年尚未进行老年人健康体检"), _url("check_new", query=f"?resident={resident.pk}"
                                                                        "&purpose=elderly"), _("待体检"), alert=True))
    pregnancy = Pregnancy.objects.filter(resident=resident).exclude(status=PregnancyStatus.CLOSED).first()
    if pregnancy is not None:
        out.append(Row(pregnancy.registered_on, f"{_('孕产妇保健')} · {pregnancy.get_status_display()} · "
                       f"{_('预产期')} {pregnancy.edd:%Y-%m-%d}", _url("pregnancy", pregnancy.pk),
                       str(pregnancy.get_risk_grade_display()),
                       alert=pregnancy.risk_grade in ("orange", "red", "purple")))
    is_child = resident.age_on(on) < CHILD_YEARS
    doses = list(VaccineDose.objects.filter(child=resident))
    if is_child:
        visits = list(ChildVisit.objects.filter(child=resident).order_by("-date")[:1])
        n_visits = ChildVisit.objects.filter(child=resident).count()
        if visits or n_visits:
            out.append(Row(visits[0].date if visits else None,
                           _("儿童健康检查 %(n)s 次") % {"n": n_visits}, _url("child", resident.pk)))
    if doses or is_child:
        rules = immunisation.schedule()
        due = immunisation.due_doses(doses, resident.birth_date, on, rule_set=rules)
        late = [d for d in due if d.overdue]
        text = _("预防接种 %(n)s 剂次") % {"n": len(doses)}
        if due:
            text += " · " + _("现可接种：%(v)s") % {"v": _("、").join(d.rule.label for d in due[:4])}
        out.append(Row(max((d.given_on for d in doses), default=None), text, _url("vaccine_card", resident.pk),
                       _("逾期 %(n)s") % {"n": len(late)} if late else "", alert=bool(late)))
    if out:
        audit.record(actor, "view", "public_health_summary", resident.pk, checks=len(checks), doses=len(doses))
    return out, _url("checks")


def register() -> None:
    from yigongti.residents import panels

    panels.register("publichealth", gettext_lazy("公共卫生服务"), order=52, rows=rows)
