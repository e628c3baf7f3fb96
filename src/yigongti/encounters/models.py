"""Encounters (the shared record every level sees), insurance settlements, population and deaths.

Encounters happen at facilities of the community; care a county resident received outside the
county is known only through insurance settlements (``InsuranceSettlement``). Money is Decimal
yuan; a missing cost is NULL, never 0, so that cost indicators can leave the row out."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from yigongti.core.carelevel import IN_COUNTY_LEVELS
from yigongti.orgs.models import Department, Facility, Staff
from yigongti.residents.models import Resident

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2, "null": True, "blank": True}


class EncounterType(models.TextChoices):
    OUTPATIENT = "outpatient", _("门诊")
    EMERGENCY = "emergency", _("急诊")
    INPATIENT = "inpatient", _("住院")


class InsuranceScheme(models.TextChoices):
    EMPLOYEE = "employee", _("职工医保")
    RESIDENT = "resident", _("城乡居民医保")
    NONE = "none", _("自费")


class FacilityLevel(models.TextChoices):
    """Where a settled claim's care happened, seen from the insured's county: a care level of
    ``core.carelevel`` (county / township / village), outside the county, or a pharmacy."""

    COUNTY = "county", _("县级")
    TOWNSHIP = "township", _("乡镇级")
    VILLAGE = "village", _("村级")
    OUT_OF_COUNTY = "out_of_county", _("县外")
    PHARMACY = "pharmacy", _("定点药店")


class Encounter(models.Model):
    """One outpatient or emergency visit, or one admission (from admission to discharge)."""

    resident = models.ForeignKey(Resident, models.PROTECT, null=True, blank=True, related_name="encounters",
                                 verbose_name=_("居民"))
    # Patients from another county are not in our resident index: their county is still recorded.
    area_code = models.CharField(_("居住地区划代码"), max_length=12, db_index=True)
    residence_county = models.CharField(_("居住县"), max_length=6)
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="encounters", verbose_name=_("机构"))
    department = models.ForeignKey(Department, models.SET_NULL, null=True, blank=True, related_name="+",
                                   verbose_name=_("科室"))
    doctor = models.ForeignKey(Staff, models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("接诊医生"))
    type = models.CharField(_("类别"), max_length=12, choices=EncounterType.choices)
    admit_date = models.DateField(_("就诊/入院日期"))
    discharge_date = models.DateField(_("出院日期"), null=True, blank=True)
    main_icd10 = models.CharField(_("主要诊断(ICD-10)"), max_length=16, blank=True)
    main_diagnosis = models.CharField(_("主要诊断名称"), max_length=60, blank=True)
    tcm = models.BooleanField(_("中医类诊疗"), default=False)
    total_cost = models.DecimalField(_("总费用"), **MONEY)
    drug_cost = models.DecimalField(_("药品费"), **MONEY)
    # the part of drug_cost that is 中药饮片 (药占比 leaves it out); NULL when the source has no split
    herbal_cost = models.DecimalField(_("其中：中药饮片费"), **MONEY)
    material_cost = models.DecimalField(_("卫生材料费"), **MONEY)
    exam_cost = models.DecimalField(_("检查检验费"), **MONEY)
    other_cost = models.DecimalField(_("其他费用"), **MONEY)
    insurance_paid = models.DecimalField(_("医保基金支付"), **MONEY)
    self_pay = models.DecimalField(_("个人自付"), **MONEY)
    scheme = models.CharField(_("参保类型"), max_length=10, choices=InsuranceScheme.choices,
                              default=InsuranceScheme.RESIDENT)
    surgery = models.BooleanField(_("手术"), default=False)
    referred_from = models.ForeignKey("self", models.SET_NULL, null=True, blank=True, related_name="referrals",
                                      verbose_name=_("转诊来源"))

    class Meta:
        verbose_name = _("就诊记录")
        verbose_name_plural = _("就诊记录")
        ordering = ["-admit_date", "-id"]
        indexes = [
            models.Index(fields=["area_code", "admit_date"], name="encounter_area_date"),
            models.Index(fields=["facility", "admit_date"], name="encounter_facility_date"),
            models.Index(fields=["resident", "admit_date"], name="encounter_resident_date"),
            # drill-down from discharge-based indicators (ALOS, cost per discharge) to a facility's stays
            models.Index(fields=["facility", "discharge_date"], name="encounter_facility_discharge",
                         condition=models.Q(type="inpatient")),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.admit_date:%Y-%m-%d}"

    @property
    def length_of_stay(self) -> int | None:
        """住院天数: discharge minus admission, a same-day stay counting as one day."""
        if self.type != EncounterType.INPATIENT or self.discharge_date is None:
            return None
        return max((self.discharge_date - self.admit_date).days, 1)


class Diagnosis(models.Model):
    """Secondary diagnoses (the main one is on the encounter)."""

    encounter = models.ForeignKey(Encounter, models.CASCADE, related_name="diagnoses", verbose_name=_("就诊"))
    seq = models.PositiveSmallIntegerField(_("序号"), default=1)
    icd10 = models.CharField(_("ICD-10"), max_length=16)
    name = models.CharField(_("诊断名称"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("其他诊断")
        verbose_name_plural = _("其他诊断")
        ordering = ["encounter", "seq"]

    def __str__(self) -> str:
        return f"{self.icd10} {self.name}".strip()


class Procedure(models.Model):
    encounter = models.ForeignKey(Encounter, models.CASCADE, related_name="procedures", verbose_name=_("就诊"))
    code = models.CharField(_("手术操作编码(ICD-9-CM-3)"), max_length=12)
    name = models.CharField(_("名称"), max_length=60, blank=True)
    is_surgery = models.BooleanField(_("手术"), default=True)
    date = models.DateField(_("日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("手术操作")
        verbose_name_plural = _("手术操作")

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()


class SettlementType(models.TextChoices):
    OUTPATIENT = "outpatient", _("门诊")
    INPATIENT = "inpatient", _("住院")
    PHARMACY = "pharmacy", _("药店购药")


class InsuranceSettlement(models.Model):
    """医保结算: one settled claim of an insured of the county, wherever the care happened."""

    settlement_no = models.CharField(_("结算流水号"), max_length=40, unique=True)
    resident = models.ForeignKey(Resident, models.SET_NULL, null=True, blank=True, related_name="settlements",
                                 verbose_name=_("居民"))
    area_code = models.CharField(_("参保人区划代码"), max_length=12, db_index=True)
    residence_county = models.CharField(_("参保县"), max_length=6)
    scheme = models.CharField(_("险种"), max_length=10, choices=InsuranceScheme.choices,
                              default=InsuranceScheme.RESIDENT)
    type = models.CharField(_("类别"), max_length=12, choices=SettlementType.choices)
    facility_code = models.CharField(_("定点机构编码"), max_length=30)
    facility_name = models.CharField(_("定点机构名称"), max_length=100, blank=True)
    facility_county = models.CharField(_("机构所在县"), max_length=6)
    facility_level = models.CharField(_("机构层级"), max_length=14, choices=FacilityLevel.choices)
    admit_date = models.DateField(_("就诊/入院日期"))
    discharge_date = models.DateField(_("出院日期"), null=True, blank=True)
    settle_date = models.DateField(_("结算日期"), db_index=True)
    total_cost = models.DecimalField(_("医疗总费用"), max_digits=12, decimal_places=2)
    fund_paid = models.DecimalField(_("统筹基金支付"), max_digits=12, decimal_places=2)
    self_pay = models.DecimalField(_("个人支付"), max_digits=12, decimal_places=2, default=0)
    main_icd10 = models.CharField(_("主要诊断"), max_length=16, blank=True)
    encounter = models.ForeignKey(Encounter, models.SET_NULL, null=True, blank=True, related_name="+",
                                  verbose_name=_("对应就诊"))
    # 冲销/退费: a reversal row carries the original's settlement number and the negated amounts; it cancels
    # the original claim (−1 stay in the indicators), so a stay reversed and settled again counts once.
    reverses_no = models.CharField(_("冲销的原结算流水号"), max_length=40, blank=True, default="", db_default="",
                                   db_index=True)

    class Meta:
        verbose_name = _("医保结算")
        verbose_name_plural = _("医保结算")
        ordering = ["-settle_date", "-id"]

    def __str__(self) -> str:
        return self.settlement_no

    @property
    def is_reversal(self) -> bool:
        return bool(self.reverses_no)

    @property
    def in_county(self) -> bool:
        return self.facility_level in IN_COUNTY_LEVELS and self.facility_county == self.residence_county


class PopulationByAge(models.Model):
    """Resident population of an area (township or county, 12-digit code) by sex and 5-year age band."""

    area_code = models.CharField(_("区划代码"), max_length=12)
    year = models.PositiveSmallIntegerField(_("年份"))
    sex = models.CharField(_("性别"), max_length=1, choices=[("M", _("男")), ("F", _("女"))])
    age_from = models.PositiveSmallIntegerField(_("起始年龄"))  # 0, 1, 5, 10 … 85 (85 = 85+)
    population = models.PositiveIntegerField(_("人口数"))

    class Meta:
        verbose_name = _("分年龄人口")
        verbose_name_plural = _("分年龄人口")
        constraints = [models.UniqueConstraint(fields=["area_code", "year", "sex", "age_from"],
                                               name="population_unique")]

    def __str__(self) -> str:
        return f"{self.area_code} {self.year} {self.sex} {self.age_from}+"


class Death(models.Model):
    """A death with its underlying cause (ICD-10), from the death registration system."""

    resident = models.ForeignKey(Resident, models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("居民"))
    area_code = models.CharField(_("户籍区划代码"), max_length=12, db_index=True)
    sex = models.CharField(_("性别"), max_length=1, choices=[("M", _("男")), ("F", _("女"))])
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    age = models.PositiveSmallIntegerField(_("死亡年龄"))
    death_date = models.DateField(_("死亡日期"), db_index=True)
    cause_icd10 = models.CharField(_("根本死因(ICD-10)"), max_length=10)

    class Meta:
        verbose_name = _("死亡登记")
        verbose_name_plural = _("死亡登记")

    def __str__(self) -> str:
        return f"{self.area_code} {self.death_date:%Y-%m-%d} {self.cause_icd10}"
