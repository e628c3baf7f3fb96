"""The registered rule packs: both shipped versions loaded with verified counts, one payment version, officer
only; the card on the payment page and the API."""

from __future__ import annotations

import json

import pytest

from tests.cast import as_
from tests.insurance.fixtures_payment import officer
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.insurance import discharges, ledger, rulepacks
from yigongti.insurance.drg import VERSIONS, RulePackError
from yigongti.insurance.models import RulePack
from yigongti.insurance.queries import payment as q

V20, V11 = "CHS-DRG 2.0", "CHS-DRG 1.1"
API = "/api/v1/insurance/payment/rule-packs"


def _paying() -> list[str]:
    return list(RulePack.objects.filter(is_payment=True).values_list("version", flat=True))


@pytest.mark.django_db
def test_register_writes_both_versions_with_verified_counts_and_marks_2_0_for_payment(cast):
    assert VERSIONS[0] == V20
    done = rulepacks.register_packs(actor=as_(officer(cast)))
    assert [p.version for p in done] == [V20, V11]
    p20 = RulePack.objects.get(version=V20)
    assert (p20.counts["mdc"], p20.counts["adrg"], p20.counts["drg"]) == (26, 409, 634)
    assert len(p20.checksum) == 64 and p20.directory.endswith("CHS_DRG_20")
    assert RulePack.objects.get(version=V11).counts["drg"] > 0
    assert _paying() == [V20]
    # the readers agree with the rows
    assert rulepacks.payment_version() == ledger.payment_version() == discharges.payment_version() \
        == q.payment_version() == V20


@pytest.mark.django_db
def test_set_payment_version_switches_exactly_one_and_register_keeps_it(cast):
    from yigongti.core.models import AuditEvent

    o = as_(officer(cast))
    rulepacks.register_packs(actor=o)
    assert rulepacks.set_payment_version(V11, actor=o).is_payment
    assert _paying() == [V11]
    assert ledger.payment_version() == discharges.payment_version() == q.payment_version() == V11
    rulepacks.register_packs(actor=o)  # reloading keeps the choice
    assert _paying() == [V11]
    assert AuditEvent.objects.filter(action="set_payment_version", detail__version=V11).exists()
    assert AuditEvent.objects.filter(action="load_rules").count() == 2


@pytest.mark.django_db
def test_an_unknown_version_is_refused_and_nothing_changes(cast):
    o = as_(officer(cast))
    with pytest.raises(InvalidInput, match="未加载的分组版本"):
        rulepacks.set_payment_version(V11, actor=o)  # nothing registered yet
    rulepacks.register_packs(actor=o)
    with pytest.raises(InvalidInput, match=r"CHS-DRG 3\.0"):
        rulepacks.set_payment_version("CHS-DRG 3.0", actor=o)
    assert _paying() == [V20]


@pytest.mark.django_db
def test_a_pack_refused_by_the_loader_is_a_chinese_error_and_saves_nothing(cast, monkeypatch):
    def broken(version):
        raise RulePackError("drg 应为 634 实为 633")

    monkeypatch.setattr(rulepacks, "pack_for", broken)
    with pytest.raises(InvalidInput, match=r"加载失败.*实为 633"):
        rulepacks.register_packs(actor=as_(officer(cast)))
    assert not RulePack.objects.exists()


@pytest.mark.django_db
def test_a_doctor_is_refused_and_the_refusal_is_audited(cast):
    from yigongti.core.models import AuditEvent

    doctor = cast.county_doctor
    with pytest.raises(Forbidden):
        rulepacks.register_packs(actor=as_(doctor))
    rulepacks.register_packs(actor=as_(officer(cast)))
    with pytest.raises(Forbidden):
        rulepacks.set_payment_version(V11, actor=as_(doctor))
    assert AuditEvent.objects.filter(action="denied", actor_id=doctor.pk,
                                     detail__attempted="insurance.load_rules").count() == 2
    assert _paying() == [V20]


@pytest.mark.django_db
def test_the_card_lists_the_packs_and_only_the_officer_gets_the_buttons(cast, login, client):
    o = officer(cast)
    login(o)
    page = client.get("/insurance/payment/").content.decode()
    assert 'data-testid="rule-packs"' in page and 'data-testid="register-packs"' in page
    resp = client.post("/insurance/payment/", {"action": "register_packs"}, follow=True)
    page = resp.content.decode()
    assert resp.status_code == 200 and "已校验并加载 2 个分组方案" in page
    assert page.count('data-testid="rule-pack"') == 2 and "26 / 409 / 634" in page
    assert RulePack.objects.get(version=V20).checksum[:12] in page
    assert page.count('data-testid="set-payment-version"') == 1  # 1.1 only; 2.0 is the payment version
    resp = client.post("/insurance/payment/", {"action": "set_payment_version", "pack": V11}, follow=True)
    assert "付费版本已设为 CHS-DRG 1.1" in resp.content.decode() and _paying() == [V11]
    resp = client.post("/insurance/payment/", {"action": "set_payment_version", "pack": "x"}, follow=True)
    assert resp.status_code == 200 and "未加载的分组版本" in resp.content.decode() and _paying() == [V11]
    login(cast.manager)
    page = client.get("/insurance/payment/").content.decode()
    assert 'data-testid="rule-packs"' in page and page.count('data-testid="rule-pack"') == 2
    assert 'data-testid="register-packs"' not in page and 'data-testid="set-payment-version"' not in page
    assert client.post("/insurance/payment/", {"action": "register_packs"}).status_code == 403


@pytest.mark.django_db
def test_the_api_lists_registers_and_switches_with_problem_json_on_bad_input(cast, login, client):
    login(cast.county_doctor)
    resp = client.post(f"{API}/register")
    assert resp.status_code == 403 and resp["Content-Type"] == "application/problem+json"
    login(officer(cast))
    assert client.get(API).json() == []
    resp = client.post(f"{API}/register")
    assert resp.status_code == 200
    rows = {r["version"]: r for r in resp.json()}
    assert rows[V20]["counts"]["adrg"] == 409 and rows[V20]["is_payment"] and not rows[V11]["is_payment"]
    resp = client.put(f"{API}/payment-version", json.dumps({"version": V11}), content_type="application/json")
    assert resp.status_code == 200 and resp.json()["version"] == V11 and resp.json()["is_payment"]
    assert [r["version"] for r in client.get(API).json() if r["is_payment"]] == [V11]
    for body in ({"version": "CHS-DRG 9"}, {}, {"version": "x" * 50}):
        resp = client.put(f"{API}/payment-version", json.dumps(body), content_type="application/json")
        assert resp.status_code == 422 and resp["Content-Type"] == "application/problem+json"
    assert _paying() == [V11]
