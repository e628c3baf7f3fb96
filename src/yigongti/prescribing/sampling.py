"""The monthly 处方点评 sample, as pure functions: per 《医院处方点评管理规范（试行）》 第十二条 a facility's
outpatient sample is at least 1‰ of its prescriptions and at least 100 a month (all of them when there are
fewer); drawn by a seeded generator so that the same month gives the same sample."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping, Sequence

from django.utils import timezone

MIN_PER_MONTH = 100
MIN_RATE = 0.001


def sample_size(n: int, *, minimum: int = MIN_PER_MONTH, rate: float = MIN_RATE) -> int:
    return min(n, max(minimum, math.ceil(n * rate)))


def draw(by_facility: Mapping[int, Sequence[int]], *, seed: int) -> dict[int, list[int]]:
    out = {}
    for fid in sorted(by_facility):
        pks = sorted(by_facility[fid])
        r = random.Random(seed * 100003 + fid)
        out[fid] = sorted(r.sample(pks, sample_size(len(pks))))
    return out


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_default_timezone()
    start = dt.datetime(month.year, month.month, 1, tzinfo=tz)
    nxt = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return start, dt.datetime(nxt.year, nxt.month, 1, tzinfo=tz)
