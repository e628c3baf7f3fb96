"""Reporting periods: month ``2026-10``, quarter ``2026-Q3``, year ``2026``, year-to-date ``2026-10-ytd``."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _

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
        """'2026年3月', '2026年第1季度', '2026年', '2026年1–10月累计' — in the page's language (computed when shown)."""
        y = self.first[:4]
        if self.kind == "month":
            return date_format(_d(self.first), "YEAR_MONTH_FORMAT")
        if self.kind == "quarter":
            return _("%(y)s年第%(q)s季度") % {"y": y, "q": self.key[-1]}
        if self.kind == "year":
            return _("%(y)s年") % {"y": y}
        return _("%(y)s年1–%(m)s月累计") % {"y": y, "m": int(self.last[5:]), "month": date_format(_d(self.last), "F")}

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


FIRST_YEAR, LAST_YEAR = 1900, 2100  # beyond these no data can exist (dates are bounded on the way in)


def parse_period(text: str) -> Period:
    text = (text or "").strip()[:20]
    if (mo := re.match(r"^(\d{4})", text)) and not FIRST_YEAR <= int(mo.group(1)) <= LAST_YEAR:
        raise InvalidInput("bad_period", _("统计期的年份应在 %(first)s–%(last)s 之间")
                           % {"first": FIRST_YEAR, "last": LAST_YEAR},
                           field="period")
    if (mo := _MONTH.match(text)) and 1 <= int(mo.group(2)) <= 12:
        return Period("month", text, text, text)
    if mo := _QUARTER.match(text):
        y, q = mo.group(1), int(mo.group(2))
        return Period("quarter", f"{y}-{3 * q - 2:02d}", f"{y}-{3 * q:02d}", text)
    if _YEAR.match(text):
        return Period("year", f"{text}-01", f"{text}-12", text)
    if (mo := _YTD.match(text)) and 1 <= int(mo.group(2)) <= 12:
        return Period("ytd", f"{mo.group(1)}-01", f"{mo.group(1)}-{mo.group(2)}", text)
    raise InvalidInput("bad_period", _("统计期“%(text)s”无法识别（示例：2026-10、2026-Q3、2026、2026-10-ytd）")
                       % {"text": text},
                       field="period")
