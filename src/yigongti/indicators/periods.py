"""Reporting periods: month ``2026-10``, quarter ``2026-Q3``, year ``2026``, year-to-date ``2026-10-ytd``."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from yigongti.core.errors import InvalidInput

from .measures import months_between

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_YTD = re.compile(r"^(\d{4})-(\d{2})-ytd$")


@dataclass(frozen=True)
class Period:
    kind: str  # month | quarter | year | ytd
    first: str  # YYYY-MM
    last: str  # YYYY-MM
    key: str

    @property
    def months(self) -> list[str]:
        return months_between(_d(self.first), _d(self.last))

    @property
    def start(self) -> dt.date:
        return _d(self.first)

    @property
    def stop(self) -> dt.date:
        """First day after the period."""
        d = _d(self.last)
        return dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)

    @property
    def days(self) -> int:
        return (self.stop - self.start).days

    @property
    def label(self) -> str:
        y = self.first[:4]
        if self.kind == "month":
            return f"{y}年{int(self.first[5:])}月"
        if self.kind == "quarter":
            return f"{y}年第{self.key[-1]}季度"
        if self.kind == "year":
            return f"{y}年"
        return f"{y}年1–{int(self.last[5:])}月累计"

    def prior_year(self) -> Period:
        def back(m: str) -> str:
            return f"{int(m[:4]) - 1:04d}{m[4:]}"

        key = re.sub(r"^\d{4}", lambda mo: str(int(mo.group()) - 1), self.key)
        return Period(self.kind, back(self.first), back(self.last), key)

    def trend_months(self, n: int = 12) -> list[str]:
        """The n months ending with the period's last month."""
        last = _d(self.last)
        y, m = last.year, last.month - (n - 1)
        while m < 1:
            y, m = y - 1, m + 12
        return months_between(dt.date(y, m, 1), last)


def _d(m: str) -> dt.date:
    return dt.date(int(m[:4]), int(m[5:7]), 1)


def parse_period(text: str) -> Period:
    text = (text or "").strip()
    if (mo := _MONTH.match(text)) and 1 <= int(mo.group(2)) <= 12:
        return Period("month", text, text, text)
    if mo := _QUARTER.match(text):
        y, q = mo.group(1), int(mo.group(2))
        return Period("quarter", f"{y}-{3 * q - 2:02d}", f"{y}-{3 * q:02d}", text)
    if _YEAR.match(text):
        return Period("year", f"{text}-01", f"{text}-12", text)
    if (mo := _YTD.match(text)) and 1 <= int(mo.group(2)) <= 12:
        return Period("ytd", f"{mo.group(1)}-01", f"{mo.group(1)}-{mo.group(2)}", text)
    raise InvalidInput("bad_period", f"统计期“{text}”无法识别（示例：2026-10、2026-Q3、2026、2026-10-ytd）",
                       field="period")
