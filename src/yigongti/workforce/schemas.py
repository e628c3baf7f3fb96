"""The API's typed shapes."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema


class PostingIn(Schema):
    staff: int
    host: int
    kind: str = Field(..., description="clinic 坐诊 / rounds 查房 / teaching 带教 / lecture 讲座 / surgery 手术 / "
                                       "director 挂职院长 / head 科主任")
    start: dt.date
    end: dt.date
    weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], description="0 = Monday")
    note: str = Field("", max_length=200)


class PostingOut(Schema):
    id: int
    staff_id: int
    staff_name: str
    host_id: int
    host_name: str
    kind: str
    start: dt.date
    end: dt.date
    status: str
    days: int
    confirmed: int

    @staticmethod
    def resolve_staff_name(obj) -> str:
        return obj.staff.name

    @staticmethod
    def resolve_host_name(obj) -> str:
        return obj.host.name

    @staticmethod
    def resolve_days(obj) -> int:
        return int(obj.n_days) if hasattr(obj, "n_days") else obj.days.count()

    @staticmethod
    def resolve_confirmed(obj) -> int:
        return int(obj.n_confirmed) if hasattr(obj, "n_confirmed") else \
            obj.days.filter(confirmed_at__isnull=False).count()


class CheckInIn(Schema):
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)


class DayOut(Schema):
    id: int
    posting_id: int
    staff_id: int
    host_id: int
    day: dt.date
    checked_in_at: dt.datetime | None
    distance_m: int | None
    flagged: bool
    confirmed_at: dt.datetime | None


class EntryOut(Schema):
    staff_id: int
    request_id: int
    day: dt.date
    by_hand: bool


class RotaOut(Schema):
    id: int
    month: dt.date
    status: str
    solver: str
    requested_days: int
    seconds: float


class RotaDetailOut(RotaOut):
    met_days: int
    entries: list[EntryOut]


class AttendanceOut(Schema):
    staff_id: int
    name: str
    facility_id: int
    month: dt.date
    working: int
    expected: int
    present: int
    leave: int
    absent: int
    flagged: int
    rate: float | None


class ClinicCheckInOut(Schema):
    id: int
    staff_id: int
    facility_id: int
    day: dt.date
    checked_in_at: dt.datetime
    distance_m: int | None
    flagged: bool


class AssessmentIn(Schema):
    staff: int
    month: str = Field(..., description="2026-11")
    points: dict[str, float] = Field(default_factory=dict, description="the entered items' points by item code")


class AssessmentOut(Schema):
    id: int
    staff_id: int
    name: str
    facility_id: int
    month: dt.date
    total: float
    points: dict
    township_rank: int | None = None
    county_rank: int | None = None


class AssignmentIn(Schema):
    staff: int
    to_facility: int
    start: dt.date
    end: dt.date | None = None
    note: str = Field("", max_length=200)


class AssignmentOut(Schema):
    id: int
    staff_id: int
    kind: str = Field(..., description="county_township 县管乡用 / township_village 乡聘村用 / transfer 调动")
    from_facility_id: int
    to_facility_id: int
    start: dt.date
    end: dt.date | None
    status: str
