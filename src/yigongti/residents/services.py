"""Use cases that write residents: the only code that writes these tables (the demo bulk-loads)."""

from __future__ import annotations

import datetime as dt
import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, collect
from yigongti.core.idcard import IdNumberError, parse_id_number
from yigongti.core.personal import PhoneError, normalise_phone
from yigongti.core.scoping import scope_for
from yigongti.core.validation import BIRTH, check_date
from yigongti.orgs.models import Region, RegionLevel
from yigongti.orgs.permissions import check

from . import permissions  # noqa: F401  (declares the residents.* verbs)
from .matching.names import folded_key
from .models import Household, KeyPopulation, LinkHow, Resident, ResidentTag, Sex, SourceRecord

NAME_RE = re.compile(r"^[\u3400-\u9fff\uf900-\ufaffA-Za-z·•．. ]{1,40}$")


def name_problem(name: str) -> str:
    """Why ``name`` cannot be a resident's name ("" when it can): the one rule for the form, the API and
    imports (no markup, formulas or emoji reach the index)."""
    if not name:
        return "请填写姓名"
    if len(name) > 40:
        return "姓名不能超过 40 个字"
    if not NAME_RE.match(name):
        return "姓名只能包含汉字、字母和间隔号"
    return ""


def _clean_fields(data: dict, *, partial: bool = False) -> dict:
    """Validate and normalise resident fields; raises InvalidInput naming every bad field."""
    errors: dict[str, list[str]] = {}
    out: dict = {}
    if "name" in data or not partial:
        name = (data.get("name") or "").strip()
        if problem := name_problem(name):
            errors["name"] = [problem]
        out["name"] = name
    sex = data.get("sex") or ""
    if sex and sex not in Sex.values:
        errors["sex"] = [_("性别无效")]
    birth = data.get("birth_date")
    if isinstance(birth, str) and birth:
        try:
            birth = dt.date.fromisoformat(birth)
        except ValueError:
            errors["birth_date"] = [_("出生日期格式应为 YYYY-MM-DD，且须是存在的日期")]
            birth = None
    if isinstance(birth, dt.date):
        check_date(birth, errors, "birth_date", BIRTH, _("出生日期"))
    raw_id = (data.get("id_number") or "").strip()
    if raw_id:
        try:
            parsed = parse_id_number(raw_id)
        except IdNumberError as e:
            errors["id_number"] = [e.message]
        else:
            out["id_number"] = parsed.number
            if sex and sex != "U" and sex != parsed.sex:
                errors["sex"] = [_("性别与身份证号不符")]
            if isinstance(birth, dt.date) and birth != parsed.birth_date:
                errors["birth_date"] = [_("出生日期与身份证号不符（证件为 %(date)s）")
                                        % {"date": f"{parsed.birth_date:%Y-%m-%d}"}]
            sex = sex or parsed.sex
            birth = birth or parsed.birth_date
    elif "id_number" in data:
        out["id_number"] = None
    if sex or not partial:
        if not sex:
            errors.setdefault("sex", [_("请选择性别")])
        out["sex"] = sex
    if birth or not partial:
        if not birth and "birth_date" not in errors:
            errors["birth_date"] = [_("请填写出生日期")]
        out["birth_date"] = birth
    if "phone" in data:
        phone = (data.get("phone") or "").strip()
        if phone:
            try:
                phone = normalise_phone(phone)
            except PhoneError as e:
                errors["phone"] = [e.message]
        out["phone"] = phone
    if "tags" in data:
        bad = [t for t in data["tags"] or [] if t not in KeyPopulation.values]
        if bad:
            errors["tags"] = [_("未知的重点人群标签：%(tags)s") % {"tags": "、".join(bad)}]
        out["tags"] = list(dict.fromkeys(data["tags"] or []))
    collect(errors)
    return out


def _village_in_scope(user, code: str | None) -> Region:
    village = Region.objects.filter(code=(code or "").strip(), level=RegionLevel.VILLAGE).first()
    if village is None:
        raise InvalidInput("unknown_village", _("村区划代码 %(code)s 不存在") % {"code": code}, field="village")
    if user is not None and not scope_for(user).contains(village.code):  # None: the system (CLI, demo)
        raise Forbidden(_("不能为管辖范围以外的村建档"), code="village_out_of_scope")
    return village


def _set_tags(resident: Resident, tags: list[str]) -> None:
    ResidentTag.objects.filter(resident=resident).exclude(tag__in=tags).delete()
    have = set(ResidentTag.objects.filter(resident=resident).values_list("tag", flat=True))
    ResidentTag.objects.bulk_create([ResidentTag(resident=resident, tag=t) for t in tags if t not in have])


def _desk(actor: Actor) -> str:
    """The registering desk as a source system: the facility code, or the account's region."""
    user = actor.user
    if user is None:
        return f"yigongti:{actor.username}"
    if user.facility_id:
        return f"yigongti:{user.facility.code}"
    return f"yigongti:{user.region.code if user.region_id else user.username}"


def register_resident(data: dict, *, actor: Actor) -> Resident:
    """建档: create a resident in a village the acting user may serve."""
    check(actor, "residents.register")
    user = actor.user
    fields = _clean_fields(data)
    village = _village_in_scope(user, data.get("village"))
    check(actor, "residents.register", village)
    household = None
    if data.get("household"):
        household = Household.objects.filter(number=data["household"], village=village).first()
        if household is None:
            raise InvalidInput("unknown_household", _("该村没有这个户编号"), field="household")
    tags = fields.pop("tags", [])
    try:
        with transaction.atomic():
            resident = Resident.objects.create(
                **fields, village=village, area_code=village.code, household=household,
                pinyin_key=folded_key(fields["name"])[:80],  # the column's length: a 40-character name exceeds it
            )
            _set_tags(resident, tags)
            SourceRecord.objects.create(
                person=resident, source_system=_desk(actor), record_id=f"R{resident.pk}", name=resident.name,
                sex=resident.sex, birth_date=resident.birth_date, id_number=resident.id_number or "",
                id_valid=bool(resident.id_number), phone=resident.phone, how=LinkHow.REGISTERED,
            )
            audit.record(actor, "create", "resident", resident.pk)
    except IntegrityError:
        raise Conflict("duplicate_id_number", _("该身份证号已建档，请检索后使用已有档案"), field="id_number") from None
    return resident


def update_resident(resident: Resident, data: dict, *, actor: Actor) -> Resident:
    """Change a resident's fields; the row is locked so two edits cannot interleave."""
    check(actor, "residents.update", resident)
    user = actor.user
    fields = _clean_fields(data, partial=True)
    tags = fields.pop("tags", None)
    village = _village_in_scope(user, data["village"]) if data.get("village") else None
    try:
        with transaction.atomic():
            locked = Resident.objects.select_for_update().get(pk=resident.pk)
            changed = sorted(k for k, v in fields.items() if getattr(locked, k) != v)
            for key, value in fields.items():
                setattr(locked, key, value)
            if "name" in fields:
                locked.pinyin_key = folded_key(locked.name)[:80]
            if village is not None and village.pk != locked.village_id:
                locked.village, locked.area_code = village, village.code
                changed.append("village")
            locked.save()
            if tags is not None:
                _set_tags(locked, tags)
                changed.append("tags")
            audit.record(actor, "update", "resident", locked.pk, fields=changed)
    except IntegrityError:
        raise Conflict("duplicate_id_number", _("该身份证号已属于另一份档案"), field="id_number") from None
    return locked
