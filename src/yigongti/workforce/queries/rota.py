"""A rota's review page: its entries by request, the share of the requested days it meets, each expert's load."""

from __future__ import annotations

from collections import Counter, defaultdict

from ..models import Request, Rota


def rota_detail(rota: Rota) -> dict:
    entries = list(rota.entries.select_related("staff__work_facility", "staff__department", "request__host")
                   .order_by("request__host__code", "request_id", "day"))
    requests = list(Request.objects.filter(month=rota.month, host__community=rota.community_id)
                    .select_related("host").order_by("host__code", "pk"))
    by_req = defaultdict(list)
    for e in entries:
        by_req[e.request_id].append(e)
    loads = Counter(e.staff_id for e in entries)
    names = {e.staff_id: e.staff for e in entries}
    met = sum(min(len(by_req[r.pk]), r.days) for r in requests)
    requested = sum(r.days for r in requests)
    return {"requests": [(r, by_req[r.pk]) for r in requests], "met": met, "requested": requested,
            "share": round(100 * met / requested) if requested else 100,
            "loads": sorted(((names[s], n) for s, n in loads.items()), key=lambda x: (-x[1], x[0].name))}
