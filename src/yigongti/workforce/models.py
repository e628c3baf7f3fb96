"""Expert postings (下沉): the townships' requests, each expert's monthly availability, the month's rota (a draft
the community manager edits, then publishes), the postings with their days on site, and the check-ins on those
days (confirmed by the host). The talent pool, village doctors and payroll join this app later."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Facility, MedicalCommunity, Staff


class PostingKind(models.TextChoices):
    CLINIC = "clinic", _("坐诊")
    ROUNDS = "rounds", _("查房")
    TEACHING = "teaching", _("带教")
    LECTURE = "lecture", _("讲座")
    SURGERY = "surgery", _("手术")
    DIRECTOR = "director", _("管理：挂职院长")
    HEAD = "head", _("管理：科主任")


class Site(models.Model):
    """Where a host facility is (the check-in's reference point). Facilities carry no position in ``orgs``."""

    facility = models.OneToOneField(Facility, models.CASCADE, related_name="wf_site", verbose_name=_("机构"))
    lon = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))

    class Meta:
        verbose_name = _("机构位置")
        verbose_name_plural = _("机构位置")

    def __str__(self) -> str:
        return f"{self.facility_id}: {self.lon:.5f},{self.lat:.5f}"


class Request(models.Model):
    """A township's need for a month: ``days`` expert-days of a kind (and a specialty) at a host facility."""

    host = models.ForeignKey(Facility, models.PROTECT, related_name="wf_requests", verbose_name=_("需求机构"))
    month = models.DateField(_("月份"))  # the first day of the month
    kind = models.CharField(_("形式"), max_length=10, choices=PostingKind.choices, default=PostingKind.CLINIC)
    specialty = models.CharField(_("专科"), max_length=50, blank=True)
    days = models.PositiveSmallIntegerField(_("每月天数"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("下沉需求")
        verbose_name_plural = _("下沉需求")
        ordering = ["month", "host", "pk"]
        indexes = [models.Index(fields=["month", "host"], name="wf_request_month")]

    def __str__(self) -> str:
        return f"{self.host_id} {self.month:%Y-%m} {self.kind} {self.days}"


class Availability(models.Model):
    """An expert's month: the days they can be away at most, and the dates they cannot."""

    staff = models.ForeignKey(Staff, models.CASCADE, related_name="wf_availability", verbose_name=_("专家"))
    month = models.DateField(_("月份"))
    cap_days = models.PositiveSmallIntegerField(_("每月最多下沉天数"))
    unavailable = models.JSONField(_("不可下沉日期"), default=list, blank=True)  # ISO dates

    class Meta:
        verbose_name = _("专家可下沉时间")
        verbose_name_plural = _("专家可下沉时间")
        constraints = [models.UniqueConstraint(fields=["staff", "month"], name="wf_availability_unique")]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.month:%Y-%m} ≤{self.cap_days}"


class RotaStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class Rota(models.Model):
    community = models.ForeignKey(MedicalCommunity, models.PROTECT, related_name="wf_rotas", verbose_name=_("医共体"))
    month = models.DateField(_("月份"))
    status = models.CharField(_("状态"), max_length=10, choices=RotaStatus.choices, default=RotaStatus.DRAFT)
    solver = models.CharField(_("排班方法"), max_length=10, default="cp-sat")
    requested_days = models.PositiveIntegerField(_("需求天数"), default=0)
    seconds = models.FloatField(_("求解秒数"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("月度排班")
        verbose_name_plural = _("月度排班")
        ordering = ["-month", "-pk"]

    def __str__(self) -> str:
        return f"{self.community_id} {self.month:%Y-%m} {self.status}"


class RotaEntry(models.Model):
    """One expert-day of a draft rota, for one request."""

    rota = models.ForeignKey(Rota, models.CASCADE, related_name="entries")
    request = models.ForeignKey(Request, models.CASCADE, related_name="+")
    staff = models.ForeignKey(Staff, models.PROTECT, related_name="+")
    day = models.DateField()
    by_hand = models.BooleanField(default=False)

    class Meta:
        ordering = ["day", "request", "staff"]
        constraints = [models.UniqueConstraint(fields=["rota", "staff", "day"], name="wf_rota_entry_unique")]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.day} → {self.request_id}"


class PostingStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    CANCELLED = "cancelled", _("已取消")


class Posting(models.Model):
    """An expert posted to a grassroots host from ``start`` to ``end``; the days on site are its ``days``."""

    staff = models.ForeignKey(Staff, models.PROTECT, related_name="wf_postings", verbose_name=_("专家"))
    host = models.ForeignKey(Facility, models.PROTECT, related_name="wf_hosted", verbose_name=_("派驻机构"))
    kind = models.CharField(_("形式"), max_length=10, choices=PostingKind.choices)
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"))
    status = models.CharField(_("状态"), max_length=10, choices=PostingStatus.choices, default=PostingStatus.ACTIVE)
    rota = models.ForeignKey(Rota, models.SET_NULL, null=True, blank=True, related_name="postings")
    request = models.ForeignKey(Request, models.SET_NULL, null=True, blank=True, related_name="postings")
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("专家下沉")
        verbose_name_plural = _("专家下沉")
        ordering = ["-start", "pk"]
        indexes = [models.Index(fields=["staff", "start"], name="wf_posting_staff")]

    def __str__(self) -> str:
        return f"{self.staff} → {self.host} {self.start}~{self.end}"


class PostingDay(models.Model):
    """A day on site of a posting, and its attendance: the expert's check-in (with the phone's position when
    given, and a flag when far from the host), the host's confirmation."""

    posting = models.ForeignKey(Posting, models.CASCADE, related_name="days")
    staff = models.ForeignKey(Staff, models.PROTECT, related_name="+")  # the posting's, for the per-day checks
    host = models.ForeignKey(Facility, models.PROTECT, related_name="+")
    day = models.DateField(_("日期"))
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    distance_m = models.PositiveIntegerField(_("距机构（米）"), null=True, blank=True)
    flagged = models.BooleanField(_("位置异常"), default=False)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("确认人"))
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("下沉日")
        verbose_name_plural = _("下沉日")
        ordering = ["day", "pk"]
        constraints = [models.UniqueConstraint(fields=["posting", "day"], name="wf_posting_day_unique")]
        indexes = [models.Index(fields=["staff", "day"], name="wf_day_staff"),
                   models.Index(fields=["host", "day"], name="wf_day_host")]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.day} @ {self.host_id}"
