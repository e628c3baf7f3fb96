from __future__ import annotations

import datetime as dt

from ninja import Field, Schema


class ResidentOut(Schema):
    id: int
    name: str
    sex: str
    birth_date: dt.date
    age: int
    id_number: str = Field(alias="masked_id_number", description="脱敏显示")
    phone: str = Field(alias="masked_phone", description="脱敏显示")
    village_code: str = Field(alias="area_code")
    village_name: str = Field("", description="居住村；导入时只写到乡镇或县的居民为空")
    household_id: int | None

    @staticmethod
    def resolve_village_name(obj) -> str:
        return obj.village.name if obj.village_id else ""


class ResidentDetailOut(ResidentOut):
    phone: str = Field(alias="shown_phone", description="脱敏显示；本村乡村医生可见完整号码（记入审计）")
    tags: list[str]

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return [t.tag for t in obj.tags.all()]


class ResidentPage(Schema):
    items: list[ResidentOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None


class ResidentIn(Schema):
    name: str
    id_number: str = ""
    sex: str = Field("", description="M/F；有身份证号时可省略")
    birth_date: dt.date | None = None
    phone: str = ""
    village: str = Field(description="村12位区划代码")
    household: str = ""
    tags: list[str] = []


class ResidentPatch(Schema):
    name: str | None = None
    id_number: str | None = None
    sex: str | None = None
    birth_date: dt.date | None = None
    phone: str | None = None
    village: str | None = None
    tags: list[str] | None = None


class Identifiers(Schema):
    id_number: str
    phone: str
