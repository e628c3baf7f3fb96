"""The audit trail: an append-only, HMAC-chained log of reads and writes of person-level data.

Append-only three times over: the model refuses ``save`` of an existing row and ``delete``; its QuerySet
refuses ``update``/``delete``; and database triggers (migration 0005) refuse UPDATE and DELETE from any
client, the ORM's bulk paths included. On PostgreSQL the application's role also lacks the privilege
(``yigongti audit grant-app-role``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    VIEW = "view", _("查看")
    LIST = "list", _("列表/检索")
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    UNMASK = "unmask", _("查看完整证件号")
    EXPORT = "export", _("导出")
    MERGE = "merge", _("合并")
    UNMERGE = "unmerge", _("拆分")
    LOGIN = "login", _("登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    DENIED = "denied", _("越权访问被拒")
    LOGIN_LOCKED = "login_locked", _("登录被锁定")
    OTP_VERIFIED = "otp_verified", _("两步验证通过")
    OTP_FAILED = "otp_failed", _("两步验证失败")
    OTP_ENROL = "otp_enrol", _("绑定两步验证")
    OTP_ENROL_FAILED = "otp_enrol_failed", _("绑定两步验证失败")
    OTP_RECOVERY_CODES = "otp_recovery_codes", _("生成恢复码")
    PASSWORD_CHANGE = "password_change", _("修改密码")
    SESSION_EXPIRED = "session_expired", _("会话到期")
    PRIVILEGE = "privilege", _("权限变更")
    VERIFY = "verify", _("校验审计链")
    SEAL = "seal", _("封存旧链")
    KEY_ROTATE = "key_rotate", _("更换审计密钥")


class AuditEventQuerySet(models.QuerySet):
    """Bulk changes are refused here too, before the database's triggers would refuse them."""

    def update(self, **kwargs):
        raise PermissionError("audit events are append-only")

    def delete(self):
        raise PermissionError("audit events are append-only")

    def bulk_update(self, objs, fields, batch_size=None):
        raise PermissionError("audit events are append-only")


class AuditEvent(models.Model):
    seq = models.BigIntegerField(_("序号"), unique=True)
    at = models.DateTimeField(_("时间"), db_index=True)
    actor_id = models.BigIntegerField(_("账号ID"), null=True)
    actor = models.CharField(_("账号"), max_length=150, db_index=True)
    role = models.CharField(_("角色"), max_length=30, blank=True)
    facility_id = models.BigIntegerField(_("机构ID"), null=True)
    action = models.CharField(_("操作"), max_length=20, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=40, db_index=True)
    object_id = models.CharField(_("对象ID"), max_length=64, blank=True, db_index=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    ip = models.CharField(_("IP地址"), max_length=45, blank=True)
    user_agent = models.CharField(_("客户端"), max_length=300, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # Which HMAC key signed ``hash`` (an id derived from the key, never the key); "" marks the events
    # written before the chain was keyed, hashed with plain SHA-256 and sealed by a keyed "seal" event.
    key_id = models.CharField(_("密钥"), max_length=16, blank=True, default="")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit events are append-only")


class AuditHead(models.Model):
    """One row holding the chain's tip; locking it orders concurrent appends, and it
    lets verification notice events cut off the end of the chain."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"head #{self.last_seq}"


class IdempotentRequest(models.Model):
    """A write request sent with an ``Idempotency-Key``: a retry gets the first answer again
    instead of doing the work twice (a village clinic's flaky network)."""

    principal = models.CharField(max_length=64)  # the session's user or a digest of the token
    key = models.CharField(max_length=100)
    path = models.CharField(max_length=300)
    # sha256 of method, path, query and body: the same key with another body is refused, not replayed
    request_hash = models.CharField(max_length=64, blank=True)
    status = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(null=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["principal", "key"], name="idempotency_key_unique")]

    def __str__(self) -> str:
        return f"{self.principal} {self.key} → {self.path}"


class Notification(models.Model):
    """An in-app inbox message for one account; external channels (SMS, WeChat Work) are notifiers."""

    recipient = models.ForeignKey("orgs.User", models.CASCADE, related_name="notifications",
                                  verbose_name=_("收件人"))
    kind = models.CharField(_("类型"), max_length=40, db_index=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    urgent = models.BooleanField(_("紧急"), default=False)
    created = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.title

    @property
    def display_title(self) -> str:
        """The headline in the reader's language. ``title`` is written in Chinese when the message is sent
        (names and diagnoses in it are data); in another language the kind's generic line, translated,
        stands in and the inbox shows the stored title under it."""
        from django.utils.translation import get_language, gettext

        from .notify import GENERIC_TITLES

        if (get_language() or "zh").startswith("zh") or self.kind not in GENERIC_TITLES:
            return self.title
        return gettext(GENERIC_TITLES[self.kind])


class JobStatus(models.TextChoices):
    DUE = "due", _("待执行")
    RUNNING = "running", _("执行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class Job(models.Model):
    """A unit of background work, claimed by ``yigongti worker`` with a conditional UPDATE so that
    several workers never run the same job. ``key`` makes scheduling idempotent."""

    kind = models.CharField(_("类型"), max_length=60, db_index=True)
    key = models.CharField(_("去重键"), max_length=120, blank=True)
    args = models.JSONField(_("参数"), default=dict, blank=True)
    due_at = models.DateTimeField(_("计划时间"))
    status = models.CharField(_("状态"), max_length=10, choices=JobStatus.choices, default=JobStatus.DUE)
    claimed_by = models.CharField(max_length=60, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        indexes = [models.Index(fields=["status", "due_at"], name="core_job_status_due")]
        constraints = [models.UniqueConstraint(fields=["kind", "key"], condition=models.Q(key__gt=""),
                                               name="core_job_kind_key_unique")]

    def __str__(self) -> str:
        label = f"{self.kind}:{self.key}" if self.key else self.kind
        return f"{label} ({self.status})"
