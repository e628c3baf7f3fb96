"""Passing the second factor in tests, the way the verification page does it — no setting that switches it off.

``pass_two_factor(client, user)`` marks a test client's session as verified with a confirmed TOTP device of the
account (created if it has none); the ``login`` fixture calls it for accounts that need two-factor login.
``recovery_code_for(username)`` gives a fresh one-use recovery code, for browser tests that type it into the form.
"""

from __future__ import annotations


def pass_two_factor(client, user):
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from yigongti.orgs.auth_otp import needs_two_factor

    if not needs_two_factor(user) and not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return client
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or \
        TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def recovery_code_for(username: str) -> str | None:
    """A new recovery code for the account if it needs two-factor login, else None."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    from yigongti.orgs.auth_otp import needs_two_factor
    from yigongti.orgs.models import User

    user = User.objects.get(username=username)
    if not needs_two_factor(user):
        return None
    device = StaticDevice.objects.filter(user=user, confirmed=True).first() or \
        StaticDevice.objects.create(user=user, name="test", confirmed=True)
    code = StaticToken.random_token()
    StaticToken.objects.create(device=device, token=code)
    return code
