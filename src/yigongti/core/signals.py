"""Login events go to the audit trail."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from . import audit
from .actor import Actor
from .models import AuditEvent


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    actor = Actor.from_request(request) if request is not None else Actor.from_user(user)
    audit.record(actor, "login", "account", user.pk)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    actor = Actor.from_request(request) if request is not None else Actor(username="anonymous")
    audit.record(actor, "login_failed", "account", "", username=str(credentials.get("username", ""))[:150])


@receiver(post_save, sender=AuditEvent, dispatch_uid="yigongti.core.denials")
def _count_denials(sender, instance, created, **kwargs):
    """Every refused access counts towards the auditors' burst alert (core.ratelimit); one cache increment."""
    if created and instance.action == "denied":
        from .ratelimit import note_denial

        note_denial(instance.actor_id, instance.actor, instance.role, instance.ip)
