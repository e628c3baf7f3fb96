from __future__ import annotations

from ninja import Field, Schema

from yigongti.core.personal import mask_id_number, mask_phone


class RegionOut(Schema):
    code: str
    name: str
    level: str


class FacilityOut(Schema):
    id: int
    code: str
    name: str
    type: str
    type_label: str = Field(alias="get_type_display")
    ownership: str  # public | private (民营 is ownership, not a type)
    level: str  # hospital grade (医院等级)
    care_level: str  # county | township | village, from the WS 218 type (core.carelevel)
    region: RegionOut
    community_id: int | None
    parent_id: int | None
    approved_beds: int
    open_beds: int
    is_grassroots: bool


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    beds: int


class FacilityDetailOut(FacilityOut):
    departments: list[DepartmentOut]

    @staticmethod
    def resolve_departments(obj) -> list:
        return list(obj.departments.all())


class StaffOut(Schema):
    id: int
    name: str
    sex: str
    profession: str
    title: str
    work_facility_id: int
    establishment_facility_id: int
    department_id: int | None
    certificate_number: str | None
    phone: str
    is_seconded: bool

    @staticmethod
    def resolve_phone(obj) -> str:
        return mask_phone(obj.phone)


class StaffIn(Schema):
    name: str
    sex: str = Field(pattern="^[MF]$")
    profession: str
    work_facility: str = Field(description="机构代码")
    establishment_facility: str | None = Field(None, description="编制所在机构代码（岗编分离时填写）")
    department: str | None = None
    title: str = "none"
    certificate_number: str | None = None
    id_number: str = ""
    phone: str = ""


class StaffCreated(StaffOut):
    id_number_masked: str

    @staticmethod
    def resolve_id_number_masked(obj) -> str:
        return mask_id_number(obj.id_number)
