"""Use cases that write residents: the only code that writes these tables (the demo bulk-loads)."""

from __future__ import annotations

import datetime as dt
import re

from django.db import IntegrityError, transaction

from yigongti.core import audit
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, collect
from yigongti.core.idcard import IdNumberError, parse_id_number
from yigongti.core.personal import PhoneError, normalise_phone
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Region, RegionLevel

from .matching.names import folded_key
from .models import Household, KeyPopulation, LinkHow, Resident, ResidentTag, Sex, SourceRecord

NAME_RE = re.compile(r"^[\u3400-\u9fff\uf900-\ufaffA-Za-z·•．. ]{1,40}$")


def _clean_fields(data: dict, *, partial: bool = False) -> dict:
    """Validate and normalise resident fields; raises InvalidInput naming every bad field."""
    errors: dict[str, list[str]] = {}
    out: dict = {}
    if "name" in data or not partial:
        name = (data.get("name") or "").strip()
        if not name:
            errors["name"] = ["请填写姓名"]
        elif not NAME_RE.match(name):
            errors["name"] = ["姓名只能包含汉字、字母和间隔号"]
        out["name"] = name
    sex = data.get("sex") or ""
    if sex and sex not in Sex.values:
        errors["sex"] = ["性别无效"]
    birth = data.get("birth_date")
    if isinstance(birth, str) and birth:
        try:
            birth = dt.date.fromisoformat(birth)
        except ValueError:
            errors["birth_date"] = ["出生日期格式应为 YYYY-MM-DD，且须是存在的日期"]
            birth = None
    if isinstance(birth, dt.date) and birth > dt.date.today():
        errors["birth_date"] = ["出生日期不能晚于今天"]
    raw_id = (data.get("id_number") or "").strip()
    if raw_id:
        try:
            parsed = parse_id_number(raw_id)
        except IdNumberError as e:
            errors["id_number"] = [e.message]
        else:
            out["id_number"] = parsed.number
            if sex and sex != "U" and sex != parsed.sex:
                errors["sex"] = ["性别与身份证号不符"]
            if isinstance(birth, dt.date) and birth != parsed.birth_date:
                errors["birth_date"] = [f"出生日期与身份证号不符（证件为 {parsed.birth_date:%Y-%m-%d}）"]
            sex = sex or parsed.sex
            birth = birth or parsed.birth_date
    elif "id_number" in data:
        out["id_number"] = None
    if sex or not partial:
        if not sex:
            errors.setdefault("sex", ["请选择性别"])
        out["sex"] = sex
    if birth or not partial:
        if not birth and "birth_date" not in errors:
            errors["birth_date"] = ["请填写出生日期"]
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
            errors["tags"] = [f"未知的重点人群标签：{'、'.join(bad)}"]
        out["tags"] = list(dict.fromkeys(data["tags"] or []))
    collect(errors)
    return out


def _village_in_scope(user, code: str | None) -> Region:
    village = Region.objects.filter(code=(code or "").strip(), level=RegionLevel.VILLAGE).first()
    if village is None:
        raise InvalidInput("unknown_village", f"村区划代码 {code} 不存在", field="village")
    if not scope_for(user).contains(village.code):
        raise Forbidden("不能为管辖范围以外的村建档", code="village_out_of_scope")
    return village


def _set_tags(resident: Resident, tags: list[str]) -> None:
    ResidentTag.objects.filter(resident=resident).exclude(tag__in=tags).delete()
    have = set(ResidentTag.objects.filter(resident=resident).values_list("tag", flat=True))
    ResidentTag.objects.bulk_create([ResidentTag(resident=resident, tag=t) for t in tags if t not in have])


def _desk(user) -> str:
    """The registering desk as a source system: the facility code, or the account's region."""
    if user.facility_id:
        return f"yigongti:{user.facility.code}"
    return f"yigongti:{user.region.code if user.region_id else user.username}"


def register_resident(actor, user, data: dict) -> Resident:
    """建档: create a resident in a village the user may serve."""
    fields = _clean_fields(data)
    village = _village_in_scope(user, data.get("village"))
    household = None
    if data.get("household"):
        household = Household.objects.filter(number=data["household"], village=village).first()
        if household is None:
            raise InvalidInput("unknown_household", "该村没有这个户编号", field="household")
    tags = fields.pop("tags", [])
    try:
        with transaction.atomic():
            resident = Resident.objects.create(
                **fields, village=village, area_code=village.code, household=household,
                pinyin_key=folded_key(fields["name"]),
            )
            _set_tags(resident, tags)
            SourceRecord.objects.create(
                person=resident, source_system=_desk(user), record_id=f"R{resident.pk}", name=resident.name,
                sex=resident.sex, birth_date=resident.birth_date, id_number=resident.id_number or "",
                id_valid=bool(resident.id_number), phone=resident.phone, how=LinkHow.REGISTERED,
            )
            audit.record(actor, "create", "resident", resident.pk)
    except IntegrityError:
        raise Conflict("duplicate_id_number", "该身份证号已建档，请检索后使用已有档案", field="id_number") from None
    return resident


def update_resident(actor, user, resident: Resident, data: dict) -> Resident:
    """Change a resident's fields; the row is locked so two edits cannot interleave."""
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
                locked.pinyin_key = folded_key(locked.name)
            if village is not None and village.pk != locked.village_id:
                locked.village, locked.area_code = village, village.code
                changed.append("village")
            locked.save()
            if tags is not None:
                _set_tags(locked, tags)
                changed.append("tags")
            audit.record(actor, "update", "resident", locked.pk, fields=changed)
    except IntegrityError:
        raise Conflict("duplicate_id_number", "该身份证号已属于另一份档案", field="id_number") from None
    return locked
