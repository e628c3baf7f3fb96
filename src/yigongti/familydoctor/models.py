"""Family-doctor teams, their contracts with residents (签约) and the fulfilment of those contracts (履约).

A ``Team`` (三师共管: a county specialist, a township general practitioner, the village doctor, a health manager)
is responsible for villages (``TeamVillage``, with dates); its ``TeamMember`` rows keep the membership history.
A ``Contract`` signs one resident to a team with a ``ServicePackage`` for a contract year; a household signing
makes one contract per member with the same ``household_batch``. A package's ``PackageService`` items are
scheduled for the year as ``ScheduledService`` rows and delivered as ``ServiceDelivery`` rows (by whom, where,
when), some inside a ``TeamSession`` (the "118" mode: each team's weekly session of at least 8 hours).
``MonthlyAssessment`` keeps each team's monthly score (月考核) and rank (月通报).

``DueItem`` is the county's due and overdue work across the three apps (contracts to renew, chronic follow-ups,
maternal and child visits, vaccine doses, annual checks, package services), recomputed in bulk by
``familydoctor.due``; the village doctor's day list and every due list read it.

Services are the only writers."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yigongti.orgs.models import Facility, MedicalCommunity, Region, Staff, User
from yigongti.residents.models import Household, Resident


class MemberRole(models.TextChoices):
    SPECIALIST = "specialist", _("县级专科医生")
    GENERAL_PRACTITIONER = "gp", _("乡镇全科医生")
    VILLAGE_DOCTOR = "village_doctor", _("乡村医生")
    HEALTH_MANAGER = "health_manager", _("健康管理师")
    NURSE = "nurse", _("护士")
    PUBLIC_HEALTH = "public_health", _("公卫人员")


class Team(models.Model):
    community = models.ForeignKey(MedicalCommunity, models.PROTECT, related_name="fd_teams", verbose_name=_("医共体"))
    code = models.CharField(_("团队编号"), max_length=20, unique=True)
    name = models.CharField(_("团队名称"), max_length=60)
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="fd_teams",
                                 verbose_name=_("所属机构"))  # the township health center that runs it
    leader = models.ForeignKey(Staff, models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("团队长"))
    active = models.BooleanField(_("在用"), default=True)
    created = models.DateTimeField(_("组建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("家庭医生团队")
        verbose_name_plural = _("家庭医生团队")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    team = models.ForeignKey(Team, models.CASCADE, related_name="members", verbose_name=_("团队"))
    staff = models.ForeignKey(Staff, models.PROTECT, related_name="fd_memberships", verbose_name=_("成员"))
    role = models.CharField(_("团队角色"), max_length=16, choices=MemberRole.choices)
    since = models.DateField(_("加入日期"))
    until = models.DateField(_("退出日期"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("团队成员")
        verbose_name_plural = _("团队成员")
        ordering = ["team", "role", "since"]
        indexes = [models.Index(fields=["staff", "until"])]

    def __str__(self) -> str:
        return f"{self.team_id}:{self.staff_id} {self.role}"


class TeamVillage(models.Model):
    team = models.ForeignKey(Team, models.CASCADE, related_name="villages", verbose_name=_("团队"))
    village = models.ForeignKey(Region, models.PROTECT, related_name="fd_team_links", verbose_name=_("责任村"))
    since = models.DateField(_("起始日期"))
    until = models.DateField(_("结束日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("团队责任村")
        verbose_name_plural = _("团队责任村")
        ordering = ["team", "village"]
        indexes = [models.Index(fields=["village", "until"])]

    def __str__(self) -> str:
        return f"{self.team_id}:{self.village_id}"


class PackageKind(models.TextChoices):
    BASIC = "basic", _("基础包")
    PAID = "paid", _("个性化付费包")


class ServicePackage(models.Model):
    community = models.ForeignKey(MedicalCommunity, models.PROTECT, related_name="fd_packages",
                                  verbose_name=_("医共体"))
    code = models.CharField(_("服务包编号"), max_length=20, unique=True)
    name = models.CharField(_("服务包名称"), max_length=60)
    kind = models.CharField(_("类别"), max_length=8, choices=PackageKind.choices, default=PackageKind.BASIC)
    # the annual fee and who pays it, in yuan (basic packages: 0 for the resident; 公卫经费 and 医保 carry it)
    annual_fee = models.DecimalField(_("年服务费（元）"), max_digits=8, decimal_places=2, default=0)
    resident_share = models.DecimalField(_("个人承担（元）"), max_digits=8, decimal_places=2, default=0)
    insurance_share = models.DecimalField(_("医保基金承担（元）"), max_digits=8, decimal_places=2, default=0)
    public_health_share = models.DecimalField(_("基本公卫经费承担（元）"), max_digits=8, decimal_places=2, default=0)
    target_tags = models.JSONField(_("适用人群"), default=list, blank=True)  # KeyPopulation values; [] = everyone
    description = models.TextField(_("服务内容说明"), blank=True)
    active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("签约服务包")
        verbose_name_plural = _("签约服务包")
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return self.name


class ServiceKind(models.TextChoices):
    FOLLOW_UP = "follow_up", _("慢病随访")
    HEALTH_CHECK = "health_check", _("健康体检")
    HOME_VISIT = "home_visit", _("上门服务")
    CONSULTATION = "consultation", _("健康咨询")
    EDUCATION = "education", _("健康教育")
    MEDICATION = "medication", _("用药指导")
    TEST = "test", _("检查检验")
    MATERNAL = "maternal", _("孕产妇服务")
    CHILD = "child", _("儿童健康服务")
    TCM = "tcm", _("中医药健康管理")
    OTHER = "other", _("其他")


class PackageService(models.Model):
    package = models.ForeignKey(ServicePackage, models.CASCADE, related_name="services", verbose_name=_("服务包"))
    code = models.CharField(_("服务项目编号"), max_length=20)
    name = models.CharField(_("服务项目"), max_length=60)
    kind = models.CharField(_("类别"), max_length=16, choices=ServiceKind.choices)
    times_per_year = models.PositiveSmallIntegerField(_("每年次数"), default=1)
    tags = models.JSONField(_("仅适用人群"), default=list, blank=True)  # [] = every signed member of the package

    class Meta:
        verbose_name = _("服务项目")
        verbose_name_plural = _("服务项目")
        ordering = ["package", "code"]
        constraints = [models.UniqueConstraint(fields=["package", "code"], name="fd_package_service_code")]

    def __str__(self) -> str:
        return self.name


class ContractStatus(models.TextChoices):
    ACTIVE = "active", _("履约中")
    EXPIRED = "expired", _("已到期")
    RENEWED = "renewed", _("已续约")
    ENDED = "ended", _("已解约")


class EndReason(models.TextChoices):
    MOVED = "moved", _("迁出本辖区")
    UNREACHABLE = "unreachable", _("连续一年无法联系")
    REFUSED = "refused", _("连续一年拒绝服务")
    WITHDREW = "withdrew", _("主动解约")
    DIED = "died", _("死亡")


class ConsentKind(models.TextChoices):
    PAPER = "paper", _("纸质协议扫描件")
    TABLET = "tablet", _("平板电子签名")


class Contract(models.Model):
    number = models.CharField(_("协议编号"), max_length=24, unique=True)
    resident = models.ForeignKey(Resident, models.PROTECT, related_name="fd_contracts", verbose_name=_("居民"))
    household = models.ForeignKey(Household, models.SET_NULL, null=True, blank=True, related_name="+",
                                  verbose_name=_("家庭"))
    household_batch = models.CharField(_("家庭签约批次"), max_length=24, blank=True, db_index=True)
    team = models.ForeignKey(Team, models.PROTECT, related_name="contracts", verbose_name=_("团队"))
    doctor = models.ForeignKey(Staff, models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("签约医生"))
    package = models.ForeignKey(ServicePackage, models.PROTECT, related_name="contracts", verbose_name=_("服务包"))
    village = models.ForeignKey(Region, models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("所在村"))  # the resident's village when signed (coverage by village)
    signed_on = models.DateField(_("签约日期"))
    start = models.DateField(_("协议开始"))
    end = models.DateField(_("协议结束"))
    status = models.CharField(_("状态"), max_length=8, choices=ContractStatus.choices, default=ContractStatus.ACTIVE,
                              db_index=True)
    renewed_from = models.OneToOneField("self", models.SET_NULL, null=True, blank=True, related_name="renewal",
                                        verbose_name=_("续约自"))
    resident_fee = models.DecimalField(_("个人承担（元）"), max_digits=8, decimal_places=2, default=0)
    insurance_fee = models.DecimalField(_("医保基金承担（元）"), max_digits=8, decimal_places=2, default=0)
    out_of_area_reason = models.CharField(_("跨责任区签约理由"), max_length=200, blank=True)
    consent_kind = models.CharField(_("知情同意方式"), max_length=8, choices=ConsentKind.choices,
                                    default=ConsentKind.PAPER)
    consent_file = models.CharField(_("协议扫描件"), max_length=200, blank=True)  # storage name (core.uploads)
    consent_signature = models.TextField(_("电子签名"), blank=True)  # the tablet's strokes as SVG path data
    ended_on = models.DateField(_("解约日期"), null=True, blank=True)
    end_reason = models.CharField(_("解约原因"), max_length=12, choices=EndReason.choices, blank=True)
    end_note = models.CharField(_("解约说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    created = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("签约协议")
        verbose_name_plural = _("签约协议")
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["resident"], condition=Q(status="active"), name="fd_one_active_contract"),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="fd_contract_dates"),
        ]
        indexes = [models.Index(fields=["team", "status"]), models.Index(fields=["village", "status"]),
                   models.Index(fields=["end", "status"])]

    def __str__(self) -> str:
        return self.number


class ScheduledService(models.Model):
    contract = models.ForeignKey(Contract, models.CASCADE, related_name="schedule", verbose_name=_("协议"))
    service = models.ForeignKey(PackageService, models.PROTECT, related_name="+", verbose_name=_("服务项目"))
    seq = models.PositiveSmallIntegerField(_("第几次"), default=1)
    due_from = models.DateField(_("应服务起"))
    due_by = models.DateField(_("应服务止"), db_index=True)
    delivery = models.OneToOneField("ServiceDelivery", models.SET_NULL, null=True, blank=True,
                                    related_name="scheduled", verbose_name=_("履约记录"))

    class Meta:
        verbose_name = _("履约计划")
        verbose_name_plural = _("履约计划")
        ordering = ["contract", "due_by", "seq"]
        constraints = [models.UniqueConstraint(fields=["contract", "service", "seq"], name="fd_schedule_once")]

    def __str__(self) -> str:
        return f"{self.contract_id}:{self.service_id}#{self.seq}"


class DeliverySource(models.TextChoices):
    MANUAL = "manual", _("手工登记")
    CHRONIC = "chronic", _("慢病随访")
    HEALTH_CHECK = "health_check", _("健康体检")
    MATERNAL = "maternal", _("孕产妇服务")
    CHILD = "child", _("儿童健康服务")
    IMMUNISATION = "immunisation", _("预防接种")


# Where a service was delivered: the form's choices, stored as the Chinese word and shown in the reader's language.
PLACES = {
    "村卫生室": pgettext_lazy("place", "村卫生室"),
    "入户": pgettext_lazy("place", "入户"),
    "乡镇卫生院": pgettext_lazy("place", "乡镇卫生院"),
    "县级医院": pgettext_lazy("place", "县级医院"),
    "电话/视频": pgettext_lazy("place", "电话/视频"),
    "其他": pgettext_lazy("place", "其他"),
}


class ServiceDelivery(models.Model):
    contract = models.ForeignKey(Contract, models.CASCADE, related_name="deliveries", verbose_name=_("协议"))
    service = models.ForeignKey(PackageService, models.PROTECT, related_name="+", verbose_name=_("服务项目"))
    delivered_on = models.DateField(_("服务日期"), db_index=True)
    by = models.ForeignKey(Staff, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("服务人"))
    facility = models.ForeignKey(Facility, models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("服务机构"))
    place = models.CharField(_("服务地点"), max_length=60, blank=True)  # 村卫生室 / 入户 / 乡镇卫生院 …
    session = models.ForeignKey("TeamSession", models.SET_NULL, null=True, blank=True, related_name="deliveries",
                                verbose_name=_("118服务"))
    source = models.CharField(_("来源"), max_length=14, choices=DeliverySource.choices, default=DeliverySource.MANUAL)
    source_id = models.CharField(_("来源记录"), max_length=40, blank=True)  # e.g. "chronic.followup:123"
    note = models.CharField(_("服务内容"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("履约记录")
        verbose_name_plural = _("履约记录")
        ordering = ["-delivered_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["source", "source_id"], condition=~Q(source_id=""),
                                               name="fd_delivery_source_once")]

    def __str__(self) -> str:
        return f"{self.contract_id}:{self.service_id} {self.delivered_on}"

    @property
    def place_label(self) -> str:
        """The place in the reader's language (a place typed through the API is shown as typed)."""
        return str(PLACES.get(self.place, self.place))


class TeamSession(models.Model):
    """One "118" session: the team's weekly service day (1 team, 1 day a week, at least 8 hours)."""

    team = models.ForeignKey(Team, models.PROTECT, related_name="sessions", verbose_name=_("团队"))
    date = models.DateField(_("服务日期"), db_index=True)
    starts = models.TimeField(_("开始时间"))
    ends = models.TimeField(_("结束时间"))
    place = models.ForeignKey(Facility, models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name=_("服务地点"))
    village = models.ForeignKey(Region, models.SET_NULL, null=True, blank=True, related_name="+",
                                verbose_name=_("服务村"))
    present = models.ManyToManyField(Staff, related_name="fd_sessions", blank=True, verbose_name=_("到场成员"))
    note = models.CharField(_("说明"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("118服务日")
        verbose_name_plural = _("118服务日")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.team_id} {self.date}"


class MonthlyAssessment(models.Model):
    team = models.ForeignKey(Team, models.CASCADE, related_name="assessments", verbose_name=_("团队"))
    month = models.DateField(_("考核月份"))  # the month's first day
    fulfilment = models.DecimalField(_("履约得分"), max_digits=5, decimal_places=1)
    timeliness = models.DecimalField(_("及时性得分"), max_digits=5, decimal_places=1)
    outcomes = models.DecimalField(_("慢病管理成效得分"), max_digits=5, decimal_places=1)
    sessions = models.DecimalField(_("118服务得分"), max_digits=5, decimal_places=1, default=0)
    total = models.DecimalField(_("总分"), max_digits=5, decimal_places=1)
    rank = models.PositiveIntegerField(_("排名"), null=True, blank=True)
    details = models.JSONField(_("评分明细"), default=dict)  # the counts behind each score
    computed_at = models.DateTimeField(_("计算时间"), auto_now=True)

    class Meta:
        verbose_name = _("团队月考核")
        verbose_name_plural = _("团队月考核")
        ordering = ["-month", "rank"]
        constraints = [models.UniqueConstraint(fields=["team", "month"], name="fd_assessment_once")]

    def __str__(self) -> str:
        return f"{self.team_id} {self.month:%Y-%m}"


class DueKind(models.TextChoices):
    CONTRACT_RENEWAL = "renewal", _("签约续约")
    PACKAGE_SERVICE = "service", _("签约服务")
    CHRONIC_FOLLOW_UP = "chronic", _("慢病随访")
    ANNUAL_CHECK = "check", _("年度健康体检")
    MATERNAL_VISIT = "maternal", _("孕产妇随访")
    CHILD_VISIT = "child", _("儿童健康检查")
    VACCINE = "vaccine", _("预防接种")


class DueItem(models.Model):
    """One piece of due work for one resident: recomputed in bulk, never edited (``familydoctor.due``)."""

    resident = models.ForeignKey(Resident, models.CASCADE, related_name="+", verbose_name=_("居民"))
    kind = models.CharField(_("类别"), max_length=10, choices=DueKind.choices)
    ref = models.CharField(_("项目"), max_length=40)  # e.g. "htn", "antenatal_2", "month_6", "HepB-2"
    label = models.CharField(_("说明"), max_length=80)  # shown as is (Chinese; English via the kind and ref)
    due_from = models.DateField(_("应服务起"))
    due_by = models.DateField(_("应服务止"))
    village = models.ForeignKey(Region, models.CASCADE, null=True, blank=True, related_name="+",
                                verbose_name=_("所在村"))
    area_code = models.CharField(_("区划代码"), max_length=12, db_index=True)
    team = models.ForeignKey(Team, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("团队"))
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("待办服务")
        verbose_name_plural = _("待办服务")
        ordering = ["due_by", "id"]
        indexes = [models.Index(fields=["village", "due_by"]), models.Index(fields=["kind", "due_by"]),
                   models.Index(fields=["team", "due_by"]), models.Index(fields=["resident"])]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.kind}:{self.ref}"
