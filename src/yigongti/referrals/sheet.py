"""The printable 转诊单 (双向转诊单): what the print page shows, with the QR code of the referral number rendered
as SVG on the server (segno), so that the receiving desk can scan the paper the patient carries."""

from __future__ import annotations

import datetime as dt
from itertools import groupby

import segno
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from . import workflow
from .models import Direction, Referral

SIZES = ("a4", "80mm")


def qr_svg(text: str, scale: int = 3) -> SafeString:
    """An inline SVG QR code (error correction M) of ``text``."""
    svg = segno.make(text, error="m", micro=False).svg_inline(scale=scale, border=2)
    return mark_safe(svg)  # segno's own markup of our referral number: no user input


def context(r: Referral, size: str) -> dict:
    size = size if size in SIZES else "a4"
    return {"r": r, "size": size, "qr": qr_svg(r.number, scale=2 if size == "80mm" else 3),
            "title": _("双向转诊（上转）单") if r.direction == Direction.UP else _("双向转诊（下转）单"),
            "reimbursement": workflow.reimbursement_basis(bool(r.to_external), r.insurance_filing_no)
            if r.direction == Direction.UP else "",
            "follow_ups": list(r.follow_ups.all()), "printed": timezone.localtime()}


def slots_by_day(slots: list[dt.datetime]) -> list[tuple[dt.date, list[dt.datetime]]]:
    """Free slots grouped by local day (the accept form's <optgroup>s)."""
    local = [timezone.localtime(s) for s in slots]
    return [(day, list(group)) for day, group in groupby(local, key=lambda s: s.date())]
