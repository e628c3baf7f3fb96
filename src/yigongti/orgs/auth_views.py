"""Sign-in pages: password login, the second factor (verify, enrol, recovery codes), changing one's password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from yigongti.core import audit
from yigongti.core.auth_redirects import safe_next

from . import auth_otp
from .auth_throttle import remember_device


class LoginView(auth_views.LoginView):
    """Django's login, which also marks this browser as known for the account (see ``auth_throttle``)."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        remember_device(response, self.request, form.get_user().get_username())
        return response


def _pending_context(request, **ctx):
    # The layout hides the menu and the account name until the second factor is passed.
    return {"two_factor_pending": not auth_otp.is_verified(request.user), "next": safe_next(request), **ctx}


@never_cache
@login_required
def two_factor(request):
    """Second step of login: a code from the authenticator app, or a recovery code."""
    if not auth_otp.needs_two_factor(request.user) and not auth_otp.has_device(request.user):
        return redirect(safe_next(request))
    if not auth_otp.has_device(request.user):
        return redirect("account:two_factor_setup")
    error = ""
    if request.method == "POST":
        device, error = auth_otp.verify_code(request, request.POST.get("otp_token", ""))
        if device is not None:
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(request, _("已使用一个备用验证码，还剩 %(n)d 个。用完前请在“账号安全”页面重新生成。")
                                 % {"n": left})
            return redirect(safe_next(request))
    return render(request, "orgs/account/two_factor.html", _pending_context(request, error=error),
                  status=400 if error else 200)


@never_cache
@sensitive_post_parameters("otp_token")
@login_required
def two_factor_setup(request):
    """Enrol an authenticator app: scan the QR code, type the first code; then the recovery codes are shown once.

    An account that already has a device must pass it first (the middleware sees to that) before it can enrol
    a new one here, which replaces the old."""
    user = request.user
    if auth_otp.has_device(user) and not auth_otp.is_verified(user):
        return redirect("account:two_factor")
    device = auth_otp.pending_totp_device(user)
    error = ""
    if request.method == "POST":
        codes, error = auth_otp.confirm_enrolment(request, device, request.POST.get("otp_token", ""))
        if codes is not None:
            messages.success(request, _("身份验证器已绑定。"))
            return render(request, "orgs/account/recovery_codes.html", {"codes": codes, "next": safe_next(request)})
    current = auth_otp.totp_device(user)
    return render(request, "orgs/account/two_factor_setup.html", _pending_context(
        request, qr=auth_otp.qr_svg(device), secret=auth_otp.secret_base32(device), error=error,
        enrolled=current is not None, required=auth_otp.needs_two_factor(user)), status=400 if error else 200)


@never_cache
@login_required
@require_POST
def recovery_codes(request):
    """Replace the recovery codes (a verified session only) and show the new ones once."""
    if not auth_otp.is_verified(request.user):
        return redirect("account:two_factor")
    codes = auth_otp.new_recovery_codes(request.user)
    audit.record(request, "otp_recovery_codes", "account", request.user.pk)
    return render(request, "orgs/account/recovery_codes.html", {"codes": codes, "next": safe_next(request)})


@never_cache
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@login_required
def password_change(request):
    """Change one's own password (the policy of ``settings.AUTH_PASSWORD_VALIDATORS``); other sessions stay valid
    only until their next request, this one continues."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        audit.record(request, "password_change", "account", user.pk)
        messages.success(request, _("密码已修改。"))
        return redirect("account:password_change")
    return render(request, "orgs/account/password_change.html", {"form": form}, status=400 if form.errors else 200)
