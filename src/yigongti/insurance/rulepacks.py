"""The registered CHS-DRG rule packs (``RulePack`` rows) and the version the region pays on.

Every shipped version in ``drg.VERSIONS`` is loaded (its row counts verified by the loader) and its row upserted
with the directory, checksum and counts; several versions live side by side, exactly one is the payment version
(a region may pay on 1.1 while planning for 2.0). ``payment_version()`` is the one place readers ask."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.orgs import permissions

from .drg import VERSIONS, RulePackError, pack_dir, pack_for
from .models import RulePack


def payment_version() -> str:
    """The version the region pays on: the registered pack marked for payment, else the first shipped version."""
    marked = RulePack.objects.filter(is_payment=True).values_list("version", flat=True).first()
    return marked if marked in VERSIONS else VERSIONS[0]


def packs() -> list[RulePack]:
    """The registered packs, in the order of ``VERSIONS`` (aggregate reference data, no person-level read)."""
    rows = {p.version: p for p in RulePack.objects.all()}
    return [rows[v] for v in VERSIONS if v in rows] + [p for v, p in rows.items() if v not in VERSIONS]


def register_packs(*, actor: Actor) -> list[RulePack]:
    """Load and verify every shipped version and upsert its row; nothing is saved if one pack is refused."""
    permissions.check(actor, "insurance.load_rules", None)
    loaded = []
    for version in VERSIONS:
        try:
            loaded.append((version, pack_for(version), str(pack_dir(version))))
        except RulePackError as e:
            raise InvalidInput("invalid_rule_pack", _("分组方案 %(v)s 加载失败：%(e)s") % {"v": version, "e": e},
                               field="version") from None
    with transaction.atomic():
        for version, pack, directory in loaded:
            RulePack.objects.update_or_create(version=version, defaults={
                "directory": directory, "checksum": pack.checksum, "counts": dict(pack.counts)})
        if not RulePack.objects.filter(is_payment=True).exists():
            RulePack.objects.filter(version=VERSIONS[0]).update(is_payment=True)
        audit.record(actor, "load_rules", "rule_pack", ",".join(VERSIONS),
                     packs={v: {"checksum": p.checksum[:12], **p.counts} for v, p, _d in loaded},
                     payment=payment_version())
    return packs()


def set_payment_version(version: str, *, actor: Actor) -> RulePack:
    """Mark ``version`` (a registered pack) as the one the region pays on; every other row is unmarked."""
    permissions.check(actor, "insurance.load_rules", None)
    with transaction.atomic():
        rows = list(RulePack.objects.select_for_update().order_by("pk"))
        chosen = next((r for r in rows if r.version == version), None)
        if chosen is None:
            known = "、".join(r.version for r in rows) or _("无（请先加载分组方案）")
            raise InvalidInput("unknown_version", _("未加载的分组版本 %(v)s（已加载：%(k)s）")
                               % {"v": version[:40], "k": known}, field="version")
        previous = next((r.version for r in rows if r.is_payment), "")
        RulePack.objects.exclude(pk=chosen.pk).filter(is_payment=True).update(is_payment=False)
        RulePack.objects.filter(pk=chosen.pk).update(is_payment=True)
        audit.record(actor, "set_payment_version", "rule_pack", chosen.pk, version=version, previous=previous)
    chosen.refresh_from_db()
    return chosen
