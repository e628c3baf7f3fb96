"""Use cases of the organisation registry: every write of orgs tables goes through here."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput, collect
from yigongti.core.idcard import IdNumberError, parse_id_number
from yigongti.core.personal import PhoneError, normalise_phone

from . import permissions
from .models import ApiToken, Department, Facility, Profession, Role, Staff, Title, User

TOKEN_PREFIX = "ygt_"


def facility_by_code(code: str, field: str = "facility") -> Facility:
    try:
        return Facility.objects.select_related("region", "community__region").get(code=str(code).strip())
    except Facility.DoesNotExist:
        raise InvalidInput("unknown_facility", _("机构代码 %(code)s 不存在") % {"code": code}, field=field) from None


def create_staff(*, actor: Actor, name: str, sex: str, profession: str, work_facility: str,
                 establishment_facility: str | None = None, department: str | None = None,
                 title: str = Title.NONE, certificate_number: str | None = None,
                 id_number: str = "", phone: str = "") -> Staff:
    """Register a staff member; facilities are given by code, 岗编分离 when the two differ. Only an
    administrator of the work facility (its facility admin, the community's manager, the county bureau) may."""
    permissions.check(actor, "orgs.create_staff")
    work = facility_by_code(work_facility, "work_facility")
    permissions.check(actor, "orgs.create_staff", work)
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("请填写姓名")]
    if profession not in Profession.values:
        errors["profession"] = [_("执业类别无效")]
    if title not in Title.values:
        errors["title"] = [_("职称无效")]
    if sex not in ("M", "F"):
        errors["sex"] = [_("性别应为男或女")]
    if id_number:
        try:
            parsed = parse_id_number(id_number)
            id_number = parsed.number
            if sex in ("M", "F") and parsed.sex != sex:
                errors["sex"] = [_("性别与身份证号不符")]
        except IdNumberError as e:
            errors["id_number"] = [e.message]
    if phone:
        try:
            phone = normalise_phone(phone)
        except PhoneError as e:
            errors["phone"] = [e.message]
    certificate_number = (certificate_number or "").strip() or None
    if certificate_number and Staff.objects.filter(certificate_number=certificate_number).exists():
        errors["certificate_number"] = [_("执业证书编号 %(no)s 已登记") % {"no": certificate_number}]
    est: Facility | None = None
    dept: Department | None = None
    try:
        est = facility_by_code(establishment_facility or work_facility, "establishment_facility")
    except InvalidInput as e:
        errors[e.field or "work_facility"] = [e.message]
    if work and department:
        dept = Department.objects.filter(facility=work, code=department).first()
        if dept is None:
            errors["department"] = [_("%(facility)s 没有科室代码 %(code)s")
                                    % {"facility": work.name, "code": department}]
    collect(errors)
    assert est is not None  # collect() raised when the establishment code was unknown
    try:
        with transaction.atomic():
            staff = Staff.objects.create(
                name=name, sex=sex, profession=profession, title=title, work_facility=work,
                establishment_facility=est, department=dept, certificate_number=certificate_number,
                id_number=id_number, phone=phone,
            )
            audit.record(actor, "create", "staff", staff.pk)
    except IntegrityError:
        raise Conflict("duplicate_certificate", _("执业证书编号 %(no)s 已登记") % {"no": certificate_number},
                       field="certificate_number") from None
    return staff


def create_account(*, actor: Actor, username: str, role: str, password: str | None = None,
                   staff: Staff | None = None, facility: Facility | None = None, region=None,
                   display_name: str = "", can_unmask: bool = False) -> tuple[User, str]:
    """Create an account; without a password one is generated. Returns (user, password)."""
    permissions.check(actor, "orgs.create_account")
    if role not in Role.values:
        raise InvalidInput("invalid_role", _("角色无效"), field="role")
    if User.objects.filter(username=username).exists():
        raise Conflict("duplicate_username", _("账号 %(username)s 已存在") % {"username": username}, field="username")
    password = password or generate_password()
    user = User(username=username, role=role, staff=staff, display_name=display_name or (staff.name if staff else ""),
                facility=facility or (staff.work_facility if staff else None), region=region)
    try:
        validate_password(password, user)
    except ValidationError as e:
        raise InvalidInput("weak_password", "；".join(e.messages), field="password") from None
    user.set_password(password)
    with transaction.atomic():
        user.save()
        if can_unmask:
            from django.contrib.auth.models import Permission

            user.user_permissions.add(Permission.objects.get(codename="unmask_personal_data"))
        audit.record(actor, "create", "account", user.pk, role=role)
    return user, password


def generate_password() -> str:
    """A 14-character password that people can read aloud (no 0/O, 1/l)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(14))
        if any(c.isdigit() for c in pw) and any(c.isupper() for c in pw) and any(c.islower() for c in pw):
            return pw


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, name: str, days: int | None = 365, *, actor: Actor) -> tuple[ApiToken, str]:
    """Issue a personal access token for ``user``; the plain token is returned once and never stored."""
    permissions.check(actor, "orgs.issue_token", user)
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = timezone.now() + dt.timedelta(days=days) if days else None
    tok = ApiToken.objects.create(user=user, name=name or "API", prefix=plain[4:12], digest=_digest(plain),
                                  expires=expires)
    audit.record(actor, "create", "api_token", tok.pk, owner=user.username)
    return tok, plain


def revoke_token(token: ApiToken, *, actor: Actor) -> None:
    permissions.check(actor, "orgs.revoke_token", token)
    ApiToken.objects.filter(pk=token.pk).update(revoked=True)
    audit.record(actor, "update", "api_token", token.pk, revoked=True)


def user_for_token(plain: str) -> User | None:
    if not plain or not plain.startswith(TOKEN_PREFIX):
        return None
    tok = ApiToken.objects.select_related("user").filter(digest=_digest(plain), revoked=False).first()
    if tok is None or (tok.expires and tok.expires < timezone.now()) or not tok.user.is_active:
        return None
    now = timezone.now()
    if tok.last_used is None or now - tok.last_used > dt.timedelta(minutes=5):
        ApiToken.objects.filter(pk=tok.pk).update(last_used=now)
    return tok.user
