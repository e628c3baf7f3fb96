"""Monthly facts (the pre-aggregated measures the dashboard reads) and evidence for the qualitative
indicators. Background work (nightly refresh, month-end report) runs on core.jobs, see jobs.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import MedicalCommunity


class MonthlyFact(models.Model):
    """Measures (integers: counts, days, cents, minutes) per month × area × facility × level × residence county.

    Rebuilt from encounters, settlements, beds and referrals by ``services.refresh_facts``; never edited."""

    month = models.CharField(max_length=7)
    source = models.CharField(max_length=3)  # enc | bed | set | ref
    unit_area = models.CharField(max_length=12)
    residence_area = models.CharField(max_length=12, blank=True)
    facility_key = models.CharField(max_length=30, blank=True)
    facility_level = models.CharField(max_length=14)
    facility_county = models.CharField(max_length=6)
    residence_county = models.CharField(max_length=6)
    in_county = models.BooleanField(default=False)
    visits = models.BigIntegerField(default=0)
    er_visits = models.BigIntegerField(default=0)
    tcm_visits = models.BigIntegerField(default=0)
    visits_costed = models.BigIntegerField(default=0)
    visit_cost = models.BigIntegerField(default=0)
    discharges = models.BigIntegerField(default=0)
    discharges_costed = models.BigIntegerField(default=0)
    discharge_cost = models.BigIntegerField(default=0)
    los_days = models.BigIntegerField(default=0)
    surgeries = models.BigIntegerField(default=0)
    revenue = models.BigIntegerField(default=0)
    drug = models.BigIntegerField(default=0)
    material = models.BigIntegerField(default=0)
    fund = models.BigIntegerField(default=0)
    occupied_bed_days = models.BigIntegerField(default=0)
    revenue_ex_drug = models.BigIntegerField(default=0)
    drug_ex_herbal = models.BigIntegerField(default=0)
    open_bed_days = models.BigIntegerField(default=0)
    st_fund = models.BigIntegerField(default=0)
    st_ip_cases = models.BigIntegerField(default=0)
    st_ip_cost = models.BigIntegerField(default=0)
    st_cases = models.BigIntegerField(default=0)
    ref_up = models.BigIntegerField(default=0)
    ref_down = models.BigIntegerField(default=0)
    ref_all = models.BigIntegerField(default=0)
    ref_answered = models.BigIntegerField(default=0)
    ref_accepted = models.BigIntegerField(default=0)
    ref_within_sla = models.BigIntegerField(default=0)
    ref_response_min = models.BigIntegerField(default=0)
    ref_overdue = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("月度指标事实")
        verbose_name_plural = _("月度指标事实")
        indexes = [models.Index(fields=["month", "unit_area"], name="fact_month_area"),
                   models.Index(fields=["facility_key", "month"], name="fact_facility_month")]

    def __str__(self) -> str:
        return f"{self.month} {self.source} {self.unit_area} {self.facility_key}"


class EvidenceStatus(models.TextChoices):
    MET = "met", _("已落实")
    PARTIAL = "partial", _("部分落实")
    NOT_MET = "not_met", _("未落实")


class EvidenceItem(models.Model):
    """One line of the evidence checklist of a qualitative indicator (N01–N03) for a year."""

    community = models.ForeignKey(MedicalCommunity, models.CASCADE, related_name="+", verbose_name=_("医共体"))
    year = models.PositiveSmallIntegerField(_("年度"))
    indicator = models.CharField(_("指标"), max_length=10)
    item = models.CharField(_("条目"), max_length=20)
    status = models.CharField(_("落实情况"), max_length=10, choices=EvidenceStatus.choices,
                              default=EvidenceStatus.NOT_MET)
    evidence = models.TextField(_("佐证材料"), blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+",
                                   verbose_name=_("填报人"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("定性指标佐证")
        verbose_name_plural = _("定性指标佐证")
        constraints = [models.UniqueConstraint(fields=["community", "year", "indicator", "item"],
                                               name="evidence_item_unique")]

    def __str__(self) -> str:
        return f"{self.year} {self.indicator} {self.item}"
