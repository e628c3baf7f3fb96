from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext

register = template.Library()

STATUS_CLASS = {"green": "success", "amber": "warning", "red": "danger"}
STATUS_LABEL = {"green": "达标", "amber": "接近目标", "red": "未达标"}


@register.filter
def figure(value, places: int = 2) -> str:
    """A figure for display: '—' when there is none (a zero denominator is not a zero)."""
    if value is None or value == "":
        return "—"
    d = Decimal(value)
    exponent = d.as_tuple().exponent
    if not isinstance(exponent, int):  # NaN or infinity ("n", "N", "F"): not a figure to show
        return "—"
    if exponent >= 0 or places == 0:  # counts: no decimals
        return intcomma(int(d))
    return intcomma(f"{d:.{places}f}")


@register.filter
def amount(value) -> str:
    """A numerator or denominator: whole numbers (counts, days) without decimals, money with two."""
    if value is None or value == "":
        return "—"
    d = Decimal(value)
    if d == d.to_integral_value():
        return intcomma(int(d))
    return intcomma(f"{d:.2f}")


@register.filter
def status_class(status: str) -> str:
    return STATUS_CLASS.get(status, "secondary")


@register.filter
def status_label(status: str) -> str:
    label = STATUS_LABEL.get(status, "")
    return gettext(label) if label else ""


# ---- English pages: the definitions carry an English name; notes and units are translated when shown ----


@register.filter
def ind_name(ind) -> str:
    """The indicator's name in the page's language."""
    if ind is None:
        return ""
    english = (get_language() or "").startswith("en")
    return (getattr(ind, "name_en", "") or ind.name) if english else ind.name


@register.filter
def unit_text(unit: str) -> str:
    return gettext(unit) if unit else ""


@register.filter
def ind_unit(ind) -> str:
    """The indicator's unit in the page's language: its own English unit ('discharges', 'referrals')
    where it has one, rather than one translation of 人次 for everything counted."""
    if ind is None or not ind.unit:
        return ""
    if (get_language() or "").startswith("en"):
        return getattr(ind, "unit_en", "") or gettext(ind.unit)
    return ind.unit


@register.filter
def ind_definition(ind) -> str:
    """The indicator's definition in the page's language."""
    if ind is None:
        return ""
    english = (get_language() or "").startswith("en")
    return (getattr(ind, "definition_en", "") or ind.definition) if english else ind.definition


@register.filter
def target_text(ind) -> str:
    """The target as printed on a card ('≥ 65%', '≤ 7.7 days'), its unit in the page's language."""
    label = getattr(ind, "target_label", "") or ""
    if label and ind.unit and (get_language() or "").startswith("en") and ind_unit(ind) != ind.unit:
        return label.replace(ind.unit, " " + ind_unit(ind))
    return label


_MONTHS = r"(\d{1,2})"
_NOTE_PATTERNS = [  # the notes ``queries`` writes, in the order they are tried
    (re.compile(r"^上年同期（(.+)）数据不全，仅(.+)有数据$"), "上年同期（%(a)s）数据不全，仅%(b)s有数据"),
    (re.compile(r"^上年同期（(.+)）数据不全，无数据$"), "上年同期（%(a)s）数据不全，无数据"),
    (re.compile(r"^仅(.+)有数据$"), "仅%(a)s有数据"),
    (re.compile(r"^有数据：(.+)$"), "有数据：%(a)s"),
    (re.compile(r"^待(.+)模块接入$"), "待%(a)s模块接入"),
    (re.compile(r"^按(.+)（(\d+)天）年化$"), "按%(a)s（%(b)s天）年化"),
    # the shared diagnosis centers' notes (telemedicine/indicators.py)
    (re.compile(r"^本期远程心电、影像诊断报告 (\d+) 份$"), "本期远程心电、影像诊断报告 %(a)s 份"),
    (re.compile(r"^升级 (\d+) 例$"), "升级 %(a)s 例"),
    (re.compile(r"^(\d+) 例$"), "%(a)s 例"),
    (re.compile(r"^避免重复检查 (\d+) 次，节省 (.+) 元$"), "避免重复检查 %(a)s 次，节省 %(b)s 元"),
    (re.compile(r"^(\S+) 中位 (\d+) 分钟$"), "%(a)s 中位 %(b)s 分钟"),
    (re.compile(r"^(心电|影像|检验|病理) (\d+)$"), "%(a)s %(b)s"),
    # the 120 and the pathways' notes (emergency/indicators.py, pathways/indicators.py)
    (re.compile(r"^在用救护车 (\d+) 辆，人口 (\d+)$"), "在用救护车 %(a)s 辆，人口 %(b)s"),
    (re.compile(r"^本站点在用救护车 (\d+) 辆（人口按辖区计算）$"), "本站点在用救护车 %(a)s 辆（人口按辖区计算）"),
    (re.compile(r"^(\S+级 \S+) ([\d.]+) 分钟（(\d+) 例）$"), "%(a)s %(b)s 分钟（%(c)s 例）"),
    (re.compile(r"^(\d+) 例，中位 ([\d.]+) 分钟$"), "%(a)s 例，中位 %(b)s 分钟"),
    (re.compile(r"^未填写 (\d+) 个$"), "未填写 %(a)s 个"),
    # the family doctors' 118 sessions (familydoctor/indicators.py)
    (re.compile(r"^登记服务日 (\d+) 次$"), "登记服务日 %(a)s 次"),
    # the experts' postings (workforce/indicators.py, N04)
    (re.compile(r"^下沉 (\d+) 人，岗编分离 (\d+) 人（去重 (\d+) 人）$"),
     "下沉 %(a)s 人，岗编分离 %(b)s 人（去重 %(c)s 人）"),
    (re.compile(r"^(胸痛|卒中|创伤|危重孕产妇|危重新生儿) (\d+)$"), "%(a)s %(b)s"),
    # the 点评 classes (prescribing/indicators.py, RX_IRRATIONAL)
    (re.compile(r"^不规范 (\d+)，用药不适宜 (\d+)，超常 (\d+)$"), "不规范 %(a)s，用药不适宜 %(b)s，超常 %(c)s"),
    # the payroll summary (performance/indicators.py, N06)
    (re.compile(r"^(\d{4}) 年薪酬：基层 (\d+) 人，人均 (\S+) 元$"), "%(a)s 年薪酬：基层 %(b)s 人，人均 %(c)s 元"),
    (re.compile(r"^牵头医院 (\d+) 人，人均 (\S+) 元$"), "牵头医院 %(a)s 人，人均 %(b)s 元"),
]


@register.filter
def months_text(text: str) -> str:
    """A months label of ``queries.months_label`` ('2026年1–10月', '2025年11月–2026年2月', '2026年1–3、5月') in
    the page's language: month names from Django's own translations."""
    if not (get_language() or "").startswith("en"):
        return text
    if text == "无数据":  # no month has data (``queries.period_coverage``)
        return gettext("无数据")

    def mon(m: str) -> str:
        return date_format(dt.date(2000, int(m), 1), "M")

    out = re.sub(r"(\d{1,2}(?:–\d{1,2})?)、", r"\1月、", text)  # '1–3、5月': each run carries its 月
    out = re.sub(r"(\d{4})年" + _MONTHS + "–" + _MONTHS + "月", lambda mo: f"{mon(mo[2])}–{mon(mo[3])} {mo[1]}", out)
    out = re.sub(r"(\d{4})年" + _MONTHS + "月", lambda mo: f"{mon(mo[2])} {mo[1]}", out)
    out = re.sub(_MONTHS + "–" + _MONTHS + "月", lambda mo: f"{mon(mo[1])}–{mon(mo[2])}", out)
    out = re.sub(_MONTHS + "月", lambda mo: mon(mo[1]), out)
    out = re.sub(r"(\d{4})年", r"\1", out)
    return out.replace("、", ", ")


@register.filter
def note_text(note: str) -> str:
    """A figure's note ('本期无数据', '仅2026年1–10月有数据', '上年同期（…）数据不全，无数据') in the page's
    language; a note it does not know is shown as written."""
    if not note or not (get_language() or "").startswith("en"):
        return note or ""
    if "；" in note:  # a list of parts ("心电 12；影像 3")
        return "; ".join(note_text(part) for part in note.split("；"))
    for pattern, msgid in _NOTE_PATTERNS:
        mo = pattern.match(note)
        if mo:
            parts = [gettext(months_text(g)) for g in mo.groups()]  # a module's name is translated too
            return gettext(msgid) % dict(zip("abc", parts, strict=False))
    return gettext(note)
