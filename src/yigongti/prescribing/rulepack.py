"""The rule pack between the database and the engine: the shipped pack (``rules/pack.json``) installed as rows
for a community, and the rows compiled once per pack version (the compiled tables are cached in the process
and rebuilt when a pharmacist's edit bumps ``RulePack.version``), so a review reads no rule from the database."""

from __future__ import annotations

import json
import threading
from functools import cache
from pathlib import Path

from . import engine
from .models import Rule, RulePack

PACK_PATH = Path(__file__).parent / "rules" / "pack.json"
_compiled: dict[int, tuple[int, engine.Tables]] = {}
_lock = threading.Lock()


@cache
def shipped() -> dict:
    with PACK_PATH.open(encoding="utf-8") as f:
        return json.load(f)


def rule_rows(pack: RulePack) -> list[dict]:
    return [{"code": r.code, "kind": r.kind, "params": r.params, "severity": r.severity, "message": r.message,
             "enabled": r.enabled} for r in pack.rules.all()]


def tables_for(pack: RulePack) -> engine.Tables:
    """The compiled rules of this pack version (from the cache when the version has not moved)."""
    hit = _compiled.get(pack.pk)
    if hit is not None and hit[0] == pack.version:
        return hit[1]
    tables = engine.compile_rules(rule_rows(pack))
    with _lock:
        _compiled[pack.pk] = (pack.version, tables)
    return tables


def shipped_rows() -> list[dict]:
    return [{**r, "enabled": True} for r in shipped()["rules"]]


def severity_of(value) -> int:
    return engine.SEVERITY_NAMES.get(value, 0) if isinstance(value, str) else int(value)


def install(community) -> RulePack:
    """Create the community's pack from the shipped one (call inside the service's transaction)."""
    data = shipped()
    pack = RulePack.objects.create(community=community, name=data["name"], review_at=severity_of(data["review_at"]))
    Rule.objects.bulk_create([
        Rule(pack=pack, code=r["code"], kind=r["kind"], params=r["params"], severity=severity_of(r["severity"]),
             message=r["message"], reference=r.get("reference", "")) for r in data["rules"]])
    return pack
