"""The typed inputs of the referral use cases, shared by the pages, the API and the demo: the API receives
them as its request bodies, the pages build them from the form with ``from_form``. Parsing (types, empty
strings, dates) happens here once; the rules live in ``validation.py`` and the services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

from django.http import QueryDict
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from yigongti.core.errors import InvalidInput
from yigongti.core.icd10 import normalise_icd10

T = TypeVar("T", bound="Input")

# Chinese messages for fields that fail to parse (pydantic's own messages are English and technical).
MESSAGES = {
    "resident": "请选择患者", "to_facility": "接收机构无效", "source_referral": "原转诊单无效",
    "follow_up_dates": "随访日期格式应为 YYYY-MM-DD", "appointment_at": "时间格式应为 YYYY-MM-DDTHH:MM",
    "department": "科室无效", "doctor": "医生无效",
}


def _blank_to_none(v: Any) -> Any:
    return None if isinstance(v, str) and not v.strip() else v


class Input(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    @classmethod
    def parse(cls: type[T], data: Input | Mapping[str, Any]) -> T:
        """The typed input from a mapping (a form, a test's dict), or InvalidInput naming the bad fields."""
        if isinstance(data, cls):
            return data
        if isinstance(data, Input):
            data = data.model_dump()
        try:
            return cls.model_validate(dict(data))
        except ValidationError as e:
            errors: dict[str, list[str]] = {}
            for err in e.errors():
                field = str(err["loc"][0]) if err["loc"] else "__all__"
                errors.setdefault(field, [MESSAGES.get(field, "格式无效")])
            first = next(iter(errors))
            raise InvalidInput("invalid_input", errors[first][0], field=first, errors=errors) from None

    @classmethod
    def from_form(cls: type[T], form: QueryDict, **extra: Any) -> T:
        """Read the form's fields (lists for list fields, checkboxes as booleans)."""
        data: dict[str, Any] = {}
        for name, info in cls.model_fields.items():
            if info.annotation is bool or info.annotation == "bool":
                data[name] = form.get(name, "") not in ("", "0", "false", "off")
            elif str(info.annotation).startswith("list"):
                data[name] = [v for v in form.getlist(name) if v.strip()]
            elif name in form:
                data[name] = form.get(name)
        data.update(extra)
        return cls.parse(data)


class ReferralInput(Input):
    resident: int
    direction: str = Field("up", description="up 上转 / down 下转")
    urgency: str = Field("", description="routine / urgent / green（绿色通道）；"
                                          "缺省时按诊断（I21、I60–I64 等为绿色通道）")
    to_facility: int | None = Field(None, description="本医共体内的接收机构 id")
    to_external: str = Field("", description="县外合作医院名称（上转至市、省级）")
    to_level: str = ""
    icd10: str
    diagnosis: str = ""
    reason: str
    exams: str = ""
    medications: str = ""
    meets_up_criteria: bool = Field(False, description="符合该病种指南的上转指征（无需填写不按指南的理由）")
    override_reason: str = Field("", description="指南建议留在本级时，继续转诊的理由")
    pregnancy_risk: str = Field("", description="妊娠风险分级 green/yellow/orange/red/purple（O00–O99）")
    ecg_changes: bool = Field(False, description="胸痛（R07.4）伴心电图缺血性改变：走绿色通道")
    major_trauma: bool = Field(False, description="严重创伤（ISS≥16）：走绿色通道")
    routine_reason: str = Field("", description="绿色通道病种按普通或紧急转诊的理由")
    insurance_filing_no: str = Field("", description="医保转外就医备案号（县外转诊）")
    insurance_target_code: str = Field("", description="转入医疗机构的医保定点编码（县外转诊）")
    source_referral: int | None = None
    rehab_plan: str = ""
    medication_plan: str = ""
    follow_up_dates: list[dt.date] = []
    draft: bool = False
    idempotency_key: str = Field("", description="客户端生成的唯一键；缺省时使用 Idempotency-Key 请求头")

    _blanks = field_validator("resident", "to_facility", "source_referral", mode="before")(_blank_to_none)

    @field_validator("icd10", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return normalise_icd10(v) if isinstance(v, str) else v

    @field_validator("follow_up_dates", mode="before")
    @classmethod
    def _dates(cls, v: Any) -> Any:
        return [d for d in (v or []) if not (isinstance(d, str) and not d.strip())]


class AcceptInput(Input):
    department: int | None = None
    doctor: int | None = None
    appointment_at: dt.datetime | None = Field(None, description="从科室的可预约号中选择（见 /capacity）")
    bed: str = Field("", description="从科室的空床中选择（见 /capacity）")
    note: str = ""

    _blanks = field_validator("department", "doctor", "appointment_at", mode="before")(_blank_to_none)


class RedirectInput(Input):
    to_facility: int | None = None
    to_external: str = ""
    to_level: str = ""
    department: int | None = None
    appointment_at: dt.datetime | None = None
    insurance_filing_no: str = ""
    insurance_target_code: str = ""
    reason: str = ""

    _blanks = field_validator("to_facility", "department", "appointment_at", mode="before")(_blank_to_none)


class CompleteInput(Input):
    outcome: str = Field("", description="离院方式（病案首页）：1 医嘱离院 / 2 医嘱转院 / 3 医嘱转社区、乡镇卫生院 / "
                                          "4 非医嘱离院 / 5 死亡 / 9 其他")
    treatment_result: str = Field("", description="治疗结果：cured 治愈 / improved 好转 / not_cured 未愈 / "
                                                   "died 死亡 / other 其他")
    note: str = ""
