"""The shared diagnosis centers (六大中心): remote ECG, imaging, laboratory, pathology and consultation.

A center (at the lead hospital) keeps a catalogue of what may be ordered; a doctor anywhere in the community
orders an item for a resident (an ``Order`` with an accession number); the device's output arrives (an ECG
recording, a DICOM study in Orthanc, lab results over HL7 v2, a pathology specimen); a reader of the center
reports it (``Report``), a second reader may review it. Critical values (``CriticalValue``) run a timed loop:
detected → notified → acknowledged with read-back → escalated if not → action → closed, every step an event.
Mutual recognition (``Recognition``) records a recent result used instead of a repeat.

Workflow lives in ``workflow.py`` (orders) and ``critical.py`` (the critical-value loop); services are the only
writers."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from yigongti.encounters.models import Encounter
from yigongti.orgs.models import Department, Facility, MedicalCommunity, User
from yigongti.residents.models import Resident


class CenterKind(models.TextChoices):
    ECG = "ecg", _("心电诊断中心")
    IMAGING = "imaging", _("影像诊断中心")
    LAB = "lab", _("临床检验中心")
    PATHOLOGY = "pathology", _("病理诊断中心")
    CONSULTATION = "consultation", _("远程会诊中心")


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("常规")
    URGENT = "urgent", _("加急")
    EMERGENCY = "emergency", _("急诊")


# Sort key of a worklist: 急诊 first, then 加急, then routine (an indexed integer).
PRIORITY: dict[str, int] = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.ROUTINE: 2}


class Center(models.Model):
    """One shared center of a community (at its lead hospital), with its turnaround targets and the limits of
    its critical-value loop (minutes)."""

    community = models.ForeignKey(MedicalCommunity, models.CASCADE, related_name="centers", verbose_name=_("医共体"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("所在医院"))
    kind = models.CharField(_("类别"), max_length=12, choices=CenterKind.choices)
    name = models.CharField(_("名称"), max_length=60)
    phone = models.CharField(_("值班电话"), max_length=20, blank=True)
    tat_routine_minutes = models.PositiveIntegerField(_("常规报告时限（分钟）"), default=24 * 60)
    tat_urgent_minutes = models.PositiveIntegerField(_("加急报告时限（分钟）"), default=120)
    tat_emergency_minutes = models.PositiveIntegerField(_("急诊报告时限（分钟）"), default=30)
    ack_minutes = models.PositiveIntegerField(_("危急值确认时限（分钟）"), default=10)
    ack_emergency_minutes = models.PositiveIntegerField(_("急诊危急值确认时限（分钟）"), default=5)
    escalate_minutes = models.PositiveIntegerField(_("每级升级间隔（分钟）"), default=10)
    duty_doctor = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("县级值班医生"))
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("共享中心")
        verbose_name_plural = _("共享中心")
        constraints = [models.UniqueConstraint(fields=["community", "kind"], name="center_kind_unique")]

    def __str__(self) -> str:
        return self.name

    def tat_minutes(self, urgency: str) -> int:
        by: dict[str, int] = {Urgency.EMERGENCY: self.tat_emergency_minutes, Urgency.URGENT: self.tat_urgent_minutes}
        return by.get(urgency, self.tat_routine_minutes)

    def ack_limit(self, urgency: str) -> int:
        return self.ack_emergency_minutes if urgency == Urgency.EMERGENCY else self.ack_minutes


class CenterMember(models.Model):
    """A reader of a center (报告医生); a reviewer may second-read (审核)."""

    center = models.ForeignKey(Center, models.CASCADE, related_name="members", verbose_name=_("中心"))
    user = models.ForeignKey(User, models.CASCADE, related_name="diagnosis_centers", verbose_name=_("账号"))
    can_review = models.BooleanField(_("可审核"), default=False)
    is_supervisor = models.BooleanField(_("中心主任"), default=False)

    class Meta:
        verbose_name = _("中心成员")
        verbose_name_plural = _("中心成员")
        constraints = [models.UniqueConstraint(fields=["center", "user"], name="tm_center_member_unique")]

    def __str__(self) -> str:
        return f"{self.center_id}:{self.user_id}"


class CatalogItem(models.Model):
    """What may be ordered from a center: an ECG, an imaging examination, a lab panel or test, a pathology
    examination, a consultation by specialty. ``recognised`` and ``validity_days`` are the mutual-recognition
    list (互认项目) and window, as data."""

    center = models.ForeignKey(Center, models.CASCADE, related_name="items", verbose_name=_("中心"))
    code = models.CharField(_("项目编码"), max_length=30)
    name = models.CharField(_("项目名称"), max_length=80)
    modality = models.CharField(_("检查类型"), max_length=8, blank=True,
                                help_text=_("DICOM 模态：ECG、DX、CR、CT、MR、US、SM"))
    body_part = models.CharField(_("部位"), max_length=40, blank=True)
    specimen = models.CharField(_("标本"), max_length=30, blank=True)
    specialty = models.ForeignKey(Department, models.SET_NULL, null=True, blank=True, related_name="+",
                                  verbose_name=_("会诊专科"))
    price = models.DecimalField(_("收费（元）"), max_digits=10, decimal_places=2, default=0)
    recognised = models.BooleanField(_("互认项目"), default=False)
    validity_days = models.PositiveIntegerField(_("互认有效期（天）"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("检查检验项目")
        verbose_name_plural = _("检查检验项目")
        constraints = [models.UniqueConstraint(fields=["center", "code"], name="catalog_item_code_unique")]
        ordering = ["center", "code"]

    def __str__(self) -> str:
        return self.name


class Analyte(models.Model):
    """One result item of the lab catalogue (检验指标): the code analysers and the LIS send (OBX-3), its unit,
    the units it may arrive in with their factors to ours, and the adult reference range."""

    code = models.CharField(_("指标编码"), max_length=30, unique=True)
    loinc = models.CharField(_("LOINC"), max_length=12, blank=True)
    name = models.CharField(_("指标名称"), max_length=60)
    abbreviation = models.CharField(_("缩写"), max_length=20, blank=True)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    unit_factors = models.JSONField(_("可接受单位及换算系数"), default=dict, blank=True,
                                    help_text=_("如 {\"mg/dL\": 0.0555}：收到的值乘以系数换算为本单位"))
    ref_low = models.DecimalField(_("参考下限"), max_digits=12, decimal_places=4, null=True, blank=True)
    ref_high = models.DecimalField(_("参考上限"), max_digits=12, decimal_places=4, null=True, blank=True)
    decimals = models.PositiveSmallIntegerField(_("小数位"), default=2)
    panels = models.ManyToManyField(CatalogItem, related_name="analytes", blank=True, verbose_name=_("所属项目"))

    class Meta:
        verbose_name = _("检验指标")
        verbose_name_plural = _("检验指标")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.unit}）" if self.unit else self.name


class DeviceKind(models.TextChoices):
    ECG = "ecg", _("心电图机")
    MODALITY = "modality", _("影像设备")
    ANALYSER = "analyser", _("检验分析仪")
    SCANNER = "scanner", _("病理切片扫描仪")


class Device(models.Model):
    """A facility's ECG machine, imaging modality or analyser: who sends what (AE title, analyser id)."""

    facility = models.ForeignKey(Facility, models.PROTECT, related_name="diagnostic_devices", verbose_name=_("机构"))
    kind = models.CharField(_("类别"), max_length=10, choices=DeviceKind.choices)
    modality = models.CharField(_("模态"), max_length=8, blank=True)
    manufacturer = models.CharField(_("厂家"), max_length=60, blank=True)
    model = models.CharField(_("型号"), max_length=60, blank=True)
    serial = models.CharField(_("序列号"), max_length=60, blank=True)
    ae_title = models.CharField(_("AE Title"), max_length=16, blank=True)
    analyser_id = models.CharField(_("仪器编号"), max_length=40, blank=True)
    installed_on = models.DateField(_("启用日期"), null=True, blank=True)
    active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("诊断设备")
        verbose_name_plural = _("诊断设备")
        constraints = [
            models.UniqueConstraint(fields=["ae_title"], condition=~models.Q(ae_title=""), name="device_ae_unique"),
            models.UniqueConstraint(fields=["analyser_id"], condition=~models.Q(analyser_id=""),
                                    name="device_analyser_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.model} {self.serial}".strip()


class OrderStatus(models.TextChoices):
    ORDERED = "ordered", _("已申请")
    ACQUIRED = "acquired", _("已采集")  # ECG recorded, study received, specimen collected
    IN_PROGRESS = "in_progress", _("检验/阅片中")  # a lab's first results, a specimen received, a reader opened it
    REPORTED = "reported", _("已报告")
    REVIEWED = "reviewed", _("已审核")
    CANCELLED = "cancelled", _("已取消")


class Order(models.Model):
    """An order (申请单) to a center for a resident, with its accession number (检查号/条码号)."""

    accession_no = models.CharField(_("申请单号"), max_length=20, unique=True)
    center = models.ForeignKey(Center, models.PROTECT, related_name="orders", verbose_name=_("中心"))
    item = models.ForeignKey(CatalogItem, models.PROTECT, related_name="orders", verbose_name=_("项目"))
    kind = models.CharField(_("类别"), max_length=12, choices=CenterKind.choices)
    resident = models.ForeignKey(Resident, models.PROTECT, related_name="diagnostic_orders", verbose_name=_("患者"))
    area_code = models.CharField(_("患者区划代码"), max_length=12, db_index=True)
    encounter = models.ForeignKey(Encounter, models.SET_NULL, null=True, blank=True, related_name="+",
                                  verbose_name=_("就诊"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="diagnostic_orders",
                                 verbose_name=_("申请机构"))
    ordered_by = models.ForeignKey(User, models.PROTECT, related_name="diagnostic_orders", verbose_name=_("申请医生"))
    clinical_question = models.TextField(_("临床问题/申请目的"), blank=True)
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    priority = models.PositiveSmallIntegerField(default=2)
    status = models.CharField(_("状态"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.ORDERED)
    device = models.ForeignKey(Device, models.SET_NULL, null=True, blank=True, related_name="orders",
                               verbose_name=_("设备"))
    ordered_at = models.DateTimeField(_("申请时间"))
    acquired_at = models.DateTimeField(_("采集/到达时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始检验/阅片时间"), null=True, blank=True)
    reported_at = models.DateTimeField(_("报告时间"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("报告时限"), null=True, blank=True)
    cancelled_reason = models.TextField(_("取消理由"), blank=True)
    critical = models.BooleanField(_("危急值"), default=False)
    recognition = models.ForeignKey("Recognition", models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("互认记录"))
    idempotency_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("检查检验申请")
        verbose_name_plural = _("检查检验申请")
        indexes = [
            # the center's worklist: open orders, urgency first, then waiting time
            models.Index(fields=["center", "status", "priority", "ordered_at"], name="order_worklist"),
            models.Index(fields=["resident", "item", "ordered_at"], name="order_resident_item"),
            models.Index(fields=["facility", "ordered_at"], name="order_facility"),
            models.Index(fields=["kind", "ordered_at"], name="order_kind_time"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["ordered_by", "idempotency_key"], condition=~models.Q(idempotency_key=""),
                                    name="order_idempotency_unique"),
        ]

    def __str__(self) -> str:
        return self.accession_no


class OrderEvent(models.Model):
    """Who moved an order when (申请、采集、报告、审核、取消、标本流转 …)."""

    order = models.ForeignKey(Order, models.CASCADE, related_name="events", verbose_name=_("申请单"))
    kind = models.CharField(_("事件"), max_length=20)
    at = models.DateTimeField(_("时间"))
    by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("操作人"))
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("申请单事件")
        verbose_name_plural = _("申请单事件")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}:{self.kind}"


class ReportTemplate(models.Model):
    """A report template of a center (正常心电图、胸部正位片未见异常 …), optionally for one item."""

    center = models.ForeignKey(Center, models.CASCADE, related_name="templates", verbose_name=_("中心"))
    item = models.ForeignKey(CatalogItem, models.CASCADE, null=True, blank=True, related_name="templates",
                             verbose_name=_("项目"))
    name = models.CharField(_("模板名称"), max_length=60)
    findings = models.TextField(_("所见"), blank=True)
    conclusion = models.TextField(_("结论"), blank=True)

    class Meta:
        verbose_name = _("报告模板")
        verbose_name_plural = _("报告模板")
        ordering = ["center", "name"]

    def __str__(self) -> str:
        return self.name


class Report(models.Model):
    """The center's report of an order: structured findings, conclusion, the reader and the reviewer."""

    order = models.OneToOneField(Order, models.CASCADE, related_name="report", verbose_name=_("申请单"))
    findings = models.TextField(_("所见"), blank=True)
    structured = models.JSONField(_("结构化所见"), default=dict, blank=True)
    conclusion = models.TextField(_("结论/诊断"))
    template = models.ForeignKey(ReportTemplate, models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("模板"))
    reader = models.ForeignKey(User, models.PROTECT, related_name="+", verbose_name=_("报告医生"))
    signed_at = models.DateTimeField(_("报告时间"))
    reviewer = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("审核医生"))
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.TextField(_("审核意见"), blank=True)
    critical = models.BooleanField(_("危急值"), default=False)
    version = models.PositiveSmallIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("诊断报告")
        verbose_name_plural = _("诊断报告")

    def __str__(self) -> str:
        return f"{self.order_id}:v{self.version}"


class ResultFlag(models.TextChoices):
    NORMAL = "N", _("正常")
    LOW = "L", _("偏低")
    HIGH = "H", _("偏高")
    CRITICAL_LOW = "LL", _("危急低值")
    CRITICAL_HIGH = "HH", _("危急高值")
    ABNORMAL = "A", _("异常")


class LabResult(models.Model):
    """One analyte's result on an order, in the catalogue's unit (the value as received is kept beside it)."""

    order = models.ForeignKey(Order, models.CASCADE, related_name="results", verbose_name=_("申请单"))
    analyte = models.ForeignKey(Analyte, models.PROTECT, related_name="results", verbose_name=_("指标"))
    value = models.DecimalField(_("结果"), max_digits=14, decimal_places=4, null=True, blank=True)
    value_text = models.CharField(_("结果（文本）"), max_length=60, blank=True)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    received_value = models.CharField(_("原始结果"), max_length=60, blank=True)
    received_unit = models.CharField(_("原始单位"), max_length=20, blank=True)
    ref_low = models.DecimalField(_("参考下限"), max_digits=12, decimal_places=4, null=True, blank=True)
    ref_high = models.DecimalField(_("参考上限"), max_digits=12, decimal_places=4, null=True, blank=True)
    flag = models.CharField(_("标志"), max_length=2, choices=ResultFlag.choices, default=ResultFlag.NORMAL)
    observed_at = models.DateTimeField(_("检测时间"))
    source = models.CharField(_("来源"), max_length=10, choices=[("hl7", "HL7"), ("manual", _("手工录入"))],
                              default="hl7")
    message = models.ForeignKey("Hl7Message", models.SET_NULL, null=True, blank=True, related_name="results",
                                verbose_name=_("HL7 消息"))
    entered_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                   verbose_name=_("录入人"))

    class Meta:
        verbose_name = _("检验结果")
        verbose_name_plural = _("检验结果")
        constraints = [models.UniqueConstraint(fields=["order", "analyte"], name="lab_result_unique")]

    def __str__(self) -> str:
        return f"{self.analyte_id}={self.value_text or self.value}"


class EcgRecording(models.Model):
    """A 12-lead resting ECG of an order: the samples (int16, lead after lead, little-endian) with their gain,
    the original file as received (DICOM 12-lead waveform or HL7 aECG), and the automatic measurements
    (offered to the reader as assistance, never as the diagnosis)."""

    order = models.OneToOneField(Order, models.CASCADE, related_name="ecg", verbose_name=_("申请单"))
    device = models.ForeignKey(Device, models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("设备"))
    source_format = models.CharField(_("格式"), max_length=10, choices=[("dicom", "DICOM"), ("aecg", "HL7 aECG")])
    file = models.CharField(_("原始文件"), max_length=200, blank=True)
    sop_instance_uid = models.CharField(max_length=64, blank=True)
    sample_rate = models.PositiveIntegerField(_("采样率（Hz）"))
    n_samples = models.PositiveIntegerField(_("每导联样本数"))
    leads = models.JSONField(_("导联"), default=list)
    microvolts_per_unit = models.FloatField(_("每单位微伏"), default=1.0)
    samples = models.BinaryField(_("波形"))
    measurements = models.JSONField(_("自动测量"), default=dict, blank=True)
    acquired_at = models.DateTimeField(_("采集时间"))

    class Meta:
        verbose_name = _("心电图")
        verbose_name_plural = _("心电图")

    def __str__(self) -> str:
        return f"ECG {self.order_id}"


class StudyStatus(models.TextChoices):
    MATCHED = "matched", _("已匹配")
    UNMATCHED = "unmatched", _("未匹配")
    IGNORED = "ignored", _("已忽略")


class ImagingStudy(models.Model):
    """A DICOM study that arrived in Orthanc (the PACS keeps the images; this keeps what the platform needs:
    the ids, the order it matched by accession number, the key images a reader chose)."""

    order = models.ForeignKey(Order, models.SET_NULL, null=True, blank=True, related_name="studies",
                              verbose_name=_("申请单"))
    status = models.CharField(_("状态"), max_length=10, choices=StudyStatus.choices, default=StudyStatus.UNMATCHED)
    orthanc_id = models.CharField(_("Orthanc 编号"), max_length=64, unique=True)
    study_instance_uid = models.CharField(_("Study Instance UID"), max_length=64, db_index=True)
    accession_no = models.CharField(_("检查号"), max_length=20, blank=True, db_index=True)
    modality = models.CharField(_("模态"), max_length=16, blank=True)
    description = models.CharField(_("检查描述"), max_length=120, blank=True)
    source_ae = models.CharField(_("来源 AE"), max_length=16, blank=True)
    device = models.ForeignKey(Device, models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("设备"))
    study_date = models.DateField(_("检查日期"), null=True, blank=True)
    series_count = models.PositiveIntegerField(_("序列数"), default=0)
    instance_count = models.PositiveIntegerField(_("图像数"), default=0)
    instances = models.JSONField(_("图像（Orthanc 编号）"), default=list, blank=True)
    key_instances = models.JSONField(_("关键图像"), default=list, blank=True)
    received_at = models.DateTimeField(_("接收时间"))
    matched_at = models.DateTimeField(_("匹配时间"), null=True, blank=True)
    matched_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                   verbose_name=_("人工匹配人"))

    class Meta:
        verbose_name = _("影像检查")
        verbose_name_plural = _("影像检查")

    def __str__(self) -> str:
        return self.study_instance_uid


class SpecimenStatus(models.TextChoices):
    COLLECTED = "collected", _("已采集")
    SENT = "sent", _("已送检")
    RECEIVED = "received", _("已接收")
    SECTIONED = "sectioned", _("已制片")
    REPORTED = "reported", _("已报告")
    REJECTED = "rejected", _("已拒收")


class Specimen(models.Model):
    """A pathology specimen (标本) of an order and where it is."""

    order = models.ForeignKey(Order, models.CASCADE, related_name="specimens", verbose_name=_("申请单"))
    specimen_no = models.CharField(_("标本号"), max_length=24, unique=True)
    specimen_type = models.CharField(_("标本类型"), max_length=40)
    site = models.CharField(_("取材部位"), max_length=60, blank=True)
    container_count = models.PositiveSmallIntegerField(_("容器数"), default=1)
    fixative = models.CharField(_("固定液"), max_length=30, blank=True, default="10%中性福尔马林")
    status = models.CharField(_("状态"), max_length=10, choices=SpecimenStatus.choices,
                              default=SpecimenStatus.COLLECTED)
    collected_at = models.DateTimeField(_("采集时间"))
    sent_at = models.DateTimeField(_("送检时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("接收时间"), null=True, blank=True)
    sectioned_at = models.DateTimeField(_("制片时间"), null=True, blank=True)
    reported_at = models.DateTimeField(_("报告时间"), null=True, blank=True)
    reject_reason = models.TextField(_("拒收理由"), blank=True)
    slide_study = models.ForeignKey(ImagingStudy, models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("切片数字图像"))

    class Meta:
        verbose_name = _("病理标本")
        verbose_name_plural = _("病理标本")

    def __str__(self) -> str:
        return self.specimen_no


class Attachment(models.Model):
    """A file attached to an order's report (pathology photographs) or to a consultation request."""

    order = models.ForeignKey(Order, models.CASCADE, null=True, blank=True, related_name="attachments",
                              verbose_name=_("申请单"))
    consultation = models.ForeignKey("Consultation", models.CASCADE, null=True, blank=True,
                                     related_name="attachments", verbose_name=_("会诊"))
    name = models.CharField(_("文件名"), max_length=120)
    content_type = models.CharField(_("类型"), max_length=60)
    path = models.CharField(_("存储路径"), max_length=200)
    size = models.PositiveIntegerField(_("大小（字节）"), default=0)
    uploaded_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.name


# ---- critical values (危急值) -----------------------------------------------------------------------------


class Population(models.TextChoices):
    ALL = "all", _("全部")
    ADULT = "adult", _("成人")
    CHILD = "child", _("儿童（28天–18岁）")
    NEONATE = "neonate", _("新生儿（≤28天）")


class CriticalRule(models.Model):
    """A lab critical-value rule (危急值项目): the analyte, its unit, the limits, for whom, from when to when.
    The county lab center's rules (``facility`` empty) are the community-wide default; a member facility's
    rule for the same analyte and population overrides it, with a reason."""

    community = models.ForeignKey(MedicalCommunity, models.CASCADE, related_name="critical_rules",
                                  verbose_name=_("医共体"))
    facility = models.ForeignKey(Facility, models.CASCADE, null=True, blank=True, related_name="critical_rules",
                                 verbose_name=_("覆盖机构"))
    analyte = models.ForeignKey(Analyte, models.CASCADE, related_name="critical_rules", verbose_name=_("指标"))
    unit = models.CharField(_("单位"), max_length=20)
    low = models.DecimalField(_("危急低值（<）"), max_digits=12, decimal_places=4, null=True, blank=True)
    high = models.DecimalField(_("危急高值（>）"), max_digits=12, decimal_places=4, null=True, blank=True)
    population = models.CharField(_("适用人群"), max_length=8, choices=Population.choices, default=Population.ALL)
    sex = models.CharField(_("性别"), max_length=1, blank=True, choices=[("M", _("男")), ("F", _("女"))])
    patient_group = models.CharField(_("患者类别"), max_length=30, blank=True,
                                     help_text=_("如 血液科、抗凝治疗；空为所有患者"))
    first_only = models.BooleanField(_("仅首次报告"), default=False)
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(_("失效日期"), null=True, blank=True)
    override_reason = models.TextField(_("覆盖理由"), blank=True)
    source = models.CharField(_("依据"), max_length=120, blank=True)
    created_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                   verbose_name=_("设定人"))
    created_at = models.DateTimeField(_("设定时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("危急值规则")
        verbose_name_plural = _("危急值规则")
        ordering = ["analyte", "population"]

    def __str__(self) -> str:
        return f"{self.analyte_id} <{self.low} >{self.high}"


class CriticalFinding(models.Model):
    """A critical finding an ECG or imaging reader may mark (浙江 ECG list: new AMI pattern, VT ≥150/min, 3° AV
    block …; imaging: intracranial haemorrhage, tension pneumothorax, aortic dissection …)."""

    kind = models.CharField(_("中心"), max_length=12, choices=CenterKind.choices)
    code = models.CharField(_("编码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=80)
    stemi = models.BooleanField(_("提示 STEMI（可一键启动绿色通道）"), default=False)
    source = models.CharField(_("依据"), max_length=120, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("危急征象")
        verbose_name_plural = _("危急征象")
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return self.name


class CriticalStatus(models.TextChoices):
    NOTIFIED = "notified", _("已通知待确认")
    ESCALATED = "escalated", _("已升级")
    ACKNOWLEDGED = "acknowledged", _("已确认待处置")
    ACTIONED = "actioned", _("已处置")
    CLOSED = "closed", _("已闭环")


class ActionKind(models.TextChoices):
    ORDER = "order", _("开具医嘱/检查")
    REFERRAL = "referral", _("转诊")
    NOTE = "note", _("病程记录")
    CALL = "call", _("联系患者复诊")


class CriticalValue(models.Model):
    """One critical value (危急值) and its loop. ``level`` is who was last told: 0 the ordering doctor (or the
    facility's duty doctor), 1 the facility director, 2 the county duty doctor, 3 a 120 alert."""

    order = models.ForeignKey(Order, models.CASCADE, related_name="critical_values", verbose_name=_("申请单"))
    result = models.ForeignKey(LabResult, models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("检验结果"))
    rule = models.ForeignKey(CriticalRule, models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("规则"))
    finding = models.ForeignKey(CriticalFinding, models.SET_NULL, null=True, blank=True, related_name="+",
                                verbose_name=_("危急征象"))
    kind = models.CharField(_("中心"), max_length=12, choices=CenterKind.choices)
    description = models.CharField(_("危急值"), max_length=200)
    resident = models.ForeignKey(Resident, models.PROTECT, related_name="critical_values", verbose_name=_("患者"))
    area_code = models.CharField(_("患者区划代码"), max_length=12, db_index=True)
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="critical_values", verbose_name=_("申请机构"))
    status = models.CharField(_("状态"), max_length=12, choices=CriticalStatus.choices,
                              default=CriticalStatus.NOTIFIED)
    level = models.PositiveSmallIntegerField(_("升级级别"), default=0)
    detected_at = models.DateTimeField(_("发现时间"))
    reported_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("报告人"))
    notified_at = models.DateTimeField(_("通知时间"), null=True, blank=True)
    notified_to = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("被通知人"))
    ack_due_at = models.DateTimeField(_("确认时限"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                        verbose_name=_("确认人"))
    read_back = models.CharField(_("复述的危急值"), max_length=200, blank=True)
    action_kind = models.CharField(_("处置方式"), max_length=10, choices=ActionKind.choices, blank=True)
    action_note = models.TextField(_("处置记录"), blank=True)
    action_ref = models.CharField(_("处置关联单号"), max_length=40, blank=True)
    action_at = models.DateTimeField(_("处置时间"), null=True, blank=True)
    action_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                  verbose_name=_("处置人"))
    closed_at = models.DateTimeField(_("闭环时间"), null=True, blank=True)
    closed_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                  verbose_name=_("闭环人"))

    class Meta:
        verbose_name = _("危急值")
        verbose_name_plural = _("危急值")
        indexes = [
            models.Index(fields=["status", "ack_due_at"], name="critical_open_due"),
            models.Index(fields=["facility", "detected_at"], name="critical_facility"),
            models.Index(fields=["detected_at"], name="critical_detected"),
        ]

    def __str__(self) -> str:
        return self.description


class CriticalEvent(models.Model):
    """Every step of a critical value's loop, timestamped: detected, notified, escalated, acknowledged, action,
    closed (who told whom, who did what)."""

    critical = models.ForeignKey(CriticalValue, models.CASCADE, related_name="events", verbose_name=_("危急值"))
    kind = models.CharField(_("事件"), max_length=20)
    at = models.DateTimeField(_("时间"))
    by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("操作人"))
    to = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("通知对象"))
    level = models.PositiveSmallIntegerField(_("级别"), default=0)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("危急值事件")
        verbose_name_plural = _("危急值事件")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.critical_id}:{self.kind}"


# ---- HL7 v2 ingest -----------------------------------------------------------------------------------------


class MessageStatus(models.TextChoices):
    APPLIED = "applied", _("已处理")
    ERROR = "error", _("待修正")
    REPLAYED = "replayed", _("已重放")
    DISCARDED = "discarded", _("已作废")


class Hl7Message(models.Model):
    """Every HL7 v2 message received (ORU^R01 from analysers and the LIS), applied whole or not at all; one that
    could not be applied waits in the error queue with its reason, to be fixed and replayed."""

    received_at = models.DateTimeField(_("接收时间"), db_index=True)
    sending_application = models.CharField(_("发送应用"), max_length=60, blank=True)
    sending_facility = models.CharField(_("发送机构"), max_length=60, blank=True)
    control_id = models.CharField(_("消息控制号"), max_length=64)
    message_type = models.CharField(_("消息类型"), max_length=20, blank=True)
    raw = models.TextField(_("原文"))
    status = models.CharField(_("状态"), max_length=10, choices=MessageStatus.choices)
    ack_code = models.CharField(_("应答"), max_length=2)
    error = models.TextField(_("错误"), blank=True)
    order = models.ForeignKey(Order, models.SET_NULL, null=True, blank=True, related_name="messages",
                              verbose_name=_("申请单"))
    peer = models.CharField(_("来源地址"), max_length=60, blank=True)
    replayed_at = models.DateTimeField(_("重放时间"), null=True, blank=True)
    replayed_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("重放人"))
    replay_of = models.ForeignKey("self", models.SET_NULL, null=True, blank=True, related_name="replays",
                                  verbose_name=_("原消息"))

    class Meta:
        verbose_name = _("HL7 消息")
        verbose_name_plural = _("HL7 消息")
        indexes = [models.Index(fields=["status", "received_at"], name="hl7_status")]
        constraints = [
            # a duplicated message (the same control id from the same sender) is applied once
            models.UniqueConstraint(fields=["sending_facility", "sending_application", "control_id"],
                                    condition=models.Q(replay_of__isnull=True), name="hl7_control_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.message_type} {self.control_id}"


# ---- mutual recognition (互认) and remote consultation (远程会诊) --------------------------------------------


class RecognitionDecision(models.TextChoices):
    RECOGNISED = "recognised", _("互认，不重复检查")
    REPEATED = "repeated", _("重复检查")


class Recognition(models.Model):
    """A doctor's decision when ordering an item with a recent result from the community within its window."""

    resident = models.ForeignKey(Resident, models.PROTECT, related_name="+", verbose_name=_("患者"))
    area_code = models.CharField(_("患者区划代码"), max_length=12, db_index=True)
    item = models.ForeignKey(CatalogItem, models.PROTECT, related_name="+", verbose_name=_("项目"))
    prior_order = models.ForeignKey(Order, models.PROTECT, related_name="recognitions", verbose_name=_("既往结果"))
    decision = models.CharField(_("决定"), max_length=12, choices=RecognitionDecision.choices)
    reason = models.TextField(_("重复检查理由"), blank=True)
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("机构"))
    decided_by = models.ForeignKey(User, models.PROTECT, related_name="+", verbose_name=_("医生"))
    decided_at = models.DateTimeField(_("时间"))
    saved_amount = models.DecimalField(_("节省费用"), max_digits=10, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("结果互认")
        verbose_name_plural = _("结果互认")
        indexes = [models.Index(fields=["facility", "decided_at"], name="recognition_facility")]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.decision}"


class ConsultationStatus(models.TextChoices):
    REQUESTED = "requested", _("待安排")
    SCHEDULED = "scheduled", _("已安排")
    ANSWERED = "answered", _("已出具意见")
    CANCELLED = "cancelled", _("已取消")
    DECLINED = "declined", _("已退回")


class Consultation(models.Model):
    """A remote consultation (远程会诊): a township doctor asks a county specialist; the consultation grants the
    specialist the patient's shared record (audited) while it is open and for a while after."""

    accession_no = models.CharField(_("会诊单号"), max_length=20, unique=True)
    center = models.ForeignKey(Center, models.PROTECT, related_name="consultations", verbose_name=_("中心"))
    item = models.ForeignKey(CatalogItem, models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("会诊项目"))
    resident = models.ForeignKey(Resident, models.PROTECT, related_name="consultations", verbose_name=_("患者"))
    area_code = models.CharField(_("患者区划代码"), max_length=12, db_index=True)
    encounter = models.ForeignKey(Encounter, models.SET_NULL, null=True, blank=True, related_name="+",
                                  verbose_name=_("就诊"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="consultations_requested",
                                 verbose_name=_("申请机构"))
    requested_by = models.ForeignKey(User, models.PROTECT, related_name="consultations_requested",
                                     verbose_name=_("申请医生"))
    specialty = models.ForeignKey(Department, models.SET_NULL, null=True, blank=True, related_name="+",
                                  verbose_name=_("专科"))
    specialist = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="consultations",
                                   verbose_name=_("会诊专家"))
    question = models.TextField(_("会诊目的/问题"))
    summary = models.TextField(_("病情摘要"), blank=True)
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    status = models.CharField(_("状态"), max_length=10, choices=ConsultationStatus.choices,
                              default=ConsultationStatus.REQUESTED)
    requested_at = models.DateTimeField(_("申请时间"))
    scheduled_at = models.DateTimeField(_("会诊时间"), null=True, blank=True)
    video_url = models.URLField(_("视频会议链接"), blank=True)
    opinion = models.TextField(_("会诊意见"), blank=True)
    answered_at = models.DateTimeField(_("出具意见时间"), null=True, blank=True)
    closed_reason = models.TextField(_("取消/退回理由"), blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("远程会诊")
        verbose_name_plural = _("远程会诊")
        indexes = [models.Index(fields=["center", "status", "requested_at"], name="consultation_queue")]

    def __str__(self) -> str:
        return self.accession_no
