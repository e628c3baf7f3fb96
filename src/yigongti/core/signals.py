"""Login events go to the audit trail."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from . import audit


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit.record(request if request is not None else user, "login", "account", user.pk)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    who = audit.Actor.from_request(request) if request is not None else audit.Actor()
    audit.record(who, "login_failed", "account", "", username=str(credentials.get("username", ""))[:150])
