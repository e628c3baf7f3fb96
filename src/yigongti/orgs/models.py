"""The organisation registry: regions, communities, facilities, departments, staff, accounts."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from yigongti.core.carelevel import GRASSROOTS_LEVELS, CareLevel, care_level


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县")
    TOWNSHIP = "township", _("乡镇")
    VILLAGE = "village", _("村")


# Length of the significant prefix of a 12-digit statistical code at each level.
PREFIX_LENGTH = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}


class Region(models.Model):
    """A GB/T 2260 region; codes are stored as the statistics bureau's 12 digits so that
    a region's subtree is every code that starts with its significant prefix."""

    code = models.CharField(
        _("区划代码"), max_length=12, unique=True,
        validators=[RegexValidator(r"^\d{12}$", "区划代码应为12位数字")],
    )
    name = models.CharField(_("名称"), max_length=60)
    level = models.CharField(_("级别"), max_length=10, choices=RegionLevel.choices)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("上级区划"))

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        return self.code[: PREFIX_LENGTH[self.level]]


class HealthServiceGroup(models.Model):
    """健康服务集团: a city-level group led by a city hospital, linking several county communities."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    region = models.ForeignKey(Region, models.PROTECT, verbose_name=_("所在市"))
    lead_facility = models.ForeignKey("Facility", models.PROTECT, null=True, blank=True,
                                      related_name="+", verbose_name=_("牵头医院"))

    class Meta:
        verbose_name = _("健康服务集团")
        verbose_name_plural = _("健康服务集团")

    def __str__(self) -> str:
        return self.name


class MedicalCommunity(models.Model):
    """紧密型县域医共体: one county hospital leading the township centers and village clinics."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    region = models.ForeignKey(Region, models.PROTECT, verbose_name=_("所在县"))
    lead_facility = models.ForeignKey("Facility", models.PROTECT, null=True, blank=True,
                                      related_name="+", verbose_name=_("牵头医院"))
    service_group = models.ForeignKey(HealthServiceGroup, models.SET_NULL, null=True, blank=True,
                                      related_name="communities", verbose_name=_("健康服务集团"))
    established = models.DateField(_("成立日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("医共体")
        verbose_name_plural = _("医共体")

    def __str__(self) -> str:
        return self.name


class BoardMember(models.Model):
    """A seat on the community's management board (医共体管理委员会 / 理事会)."""

    community = models.ForeignKey(MedicalCommunity, models.CASCADE, related_name="board",
                                  verbose_name=_("医共体"))
    name = models.CharField(_("姓名"), max_length=30)
    position = models.CharField(_("职务"), max_length=50)
    organisation = models.CharField(_("单位"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("管理委员会成员")
        verbose_name_plural = _("管理委员会成员")

    def __str__(self) -> str:
        return f"{self.name}（{self.position}）"


class FacilityType(models.TextChoices):
    """WS 218《卫生机构（组织）分类与代码》: the types a county's registry holds. The care level each
    implies (county / township / village) is decided in ``core.carelevel``; ownership is a separate field."""

    GENERAL_HOSPITAL = "A100", _("综合医院")
    TCM_HOSPITAL = "A210", _("中医医院")
    INTEGRATED_HOSPITAL = "A300", _("中西医结合医院")
    ETHNIC_HOSPITAL = "A400", _("民族医院")
    SPECIALTY_HOSPITAL = "A500", _("专科医院")
    NURSING_HOME = "A600", _("护理院")
    COMMUNITY_CENTER = "B100", _("社区卫生服务中心")
    COMMUNITY_STATION = "B200", _("社区卫生服务站")
    SUBDISTRICT_CENTER = "C100", _("街道卫生院")
    CENTRAL_TOWNSHIP_CENTER = "C210", _("中心乡镇卫生院")
    TOWNSHIP_CENTER = "C220", _("乡镇卫生院")
    OUTPATIENT_DEPARTMENT = "D100", _("门诊部")
    CLINIC = "D200", _("诊所")
    HEALTH_ROOM = "D300", _("卫生所（室）")
    INFIRMARY = "D400", _("医务室")
    VILLAGE_CLINIC = "D600", _("村卫生室")
    EMERGENCY_CENTER = "E100", _("急救中心")
    EMERGENCY_STATION = "E300", _("急救站")
    MCH_HOSPITAL = "G100", _("妇幼保健院")
    MCH_STATION = "G200", _("妇幼保健所（站）")


class Ownership(models.TextChoices):
    """Who owns the facility (登记注册类型, simplified): a private hospital is a type with private ownership."""

    PUBLIC = "public", _("公立")
    PRIVATE = "private", _("民营")


class FacilityGrade(models.TextChoices):
    """医院等级 (hospital grading), unrelated to the care level."""

    TERTIARY_A = "3A", _("三级甲等")
    TERTIARY = "3", _("三级")
    SECONDARY_A = "2A", _("二级甲等")
    SECONDARY = "2", _("二级")
    PRIMARY = "1", _("一级")
    UNRATED = "0", _("未定级")


class Facility(models.Model):
    code = models.CharField(
        _("机构代码"), max_length=22, unique=True,
        validators=[RegexValidator(r"^[0-9A-Z]{6,22}$", "机构代码只能包含数字和大写字母（6–22位）")],
    )
    name = models.CharField(_("机构名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=30, blank=True)
    type = models.CharField(_("机构类别"), max_length=4, choices=FacilityType.choices)
    ownership = models.CharField(_("所有制"), max_length=10, choices=Ownership.choices, default=Ownership.PUBLIC)
    # the hospital grade (医院等级); the care level is ``care_level``
    level = models.CharField(_("等级"), max_length=2, choices=FacilityGrade.choices, default=FacilityGrade.UNRATED)
    region = models.ForeignKey(Region, models.PROTECT, related_name="facilities", verbose_name=_("所在区划"))
    community = models.ForeignKey(MedicalCommunity, models.PROTECT, null=True, blank=True,
                                  related_name="members", verbose_name=_("所属医共体"))
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("上级机构"))
    approved_beds = models.PositiveIntegerField(_("核定床位"), default=0)
    open_beds = models.PositiveIntegerField(_("实际开放床位"), default=0)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    is_active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("医疗卫生机构")
        verbose_name_plural = _("医疗卫生机构")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def care_level(self) -> CareLevel:
        """县级 / 乡镇级 / 村级 within the county, from the WS 218 type (core.carelevel, the one place)."""
        return care_level(self.type)

    @property
    def is_grassroots(self) -> bool:
        """基层医疗卫生机构: township or village level (N07, N09)."""
        return self.care_level.value in GRASSROOTS_LEVELS


class Department(models.Model):
    facility = models.ForeignKey(Facility, models.CASCADE, related_name="departments", verbose_name=_("机构"))
    code = models.CharField(_("科室代码"), max_length=20)
    name = models.CharField(_("科室名称"), max_length=50)
    beds = models.PositiveIntegerField(_("床位"), default=0)
    is_clinical = models.BooleanField(_("临床科室"), default=True)

    class Meta:
        verbose_name = _("科室")
        verbose_name_plural = _("科室")
        ordering = ["facility", "code"]
        constraints = [models.UniqueConstraint(fields=["facility", "code"], name="department_code_unique")]

    def __str__(self) -> str:
        return f"{self.facility.short_name or self.facility.name} {self.name}"


class Profession(models.TextChoices):
    PHYSICIAN = "physician", _("医师")
    ASSISTANT_PHYSICIAN = "assistant", _("助理医师")
    NURSE = "nurse", _("护士")
    PHARMACIST = "pharmacist", _("药师")
    TECHNICIAN = "technician", _("技师")
    VILLAGE_DOCTOR = "village_doctor", _("乡村医生")
    PUBLIC_HEALTH = "public_health", _("公共卫生人员")
    EMERGENCY = "emergency", _("急救人员")
    MANAGER = "manager", _("管理人员")


class Title(models.TextChoices):
    """职称: professional titles, junior to senior."""

    NONE = "none", _("无")
    JUNIOR_ASSISTANT = "shi", _("士级")
    JUNIOR = "shi2", _("师级")
    INTERMEDIATE = "zhongji", _("中级")
    ASSOCIATE_SENIOR = "fugao", _("副高级")
    SENIOR = "zhenggao", _("正高级")


class Staff(models.Model):
    name = models.CharField(_("姓名"), max_length=30)
    sex = models.CharField(_("性别"), max_length=1, choices=[("M", _("男")), ("F", _("女"))])
    id_number = models.CharField(_("身份证号"), max_length=18, blank=True, db_index=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    profession = models.CharField(_("执业类别"), max_length=20, choices=Profession.choices)
    title = models.CharField(_("职称"), max_length=10, choices=Title.choices, default=Title.NONE)
    establishment_facility = models.ForeignKey(Facility, models.PROTECT, related_name="establishment_staff",
                                               verbose_name=_("编制所在机构"))
    work_facility = models.ForeignKey(Facility, models.PROTECT, related_name="working_staff",
                                      verbose_name=_("实际工作机构"))
    department = models.ForeignKey(Department, models.SET_NULL, null=True, blank=True,
                                   related_name="staff", verbose_name=_("科室"))
    certificate_number = models.CharField(_("执业证书编号"), max_length=30, null=True, blank=True, unique=True)
    is_active = models.BooleanField(_("在岗"), default=True)

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["work_facility", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_seconded(self) -> bool:
        """岗编分离: works somewhere other than the facility holding the establishment post."""
        return self.establishment_facility_id != self.work_facility_id


class Role(models.TextChoices):
    CITY = "city", _("市卫健委")
    BUREAU = "bureau", _("卫健局")
    COMMUNITY_MANAGER = "community_manager", _("医共体管理")
    FACILITY_ADMIN = "facility_admin", _("机构管理员")
    DOCTOR = "doctor", _("医生")
    NURSE = "nurse", _("护士")
    VILLAGE_DOCTOR = "village_doctor", _("乡村医生")
    PHARMACIST = "pharmacist", _("药师")
    INSURANCE_OFFICER = "insurance_officer", _("医保经办")
    DISPATCHER = "dispatcher", _("120调度员")
    PUBLIC_HEALTH = "public_health", _("公卫人员")
    AUDITOR = "auditor", _("审计员")


class User(AbstractUser):
    """An account. Clinical accounts link to a Staff record; bureau and city accounts to a region."""

    display_name = models.CharField(_("显示名称"), max_length=50, blank=True)
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.DOCTOR)
    staff = models.OneToOneField(Staff, models.SET_NULL, null=True, blank=True, related_name="account",
                                 verbose_name=_("人员"))
    facility = models.ForeignKey(Facility, models.PROTECT, null=True, blank=True, related_name="accounts",
                                 verbose_name=_("所在机构"))
    region = models.ForeignKey(Region, models.PROTECT, null=True, blank=True, related_name="accounts",
                               verbose_name=_("管辖区划"))

    class Meta:
        verbose_name = _("账号")
        verbose_name_plural = _("账号")
        permissions = [("unmask_personal_data", "可查看完整身份证号和电话")]

    def __str__(self) -> str:
        return self.display_name or self.username


class ApiToken(models.Model):
    """A personal access token for systems; only its SHA-256 is stored."""

    user = models.ForeignKey(User, models.CASCADE, related_name="api_tokens", verbose_name=_("账号"))
    name = models.CharField(_("用途"), max_length=60)
    prefix = models.CharField(max_length=8, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(_("过期时间"), null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(_("已撤销"), default=False)

    class Meta:
        verbose_name = _("访问令牌")
        verbose_name_plural = _("访问令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
