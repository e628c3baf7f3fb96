import datetime as dt, random, statistics, time
import pytest
from django.utils import timezone
from tests.cast import SYSTEM
from tests.telemedicine.conftest import build_centers, make_order
from yigongti.telemedicine import rules
from yigongti.telemedicine.models import Order, CriticalValue, CriticalEvent

@pytest.mark.django_db
def test_perf(cast, client, login):
    c = build_centers(cast)
    rules.install_defaults(cast.community, actor=SYSTEM, start=dt.date(2020, 1, 1))
    o = make_order(c, "CHEM", by=cast.village_doctor, resident=cast.resident)
    base = {f.attname: getattr(o, f.attname) for f in Order._meta.concrete_fields if f.attname not in ("id",)}
    rng = random.Random(1)
    now = timezone.now()
    orders = []
    for i in range(60000):
        d = dict(base); d["accession_no"] = f"L{i:09d}"; d["ordered_at"] = now - dt.timedelta(minutes=rng.randint(0, 525600))
        d["status"] = "reported"; d["idempotency_key"] = ""
        orders.append(Order(**d))
    Order.objects.bulk_create(orders, batch_size=5000)
    ids = list(Order.objects.values_list("id", "ordered_at"))
    cvs = []
    for oid, at in ids[:20000]:
        closed = rng.random() < 0.97
        cvs.append(CriticalValue(order_id=oid, kind="lab", description="钾 2.5 mmol/L", resident_id=cast.resident.pk,
            area_code=cast.resident.area_code, facility_id=cast.village_clinic.pk, status="closed" if closed else "notified",
            detected_at=at, notified_at=at, notified_to_id=cast.village_doctor.pk, ack_due_at=at + dt.timedelta(minutes=10),
            acknowledged_at=at + dt.timedelta(minutes=rng.randint(1, 30)) if closed else None,
            action_at=at + dt.timedelta(minutes=40) if closed else None, closed_at=at + dt.timedelta(minutes=50) if closed else None))
    CriticalValue.objects.bulk_create(cvs, batch_size=5000)
    evs = [CriticalEvent(critical_id=pk, kind="notified", at=now, to_id=cast.village_doctor.pk) for pk in CriticalValue.objects.values_list("pk", flat=True)]
    CriticalEvent.objects.bulk_create(evs, batch_size=5000)
    from django.db import connection
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    for who in (c.reader, cast.village_doctor, cast.bureau):
        login(who)
        client.get("/centers/critical/")
        ts = []
        for _ in range(20):
            t = time.perf_counter(); r = client.get("/centers/critical/"); ts.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200
        ts.sort()
        print(who.username, "p50", round(statistics.median(ts), 1), "p95", round(ts[18], 1))
