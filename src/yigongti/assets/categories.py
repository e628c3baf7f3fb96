"""The classification the register uses: the 22 subject categories of 《医疗器械分类目录》 (2017), shipped as JSON
data in ``data/categories.json`` with its source, and a short list of common devices (the form's suggestions and
the demo's draws), whose useful lives lie in the 应用指南's 5–10 years for 医疗设备."""

from __future__ import annotations

import functools
import json
from pathlib import Path

DATA = Path(__file__).with_name("data") / "categories.json"


@functools.cache
def _data() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def source() -> str:
    return _data()["source"]


def categories() -> list[tuple[str, str]]:
    """(code, name) in code order."""
    return [(c["code"], c["name"]) for c in _data()["categories"]]


@functools.cache
def names() -> dict[str, str]:
    return dict(categories())


def label(code: str) -> str:
    name = names().get(code)
    return f"{code} {name}" if name else code


def devices() -> list[dict]:
    return list(_data()["devices"])


ECG_NAME = next(d["name"] for d in _data()["devices"] if d.get("kind") == "ecg")

ECG_CATEGORY = next(d["category"] for d in _data()["devices"] if d.get("kind") == "ecg")  # 07 医用诊察和监护器械


def ecg_q(prefix: str = ""):
    """The register's ECG machines (心电图机, of 07 医用诊察和监护器械) in use: N05's village coverage reads them
    beside the diagnosis centers' device registry. ``prefix``: a field path to the Asset (``assets__``)."""
    from django.db.models import Q

    return Q(**{f"{prefix}category": ECG_CATEGORY, f"{prefix}name__contains": "心电", f"{prefix}status": "in_use"})
