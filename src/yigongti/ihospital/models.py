"""The internet hospital (互联网医院): residents' one-time login codes, online follow-up consultations with their
messages and pictures, the delivery of the prescribed medicines, and the payments.

The prescription itself is the prescribing app's (``prescribing.Prescription``, source "ihospital"); a
consultation keeps its id (``prescription_ref``) rather than a foreign key, so that this app's tables do not
depend on that app's migrations."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from yigongti.encounters.models import Encounter
from yigongti.orgs.models import Facility, User
from yigongti.residents.models import Resident

from .workflow import DeliveryMode, DeliveryStatus, PaymentStatus, Status


class LoginCode(models.Model):
    """A one-time code sent to a phone: stored hashed (HMAC under the secret key), valid five minutes, used once,
    at most ``services.MAX_ATTEMPTS`` wrong tries."""

    phone = models.CharField(_("手机号"), max_length=11, db_index=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("发送时间"), db_index=True)
    expires_at = models.DateTimeField(_("过期时间"))
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    ip = models.CharField(_("IP地址"), max_length=45, blank=True, db_index=True)

    class Meta:
        verbose_name = _("登录验证码")
        verbose_name_plural = _("登录验证码")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]} {self.created_at:%Y-%m-%d %H:%M}"


class OnlineConsultation(models.Model):
    """An online follow-up consultation (互联网复诊): asked by a resident about a diagnosis made at an offline visit
    (``encounter``), answered by a doctor of ``facility``."""

    resident = models.ForeignKey(Resident, models.PROTECT, related_name="online_consultations",
                                 verbose_name=_("居民"))
    area_code = models.CharField(_("居住地区划代码"), max_length=12, db_index=True)
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="online_consultations",
                                 verbose_name=_("接诊机构"))
    encounter = models.ForeignKey(Encounter, models.PROTECT, related_name="+", verbose_name=_("首诊就诊记录"))
    icd10 = models.CharField(_("复诊诊断(ICD-10)"), max_length=16)
    diagnosis = models.CharField(_("诊断名称"), max_length=60, blank=True)
    question = models.TextField(_("病情描述"), max_length=2000)
    video_url = models.CharField(_("视频问诊链接"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.REQUESTED,
                              db_index=True)
    doctor = models.ForeignKey(User, models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("接诊医生"))
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    requested_at = models.DateTimeField(_("申请时间"), db_index=True)
    accepted_at = models.DateTimeField(_("接诊时间"), null=True, blank=True)
    first_reply_at = models.DateTimeField(_("首次回复时间"), null=True, blank=True)
    prescribed_at = models.DateTimeField(_("开方时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    prescription_ref = models.PositiveIntegerField(_("处方ID"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("在线复诊")
        verbose_name_plural = _("在线复诊")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.icd10} {self.get_status_display()}"


class Message(models.Model):
    consultation = models.ForeignKey(OnlineConsultation, models.CASCADE, related_name="messages",
                                     verbose_name=_("在线复诊"))
    from_resident = models.BooleanField(_("居民发送"), default=False)
    author = models.ForeignKey(User, models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("医生"))
    text = models.TextField(_("内容"), max_length=2000, blank=True)
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("问诊消息")
        verbose_name_plural = _("问诊消息")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.at:%Y-%m-%d %H:%M}"


class Picture(models.Model):
    """A picture a resident sent (a rash, a blood-pressure log, a box of pills): checked by its first bytes,
    bounded in size, kept in the database and served only through the scoped view."""

    message = models.ForeignKey(Message, models.CASCADE, related_name="pictures", verbose_name=_("消息"))
    content_type = models.CharField(_("类型"), max_length=20)
    size = models.PositiveIntegerField(_("大小"))
    data = models.BinaryField(_("内容"))

    class Meta:
        verbose_name = _("图片")
        verbose_name_plural = _("图片")

    def __str__(self) -> str:
        return f"#{self.pk} {self.content_type}"


class Delivery(models.Model):
    """The way the prescribed medicines reach the resident: to the village clinic (picked up there) or home."""

    consultation = models.OneToOneField(OnlineConsultation, models.CASCADE, related_name="delivery",
                                        verbose_name=_("在线复诊"))
    mode = models.CharField(_("配送方式"), max_length=8, choices=DeliveryMode.choices, default=DeliveryMode.CLINIC)
    clinic = models.ForeignKey(Facility, models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("取药村卫生室"))
    address = models.CharField(_("收货地址"), max_length=200, blank=True)
    from_facility = models.ForeignKey(Facility, models.PROTECT, null=True, blank=True, related_name="+",
                                      verbose_name=_("发药机构"))
    status = models.CharField(_("配送状态"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING, db_index=True)
    created_at = models.DateTimeField(_("创建时间"))
    dispensed_at = models.DateTimeField(_("发药时间"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("发货时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    picked_up_at = models.DateTimeField(_("取药时间"), null=True, blank=True)
    # the distribution app's run that carried it, when it rode on one ("distribution:<pk>")
    run_ref = models.CharField(_("配送批次"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("药品配送")
        verbose_name_plural = _("药品配送")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"


class Payment(models.Model):
    consultation = models.ForeignKey(OnlineConsultation, models.CASCADE, related_name="payments",
                                     verbose_name=_("在线复诊"))
    out_trade_no = models.CharField(_("商户订单号"), max_length=32, unique=True)
    amount = models.DecimalField(_("金额（元）"), max_digits=10, decimal_places=2)
    gateway = models.CharField(_("支付渠道"), max_length=40)
    status = models.CharField(_("支付状态"), max_length=8, choices=PaymentStatus.choices,
                              default=PaymentStatus.UNPAID, db_index=True)
    gateway_txn = models.CharField(_("渠道交易号"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("创建时间"))
    paid_at = models.DateTimeField(_("支付时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("支付")
        verbose_name_plural = _("支付")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.out_trade_no} {self.get_status_display()}"


class PaymentNotice(models.Model):
    """One callback of the gateway, kept once by its notice id: the same notice twice counts once."""

    payment = models.ForeignKey(Payment, models.CASCADE, related_name="notices", verbose_name=_("支付"))
    notice_id = models.CharField(_("通知ID"), max_length=64, unique=True)
    success = models.BooleanField(_("成功"))
    received_at = models.DateTimeField(_("收到时间"))

    class Meta:
        verbose_name = _("支付通知")
        verbose_name_plural = _("支付通知")

    def __str__(self) -> str:
        return self.notice_id
