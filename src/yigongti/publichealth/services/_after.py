"""What every public-health write does once its row is saved: tell the family-doctor app (a delivered package
service, ``familydoctor.services.fulfilment.record_from_source``) and rebuild the resident's due items
(``familydoctor.due.refresh_resident``). Both are other apps' code, imported lazily: a missing or failing one
never loses the record just written (it is logged; the nightly recompute catches up)."""

from __future__ import annotations

import logging

from django.db import transaction

log = logging.getLogger("yigongti.publichealth")


def record_delivery(*, resident, kind: str, on, by, facility, source: str, source_id: str, note: str = ""):
    try:
        from yigongti.familydoctor.services.fulfilment import record_from_source
    except ImportError:
        return None
    try:
        with transaction.atomic():  # a savepoint: a failure here leaves the caller's row in place
            return record_from_source(resident=resident, kind=kind, on=on, by=by, facility=facility, source=source,
                                      source_id=source_id, note=note)
    except Exception:
        log.exception("record_from_source failed for %s %s", source, source_id)
        return None


def refresh_due(resident_id: int) -> None:
    def run() -> None:
        try:
            from yigongti.familydoctor.due import refresh_resident
        except ImportError:
            return
        try:
            refresh_resident(resident_id)
        except Exception:
            log.exception("refresh_resident failed for %s", resident_id)

    transaction.on_commit(run)
