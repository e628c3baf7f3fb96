"""The service ledger and the monthly assessment at the size of the largest village (1,500 signed residents, 12,000
scheduled services) — timings printed, bounds asserted loosely (the figures go to the report). Opt-in, on
PostgreSQL: ``FD_SCALE=1 DATABASE_URL=postgresql://… pytest -q -s tests/familydoctor/test_fulfilment_scale.py``."""

import datetime as dt
import os
import statistics
import time

import pytest
from django.db import connection

from tests.cast import as_
from yigongti.core.exports import list_xlsx_response
from yigongti.core.idcard import make_id_number
from yigongti.familydoctor.models import Contract, ScheduledService, ServiceDelivery, TeamSession
from yigongti.familydoctor.queries import ledger as q
from yigongti.familydoctor.schedule import plan_services
from yigongti.familydoctor.services.assessment import compute_month
from yigongti.familydoctor.views.fulfilment import ledger_header, ledger_rows
from yigongti.residents.models import Resident, ResidentTag

N = 1500

pytestmark = pytest.mark.skipif(not os.environ.get("FD_SCALE"), reason="opt-in: FD_SCALE=1")


def _fill(care):
    village, start = care.cast.village, dt.date(2026, 1, 1)
    residents = Resident.objects.bulk_create([
        Resident(name=f"居民{i}", sex="M" if i % 2 else "F", birth_date=dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
                 village=village, area_code=village.code,
                 id_number=make_id_number(village.code[:6], dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
                                          100 + i, "M" if i % 2 else "F"))
        for i in range(N)])
    ResidentTag.objects.bulk_create([ResidentTag(resident=r, tag="htn") for r in residents[::2]])
    contracts = Contract.objects.bulk_create([
        Contract(number=f"S{i:06d}", resident=r, team=care.team, package=care.basic, village=village,
                 signed_on=start, start=start, end=dt.date(2026, 12, 31)) for i, r in enumerate(residents)])
    services = list(care.basic.services.all())
    slots = []
    for i, c in enumerate(contracts):
        for p in plan_services(services, {"htn"} if i % 2 == 0 else set(), c.start, c.end):
            slots.append(ScheduledService(contract=c, service=p.service, seq=p.seq, due_from=p.due_from,
                                          due_by=p.due_by))
    ScheduledService.objects.bulk_create(slots, batch_size=5000)
    fu = care.services["FU"]
    ds = ServiceDelivery.objects.bulk_create([ServiceDelivery(contract=c, service=fu, delivered_on=dt.date(2026, 3, 1))
                                              for c in contracts[::2]])
    first = {s.contract_id: s for s in ScheduledService.objects.filter(service=fu, seq=1)}
    for d in ds:
        first[d.contract_id].delivery = d
    ScheduledService.objects.bulk_update(first.values(), ["delivery"], batch_size=5000)
    TeamSession.objects.create(team=care.team, date=dt.date(2026, 5, 6), starts=dt.time(8), ends=dt.time(17))
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    return len(slots)


def _ms(fn, n=20):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), sorted(times)[int(0.95 * (n - 1))]


def test_ledger_and_assessment_at_village_scale(care, client, login):
    slots = _fill(care)
    actor = as_(care.cast.village_doctor)
    data = q.ledger(actor, care.team, village=care.cast.village)
    assert len(data.rows) == N and data.totals["done"] == N // 2
    med, p95 = _ms(lambda: q.ledger(actor, care.team, village=care.cast.village), 10)
    if os.environ.get("FD_PROFILE"):
        import cProfile
        import pstats

        pr = cProfile.Profile()
        pr.enable()
        q.ledger(actor, care.team, village=care.cast.village)
        pr.disable()
        pstats.Stats(pr).sort_stats("cumulative").print_stats(25)
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            q.ledger(actor, care.team, village=care.cast.village)
        for x in ctx.captured_queries:
            print(x["time"], x["sql"][:300])
    t = time.perf_counter()
    resp = list_xlsx_response("x.xlsx", "ledger", ledger_header(data), ledger_rows(data))
    xlsx_s = time.perf_counter() - t
    login(care.cast.village_doctor)
    url = f"/familydoctor/ledger/?team={care.team.pk}&village={care.cast.village.code}"
    assert client.get(url).content.decode().count('data-testid="ledger-row"') == 200  # a page of the 1,500
    assert client.get(url + "&page=8").content.decode().count('data-testid="ledger-row"') == N - 7 * 200
    page_med, page_p95 = _ms(lambda: client.get(url), 10)
    t = time.perf_counter()
    export = client.get(f"/familydoctor/ledger/export/?team={care.team.pk}&village={care.cast.village.code}")
    export_s = time.perf_counter() - t
    assert export.status_code == 200
    t = time.perf_counter()
    rows = compute_month(as_(care.cast.manager), dt.date(2026, 5, 1))
    assess_s = time.perf_counter() - t
    print(f"\n{connection.vendor}: {N} contracts, {slots} scheduled services; ledger() median {med:.0f} ms, "
          f"p95 {p95:.0f} ms; page median {page_med:.0f} ms, p95 {page_p95:.0f} ms; export view {export_s:.2f} s; "
          f"xlsx {xlsx_s:.2f} s ({len(resp.content) // 1024} KB); compute_month {assess_s:.2f} s "
          f"({len(rows)} teams)")
    assert xlsx_s < 5 and assess_s < 10
