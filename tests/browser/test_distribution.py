"""Issue 13's 线上下单、线下配送, in the browser on a small demo county: the demo's village doctor orders from a phone
(the suggested quantities cleared, two items asked), the distribution center's pharmacist finds the order among
the demo's, approves it (cutting a line), picks by lot (first expiry first, with the boxes' 追溯码), dispatches,
and the clinic receives item by item on the phone; the stock and the codes move from the center to the village."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _password(logins, username: str) -> str:
    return next(row["password"] for row in logins if row["username"] == username)


def _open(browser, live_server, username, password, viewport=None):
    from tests.browser.conftest import login_through_form

    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    login_through_form(pg, username, password)  # (the navbar folds away at 390 px; sign in wide, then work)
    if viewport:
        pg.wait_for_load_state("load")
        pg.set_viewport_size(viewport)
    return ctx, pg


def _lots_at(center, item, held):
    """The center's free unexpired lots of ``item``, first expiry first (as the pick orders them)."""
    from django.utils import timezone

    from yigongti.pharmacy.models import StockBalance

    rows = StockBalance.objects.filter(facility=center, item=item, quantity__gt=0,
                                       expires_on__gte=timezone.localdate()).select_related("lot")
    rows = sorted(rows, key=lambda b: (b.expires_on, b.lot.number, b.pk))
    return [(b.lot.number, b.quantity - held.get(b.lot_id, 0)) for b in rows if b.quantity > held.get(b.lot_id, 0)]


def _choose_items(clinic, center):
    """Two traced items of the clinic's catalogue that no open order holds at the center: the first with two free
    lots of different expiry (its order spans them), the second with at least four boxes."""
    from yigongti.distribution.models import OrderStatus, Pick
    from yigongti.distribution.queries import catalogue_for

    held: dict[int, int] = {}
    busy = set()
    for lot_id, item_id, n in Pick.objects.filter(line__order__status=OrderStatus.PICKED) \
            .values_list("lot_id", "line__item_id", "quantity"):
        held[lot_id] = held.get(lot_id, 0) + n
        busy.add(item_id)
    spanning = plenty = None
    for item in catalogue_for(clinic).filter(kind__in=["western", "patent"]).order_by("pk"):
        if item.pk in busy:
            continue
        lots = _lots_at(center, item, held)
        if spanning is None and len(lots) >= 2 and sum(n for _l, n in lots[:2]) >= 3:
            spanning = (item, lots)
        elif plenty is None and sum(n for _l, n in lots) >= 4:
            plenty = item
        if spanning and plenty:
            return spanning, plenty
    raise AssertionError("the demo center holds no two free lots of a village item")


def test_a_village_order_travels_from_the_phone_to_the_shelf_on_the_demo_county(browser, live_server, screenshot):
    from yigongti.demo.build import build_demo
    from yigongti.distribution.models import OrderStatus, Pick, VillageOrder
    from yigongti.orgs.models import User
    from yigongti.pharmacy import ledger
    from yigongti.pharmacy.models import DistributionCenter, TraceCode

    logins = build_demo(population=3000, seed=7)
    clinic = User.objects.get(username="village_doctor").facility
    center = DistributionCenter.objects.get().facility
    (first, lots), second = _choose_items(clinic, center)
    ask = lots[0][1] + 1  # one box more than the first-expiring lot holds: the pick takes the next lot too
    center_before = ledger.on_hand(center, first)
    village_before = {first.pk: ledger.on_hand(clinic, first), second.pk: ledger.on_hand(clinic, second)}
    known = set(VillageOrder.objects.values_list("pk", flat=True))

    ctx, phone = _open(browser, live_server, "village_doctor", _password(logins, "village_doctor"), PHONE)
    phone.goto("/distribution/orders/new/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    form = phone.locator("[data-testid=order-form]")
    expect(form).to_contain_text(first.generic_name)
    expect(form).not_to_contain_text("头孢曲松")  # a county-level antibiotic is not on a village shelf
    phone.evaluate("document.querySelectorAll('[data-testid^=qty-]').forEach(function (i) { i.value = '' })")
    phone.fill(f"[data-testid=qty-{first.code}]", str(ask))
    phone.fill(f"[data-testid=qty-{second.code}]", "4")
    phone.click("[data-testid=order-submit]")
    expect(phone.locator("[data-testid=order-status]")).to_have_attribute("data-status", "submitted")
    order = VillageOrder.objects.exclude(pk__in=known).get()
    assert order.facility_id == clinic.pk and order.lines.count() == 2

    # the center's pharmacist: the queue (among the demo's orders) → approve (the second cut to 3) → pick → dispatch
    desk_ctx, page = _open(browser, live_server, "pharmacist", _password(logins, "pharmacist"))
    page.goto("/distribution/")
    page.click(f"a[href='/distribution/orders/{order.pk}/']")
    page.fill(f"input[name=line_{order.lines.get(item=second).pk}]", "3")
    page.click("[data-testid=approve]")
    expect(page.locator("[data-testid=order-status]")).to_have_attribute("data-status", "approved")
    page.click("[data-testid=pick-button]")
    expect(page.locator("[data-testid=order-status]")).to_have_attribute("data-status", "picked")
    picks = page.locator(f"[data-testid=line-{first.code}] [data-testid=pick]").all_inner_texts()
    assert len(picks) == 2 and picks[0].startswith(lots[0][0]) and picks[1].startswith(lots[1][0])  # FEFO
    screenshot("distribution-demo-pick-list")
    page.click("[data-testid=dispatch]")
    expect(page.locator("[data-testid=order-status]")).to_have_attribute("data-status", "dispatched")
    assert ledger.on_hand(center, first) == center_before - ask
    codes = [c for p in Pick.objects.filter(line__order=order, line__item=first) for c in p.trace_codes]
    assert len(codes) == ask

    # the clinic receives item by item on the phone
    phone.goto(f"/distribution/orders/{order.pk}/")
    phone.click("[data-testid=receive-link]")
    phone.locator(f"[data-testid=receive-{first.code}] [data-testid=confirm]").click()
    expect(phone.locator(f"[data-testid=receive-{first.code}] [data-testid=received]")).to_contain_text(str(ask))
    card = phone.locator(f"[data-testid=receive-{second.code}]")
    card.locator("input[name=received]").fill("2")
    card.locator("input[name=damaged]").fill("1")
    card.locator("[data-testid=confirm]").click()
    expect(phone.locator("[data-testid=order-status]")).to_have_attribute("data-status", "partly_received")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot("distribution-demo-received")
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTLY_RECEIVED
    assert ledger.on_hand(clinic, first) == village_before[first.pk] + ask
    assert ledger.on_hand(clinic, second) == village_before[second.pk] + 2
    assert TraceCode.objects.filter(code__in=codes, facility=clinic, status="in_stock").count() == ask

    # the clinic's stock page shows what arrived
    resp = phone.goto(f"/pharmacy/stock/{clinic.pk}/")
    assert resp is not None and resp.status == 200
    expect(phone.locator("body")).to_contain_text(first.generic_name)
    desk_ctx.close()
    ctx.close()
