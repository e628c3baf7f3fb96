"""An absolute session limit beside the idle one: however active, a session ends
``YIGONGTI_SESSION_MAX_SECONDS`` (12 hours) after its login, and the account signs in again.

The idle limit (``SESSION_COOKIE_AGE``) alone lets a session that is used every few minutes live for ever; a
stolen session cookie would then never expire."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils.translation import gettext as _

STARTED_KEY = "_ygt_login_at"


@receiver(user_logged_in, dispatch_uid="yigongti.session_limits.started")
def _mark_start(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[STARTED_KEY] = int(time.time())


class AbsoluteSessionLimitMiddleware:
    """Log out a session whose login is older than the absolute limit (after Auth and Message middleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(STARTED_KEY)
            now = int(time.time())
            if started is None:  # a session from before this limit existed: its clock starts now
                request.session[STARTED_KEY] = now
            elif now - int(started) > settings.YIGONGTI_SESSION_MAX_SECONDS:
                from yigongti.core import audit

                audit.record(request, "session_expired", "account", user.pk, reason="absolute_limit")
                logout(request)
                messages.info(request, _("登录已超过最长时限，请重新登录。"))
        return self.get_response(request)
