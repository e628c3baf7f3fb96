"""Residents and households (the minimal core; the resident index issue extends it)."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from yigongti.core.personal import mask_id_number, mask_phone
from yigongti.orgs.models import Region


class Sex(models.TextChoices):
    # GB/T 2261.1: 1 male, 2 female, 0 unknown, 9 unspecified
    MALE = "M", _("男")
    FEMALE = "F", _("女")
    UNKNOWN = "U", _("未知")


class KeyPopulation(models.TextChoices):
    POVERTY_ALLEVIATED = "tuopin", _("脱贫户")
    DIBAO = "dibao", _("低保户")
    TEKUN = "tekun", _("特困户")
    MONITORED = "jiance", _("监测户")
    CHILD_0_6 = "child", _("0–6岁儿童")
    MATERNAL = "maternal", _("孕产妇")
    ELDERLY_65 = "elderly", _("65岁以上老年人")
    HYPERTENSION = "htn", _("高血压")
    DIABETES = "t2dm", _("2型糖尿病")
    SEVERE_MENTAL = "smi", _("严重精神障碍")
    DISABLED = "disabled", _("残疾人")


class Household(models.Model):
    number = models.CharField(_("户编号"), max_length=20, unique=True)
    village = models.ForeignKey(Region, models.PROTECT, related_name="households", verbose_name=_("所在村"))
    area_code = models.CharField(_("区划代码"), max_length=12, db_index=True)
    address = models.CharField(_("住址"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("家庭户")
        verbose_name_plural = _("家庭户")

    def __str__(self) -> str:
        return self.number


class Resident(models.Model):
    name = models.CharField(_("姓名"), max_length=40, db_index=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    id_number = models.CharField(_("身份证号"), max_length=18, null=True, blank=True, unique=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    household = models.ForeignKey(Household, models.PROTECT, null=True, blank=True, related_name="members",
                                  verbose_name=_("家庭户"))
    village = models.ForeignKey(Region, models.PROTECT, related_name="residents", verbose_name=_("居住村"))
    # The village's 12-digit code, copied so that scoping is an indexed prefix filter.
    area_code = models.CharField(_("区划代码"), max_length=12, db_index=True)
    created = models.DateTimeField(_("建档时间"), auto_now_add=True)
    updated = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")
        ordering = ["id"]
        indexes = [models.Index(fields=["area_code", "name"], name="resident_area_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def age_on(self, day: dt.date) -> int:
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))

    @property
    def age(self) -> int:
        return self.age_on(dt.date.today())


class ResidentTag(models.Model):
    """A key-population membership (重点人群标签)."""

    resident = models.ForeignKey(Resident, models.CASCADE, related_name="tags", verbose_name=_("居民"))
    tag = models.CharField(_("重点人群"), max_length=10, choices=KeyPopulation.choices, db_index=True)

    class Meta:
        verbose_name = _("重点人群标签")
        verbose_name_plural = _("重点人群标签")
        constraints = [models.UniqueConstraint(fields=["resident", "tag"], name="resident_tag_unique")]
