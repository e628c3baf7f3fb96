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


def name_search_keys(name: str) -> tuple[str, str]:
    """(full pinyin, initials) of a name, lower-case ASCII: 李建国 → ("lijianguo", "ljg"); 吕 → "lv"."""
    from pypinyin import Style, lazy_pinyin

    syllables = [s.lower() for s in lazy_pinyin(name or "", style=Style.NORMAL, errors="ignore")
                 if s.isascii() and s.isalpha()]
    return "".join(syllables)[:120], "".join(s[0] for s in syllables)[:40]


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
    # Null when an imported record names only the township or county: area_code is then that
    # region's code padded with zeros, so scoping still places the person.
    village = models.ForeignKey(Region, models.PROTECT, null=True, blank=True, related_name="residents",
                                verbose_name=_("居住村"))
    # The village's 12-digit code, copied so that scoping is an indexed prefix filter.
    area_code = models.CharField(_("区划代码"), max_length=12, db_index=True)
    # Dialect-folded pinyin of the name: the index's blocking key for homophones (王伟/汪伟).
    pinyin_key = models.CharField(_("姓名拼音键"), max_length=80, blank=True, db_index=True)
    # For searching by name typed in Latin letters: full toneless pinyin ("lijianguo") and initials ("ljg").
    name_pinyin = models.CharField(_("姓名全拼"), max_length=120, blank=True, db_index=True)
    name_initials = models.CharField(_("姓名首字母"), max_length=40, blank=True, db_index=True)
    merged_into = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="merged_persons",
                                    verbose_name=_("已合并至"))
    created = models.DateTimeField(_("建档时间"), auto_now_add=True)
    updated = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["area_code", "name"], name="resident_area_name"),
            models.Index(fields=["birth_date"], name="resident_birth"),
            models.Index(fields=["phone"], name="resident_phone"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # the search keys follow the name on every save (bulk loaders call name_search_keys themselves)
        self.name_pinyin, self.name_initials = name_search_keys(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_pinyin", "name_initials"}
        super().save(*args, **kwargs)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def place(self) -> str:
        """乡镇+村 where known, else the name of the township or county the person is filed under (a name,
        never the 12-digit code)."""
        if self.village is None:
            region = Region.objects.filter(code=self.area_code).select_related("parent").first()
            if region is None:
                return "—"
            parent = region.parent if region.level == "township" else None
            return f"{parent.name if parent is not None else ''}{region.name}"
        return f"{self.village.parent.name if self.village.parent else ''}{self.village.name}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    revealed_phone = ""  # not a column: set by queries.reveal_phone_for_care for this reader

    @property
    def shown_phone(self) -> str:
        """The phone as this reader may see it: masked, unless a query revealed it for care
        (``queries.reveal_phone_for_care``: the resident's own village doctor, audited)."""
        return self.revealed_phone or self.masked_phone

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

    def __str__(self) -> str:
        return f"{self.resident_id}:{self.tag}"



class LinkHow(models.TextChoices):
    REGISTERED = "registered", _("登记建档")
    LINKED = "linked", _("自动关联")
    REVIEWED = "reviewed", _("人工确认关联")
    CREATED = "created", _("新建")


class SourceRecord(models.Model):
    """One record of one source system (HIS, township clinic, village, public-health archive) as it
    came in, and the person it belongs to. Merges move records between persons; nothing is rewritten."""

    person = models.ForeignKey(Resident, models.PROTECT, related_name="source_records", verbose_name=_("居民"))
    source_system = models.CharField(_("来源系统"), max_length=60)
    record_id = models.CharField(_("来源记录号"), max_length=64)
    name = models.CharField(_("姓名"), max_length=60, blank=True)
    sex = models.CharField(_("性别"), max_length=1, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_number = models.CharField(_("身份证号（原样）"), max_length=24, blank=True)
    id_valid = models.BooleanField(_("身份证号有效"), default=False)
    phone = models.CharField(_("联系电话"), max_length=24, blank=True)
    address = models.CharField(_("住址"), max_length=200, blank=True)
    household_ref = models.CharField(_("来源户号"), max_length=40, blank=True)
    batch = models.ForeignKey("ImportBatch", models.SET_NULL, null=True, blank=True, related_name="records",
                              verbose_name=_("导入批次"))
    how = models.CharField(_("关联方式"), max_length=12, choices=LinkHow.choices)
    match_score = models.FloatField(_("匹配概率"), null=True, blank=True)
    explanation = models.JSONField(_("匹配依据"), default=dict, blank=True)
    created = models.DateTimeField(_("入库时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("来源记录")
        verbose_name_plural = _("来源记录")
        constraints = [models.UniqueConstraint(fields=["source_system", "record_id"], name="source_record_unique")]

    def __str__(self) -> str:
        return f"{self.source_system}:{self.record_id}"


class BatchStatus(models.TextChoices):
    PREVIEWED = "previewed", _("待确认")
    COMMITTED = "committed", _("已入库")
    DISCARDED = "discarded", _("已放弃")
    FAILED = "failed", _("导入失败")


class ImportBatch(models.Model):
    source_system = models.CharField(_("来源系统"), max_length=60)
    filename = models.CharField(_("文件名"), max_length=200)
    uploaded_by = models.ForeignKey("orgs.User", models.PROTECT, related_name="+", verbose_name=_("导入人"))
    status = models.CharField(_("状态"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.PREVIEWED)
    summary = models.JSONField(_("汇总"), default=dict)
    file_problems = models.JSONField(_("文件问题"), default=list)
    created = models.DateTimeField(_("上传时间"), auto_now_add=True)
    committed_at = models.DateTimeField(_("入库时间"), null=True, blank=True)
    failure = models.CharField(_("失败原因"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.pk}:{self.filename}"



class RowAction(models.TextChoices):
    LINK = "link", _("关联已有")
    REVIEW = "review", _("待人工审核")
    CREATE = "create", _("新建")
    ERROR = "error", _("无法导入")
    SKIP = "skip", _("已导入过")


class ImportRow(models.Model):
    """A staged row: what the import would do. Nothing touches the index until the batch commits."""

    batch = models.ForeignKey(ImportBatch, models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField(_("行号"))
    data = models.JSONField(_("原始数据"))
    problems = models.JSONField(_("问题"), default=list)
    action = models.CharField(_("处理"), max_length=8, choices=RowAction.choices)
    candidate = models.ForeignKey(Resident, models.SET_NULL, null=True, blank=True, related_name="+")
    score = models.FloatField(null=True, blank=True)
    reasons = models.JSONField(default=dict)

    class Meta:
        ordering = ["batch", "row_number"]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row_number}"



class ReviewStatus(models.TextChoices):
    OPEN = "open", _("待审核")
    LINKED = "linked", _("已确认同一人")
    SEPARATED = "separated", _("已确认不同人")


class MatchReview(models.Model):
    """An uncertain pair: the incoming record became a provisional person; is it the candidate?"""

    record = models.ForeignKey(SourceRecord, models.PROTECT, related_name="reviews", verbose_name=_("来源记录"))
    person = models.ForeignKey(Resident, models.PROTECT, related_name="+", verbose_name=_("新建档案"))
    candidate = models.ForeignKey(Resident, models.PROTECT, related_name="+", verbose_name=_("疑似同一人"))
    score = models.FloatField(_("匹配概率"))
    reasons_for = models.JSONField(default=list)
    reasons_against = models.JSONField(default=list)
    status = models.CharField(_("状态"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.OPEN,
                              db_index=True)
    decided_by = models.ForeignKey("orgs.User", models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    area_code = models.CharField(max_length=12, db_index=True)  # the candidate's, for scoping the queue
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("待审核匹配")
        verbose_name_plural = _("待审核匹配")
        ordering = ["-score", "id"]

    def __str__(self) -> str:
        return f"{self.person_id}≟{self.candidate_id}"



class NonMatch(models.Model):
    """A reviewer's word that two persons are different people: matching never joins them again."""

    person_a = models.ForeignKey(Resident, models.CASCADE, related_name="+")
    person_b = models.ForeignKey(Resident, models.CASCADE, related_name="+")
    decided_by = models.ForeignKey("orgs.User", models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person_a", "person_b"], name="nonmatch_unique")]

    def __str__(self) -> str:
        return f"{self.person_a_id}≠{self.person_b_id}"



class MergeEvent(models.Model):
    """A merge and what exactly it moved, so that unmerge restores exactly what was there."""

    survivor = models.ForeignKey(Resident, models.PROTECT, related_name="+", verbose_name=_("保留档案"))
    merged = models.ForeignKey(Resident, models.PROTECT, related_name="+", verbose_name=_("并入档案"))
    merged_by = models.ForeignKey("orgs.User", models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    moved = models.JSONField(default=dict)  # {"app_label.Model.field": [pk, …]}
    dropped_tags = models.JSONField(default=list)  # duplicate tags removed from the merged person
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey("orgs.User", models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("合并记录")
        verbose_name_plural = _("合并记录")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.merged_id}→{self.survivor_id}"

