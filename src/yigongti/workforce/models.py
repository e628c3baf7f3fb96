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


# ------------------------------------------------------------------------------------------------
# Village doctors (乡村医生): licence, training, attendance (考勤) with holidays and leave, assessment (考核)


class VillageLicence(models.Model):
    """The 乡村医生执业证书: registered for five years (《乡村医生从业管理条例》), renewed before it runs out."""

    staff = models.OneToOneField(Staff, models.CASCADE, related_name="vd_licence", verbose_name=_("乡村医生"))
    number = models.CharField(_("执业证书编号"), max_length=40, unique=True)
    issued_on = models.DateField(_("发证日期"))
    valid_until = models.DateField(_("有效期至"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("乡村医生执业证书")
        verbose_name_plural = _("乡村医生执业证书")
        ordering = ["valid_until", "pk"]

    def __str__(self) -> str:
        return f"{self.number} → {self.valid_until}"


class TrainingRequirement(models.Model):
    """The community's yearly training hours required of a village doctor (data, not code)."""

    community = models.ForeignKey(MedicalCommunity, models.CASCADE, related_name="vd_training_requirements",
                                  verbose_name=_("医共体"))
    year = models.PositiveSmallIntegerField(_("年度"))
    hours = models.DecimalField(_("年度培训学时要求"), max_digits=5, decimal_places=1)

    class Meta:
        verbose_name = _("乡村医生培训要求")
        verbose_name_plural = _("乡村医生培训要求")
        constraints = [models.UniqueConstraint(fields=["community", "year"], name="vd_training_req_unique")]

    def __str__(self) -> str:
        return f"{self.community_id} {self.year} ≥{self.hours}h"


class Training(models.Model):
    staff = models.ForeignKey(Staff, models.CASCADE, related_name="vd_trainings", verbose_name=_("乡村医生"))
    on = models.DateField(_("培训日期"))
    hours = models.DecimalField(_("学时"), max_digits=5, decimal_places=1)
    topic = models.CharField(_("培训内容"), max_length=100)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("乡村医生培训")
        verbose_name_plural = _("乡村医生培训")
        ordering = ["-on", "-pk"]
        indexes = [models.Index(fields=["staff", "on"], name="vd_training_staff")]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.on} {self.hours}h"


class Holiday(models.Model):
    """A day off for everybody (法定节假日), or a working day on a weekend (调休上班) when ``working``."""

    day = models.DateField(_("日期"), unique=True)
    name = models.CharField(_("名称"), max_length=30)
    working = models.BooleanField(_("调休上班"), default=False)

    class Meta:
        verbose_name = _("节假日")
        verbose_name_plural = _("节假日")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class ClinicCheckIn(models.Model):
    """The village doctor's daily check-in at their clinic (the phone's position optional; far away, flagged)."""

    staff = models.ForeignKey(Staff, models.CASCADE, related_name="vd_check_ins", verbose_name=_("乡村医生"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("村卫生室"))
    day = models.DateField(_("日期"))
    checked_in_at = models.DateTimeField(_("签到时间"))
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    distance_m = models.PositiveIntegerField(_("距机构（米）"), null=True, blank=True)
    flagged = models.BooleanField(_("位置异常"), default=False)

    class Meta:
        verbose_name = _("乡村医生考勤")
        verbose_name_plural = _("乡村医生考勤")
        ordering = ["-day", "pk"]
        constraints = [models.UniqueConstraint(fields=["staff", "day"], name="vd_check_in_unique")]
        indexes = [models.Index(fields=["facility", "day"], name="vd_check_in_facility")]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.day}"


class LeaveKind(models.TextChoices):
    ANNUAL = "annual", _("年休假")
    SICK = "sick", _("病假")
    PERSONAL = "personal", _("事假")
    TRAINING = "training", _("外出培训")
    OTHER = "other", _("其他")


class LeaveStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")


class Leave(models.Model):
    staff = models.ForeignKey(Staff, models.CASCADE, related_name="vd_leaves", verbose_name=_("乡村医生"))
    kind = models.CharField(_("类别"), max_length=10, choices=LeaveKind.choices)
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"))
    reason = models.CharField(_("事由"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=LeaveStatus.choices, default=LeaveStatus.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("审批人"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("请假")
        verbose_name_plural = _("请假")
        ordering = ["-start", "-pk"]
        indexes = [models.Index(fields=["staff", "start"], name="vd_leave_staff")]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.kind} {self.start}~{self.end} {self.status}"


class ItemMethod(models.TextChoices):
    ATTENDANCE = "attendance", _("出勤率（考勤计算）")
    PUBLIC_HEALTH = "public_health", _("公卫任务完成（履约与公卫记录计算）")
    ENTERED = "entered", _("乡镇卫生院录入")


class ScoringSheet(models.Model):
    """The community's 乡村医生考核 sheet: its items (with weights and max points) and the pass mark."""

    community = models.ForeignKey(MedicalCommunity, models.CASCADE, related_name="vd_sheets", verbose_name=_("医共体"))
    name = models.CharField(_("名称"), max_length=60)
    pass_mark = models.DecimalField(_("合格分"), max_digits=5, decimal_places=1, default=60)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("乡村医生考核表")
        verbose_name_plural = _("乡村医生考核表")
        ordering = ["-active", "-pk"]

    def __str__(self) -> str:
        return self.name


class ScoringItem(models.Model):
    sheet = models.ForeignKey(ScoringSheet, models.CASCADE, related_name="items", verbose_name=_("考核表"))
    code = models.SlugField(_("代码"), max_length=20)
    name = models.CharField(_("考核项目"), max_length=60)
    method = models.CharField(_("计分方式"), max_length=14, choices=ItemMethod.choices, default=ItemMethod.ENTERED)
    max_points = models.DecimalField(_("满分"), max_digits=5, decimal_places=1)
    weight = models.DecimalField(_("权重"), max_digits=4, decimal_places=2, default=1)
    target = models.PositiveIntegerField(_("月目标数"), null=True, blank=True)  # public-health tasks a month
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("考核项目")
        verbose_name_plural = _("考核项目")
        ordering = ["sheet", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["sheet", "code"], name="vd_item_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Assessment(models.Model):
    """A village doctor's month scored by the township: each item's points (computed or typed) and the total."""

    staff = models.ForeignKey(Staff, models.CASCADE, related_name="vd_assessments", verbose_name=_("乡村医生"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("村卫生室"))
    sheet = models.ForeignKey(ScoringSheet, models.PROTECT, related_name="assessments", verbose_name=_("考核表"))
    month = models.DateField(_("考核月份"))
    points = models.JSONField(_("各项得分"), default=dict)  # code → {"points", "basis"}
    total = models.DecimalField(_("总分"), max_digits=5, decimal_places=1)
    scored_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name=_("评分人"))
    scored_at = models.DateTimeField(_("评分时间"), auto_now=True)

    class Meta:
        verbose_name = _("乡村医生月考核")
        verbose_name_plural = _("乡村医生月考核")
        ordering = ["-month", "-total", "pk"]
        constraints = [models.UniqueConstraint(fields=["staff", "month"], name="vd_assessment_once")]
        indexes = [models.Index(fields=["month", "facility"], name="vd_assessment_month")]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.month:%Y-%m} {self.total}"


# ------------------------------------------------------------------------------------------------
# The talent pool (人才池) and 岗编分离: establishment posts by facility and category, assignments of the pool's
# people to where they work (县管乡用, 乡聘村用) with dates and approval


class EstablishmentPost(models.Model):
    """A facility's establishment (编制): how many posts of a category (the staff's profession)."""

    facility = models.ForeignKey(Facility, models.CASCADE, related_name="wf_posts", verbose_name=_("机构"))
    category = models.CharField(_("岗位类别"), max_length=20)  # orgs.Profession
    posts = models.PositiveSmallIntegerField(_("编制数"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("编制岗位")
        verbose_name_plural = _("编制岗位")
        ordering = ["facility", "category"]
        constraints = [models.UniqueConstraint(fields=["facility", "category"], name="wf_post_unique")]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.category} {self.posts}"


class AssignmentKind(models.TextChoices):
    COUNTY_TO_TOWNSHIP = "county_township", _("县管乡用")
    TOWNSHIP_TO_VILLAGE = "township_village", _("乡聘村用")
    TRANSFER = "transfer", _("调动")


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")
    ENDED = "ended", _("已结束")


class Assignment(models.Model):
    """A member of the pool assigned from their establishment to work elsewhere, from ``start`` (to ``end``);
    approved by the community, the staff's work facility follows."""

    staff = models.ForeignKey(Staff, models.PROTECT, related_name="wf_assignments", verbose_name=_("人员"))
    kind = models.CharField(_("类型"), max_length=20, choices=AssignmentKind.choices)
    from_facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("编制机构"))
    to_facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("使用机构"))
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=AssignmentStatus.choices,
                              default=AssignmentStatus.PENDING)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("审批人"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("人员派用")
        verbose_name_plural = _("人员派用")
        ordering = ["-start", "-pk"]
        indexes = [models.Index(fields=["staff", "start"], name="wf_assignment_staff")]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.kind} {self.from_facility_id}→{self.to_facility_id}"
