"""The contract pages (list, one contract, sign a resident or a household with a tablet signature or a paper scan,
renew, end), the resident page's panel, the home panel, and /api/v1/familydoctor/contracts."""

import datetime as dt
import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yigongti.core.models import AuditEvent
from yigongti.familydoctor.models import Contract, ContractStatus
from yigongti.familydoctor.services import contracts as svc

SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><path d="M1 1 L5 5"/></svg>'
TABLET = {"consent_kind": "tablet", "consent_signature": SVG}


def test_sign_household_page_with_tablet_signature(care, client, login):
    login(care.cast.village_doctor)
    url = f"/familydoctor/sign/?household={care.household.pk}"
    r = client.get(url)
    body = r.content.decode()
    assert r.status_code == 200 and "赵桂兰" in body and "李小宝" in body and "signature_pad.umd.min.js" in body
    assert "老年人个性化服务包" in body and "个人 10.00 元" in body  # the paid package's shares are shown
    child_select = body.split(f'name="package_{care.child.pk}"', 1)[1].split("</select>", 1)[0]
    assert "基础服务包" in child_select and "老年人个性化服务包" not in child_select  # only the packages that fit
    form = {"team": care.team.pk, "signed_on": timezone.localdate().isoformat(), "idempotency_key": "hh-1",
            "member": [care.grandfather.pk, care.grandmother.pk], f"package_{care.grandfather.pk}":
            care.elderly_pack.pk, f"package_{care.grandmother.pk}": care.basic.pk, **TABLET}
    r = client.post(url, form)
    assert r.status_code == 302
    got = Contract.objects.filter(household=care.household)
    assert got.count() == 2 and len(set(got.values_list("household_batch", flat=True))) == 1
    r = client.post(url, form)  # the form sent twice (a double tap): the same contracts
    assert r.status_code == 302 and Contract.objects.count() == 2


def test_sign_page_refusal_keeps_the_form_and_names_the_field(care, client, login):
    login(care.cast.village_doctor)
    url = f"/familydoctor/sign/?resident={care.grandfather.pk}"
    r = client.post(url, {"team": care.team.pk, "member": [care.grandfather.pk], "consent_kind": "paper",
                          "idempotency_key": "x", "out_of_area_reason": "保留的文字"})
    assert r.status_code == 422
    body = r.content.decode()
    assert "请上传签字的纸质协议扫描件" in body and "保留的文字" in body
    assert not Contract.objects.exists()


def test_sign_with_paper_scan_and_view_it(care, client, login, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    login(care.cast.village_doctor)
    url = f"/familydoctor/sign/?resident={care.grandfather.pk}"
    scan = SimpleUploadedFile("协议.pdf", b"%PDF-1.4 signed", content_type="application/pdf")
    r = client.post(url, {"team": care.team.pk, "member": [care.grandfather.pk], "consent_kind": "paper",
                          "idempotency_key": "p-1", "consent_upload": scan})
    assert r.status_code == 302, r.content.decode()[:500]
    c = Contract.objects.get()
    assert c.consent_kind == "paper" and c.consent_file.endswith(".pdf")
    r = client.get(f"/familydoctor/contracts/{c.pk}/consent/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"%PDF-1.4 signed"
    fake = SimpleUploadedFile("x.pdf", b"MZ not a pdf")
    r = client.post(url, {"member": [care.grandmother.pk], "consent_kind": "paper", "consent_upload": fake})
    assert r.status_code in (404, 422)


def test_contract_list_detail_masks_and_audits(care, client, login):
    c = svc.sign(care.cast.village_doctor, care.grandfather, TABLET)
    login(care.cast.village_doctor)
    r = client.get("/familydoctor/contracts/", {"status": "active", "tag": "htn"})
    assert r.status_code == 200 and c.number in r.content.decode()
    r = client.get("/familydoctor/contracts/", {"tag": "maternal"})
    assert c.number not in r.content.decode()
    r = client.get(f"/familydoctor/contracts/{c.pk}/")
    body = r.content.decode()
    assert r.status_code == 200 and "李建国" in body and care.grandfather.id_number not in body
    assert "13874601234" not in body and 'data-testid="contract-signature"' in body
    assert 'data-testid="contract-end"' in body
    assert AuditEvent.objects.filter(action="view", object_type="fd_contract", object_id=str(c.pk)).exists()
    login(care.cast.outsider)
    assert client.get(f"/familydoctor/contracts/{c.pk}/").status_code == 404


def test_end_and_renew_pages(care, client, login):
    c = svc.sign(care.cast.village_doctor, care.grandfather, TABLET)
    login(care.cast.village_doctor)
    r = client.post(f"/familydoctor/contracts/{c.pk}/end/", {"reason": ""})
    assert r.status_code == 422 and "请选择解约原因" in r.content.decode()
    r = client.post(f"/familydoctor/contracts/{c.pk}/end/", {"reason": "died"})
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.status == ContractStatus.ENDED and c.end_reason == "died"
    d = svc.sign(care.cast.village_doctor, care.grandmother, TABLET)
    end = timezone.localdate() + dt.timedelta(days=10)
    Contract.objects.filter(pk=d.pk).update(end=end, start=end - dt.timedelta(days=364),
                                            signed_on=end - dt.timedelta(days=364))
    assert client.get(f"/familydoctor/contracts/{d.pk}/renew/").status_code == 200
    r = client.post(f"/familydoctor/contracts/{d.pk}/renew/", {"package": care.basic.pk, **TABLET})
    assert r.status_code == 302
    assert Contract.objects.get(renewed_from=d).start == end + dt.timedelta(days=1)


def test_resident_panel_and_home_panel(care, client, login):
    login(care.cast.village_doctor)
    r = client.get(f"/residents/{care.grandfather.pk}/")
    body = r.content.decode()
    assert r.status_code == 200 and "家庭医生签约" in body
    assert f"/familydoctor/sign/?resident={care.grandfather.pk}" in body
    c = svc.sign(care.cast.village_doctor, care.grandfather, TABLET)
    Contract.objects.filter(pk=c.pk).update(end=timezone.localdate() + dt.timedelta(days=5))
    body = client.get(f"/residents/{care.grandfather.pk}/").content.decode()
    assert "塔峰镇家庭医生团队一" in body and f"/familydoctor/contracts/{c.pk}/renew/" in body
    body = client.get("/").content.decode()
    assert f"home-fd-expiring-{c.pk}" in body
    login(care.cast.manager)
    body = client.get("/").content.decode()
    assert "home-fd-team-count" in body


def test_contracts_api(care, client, login):
    login(care.cast.village_doctor)
    api = "/api/v1/familydoctor/contracts"
    r = client.post(api, {"resident": care.grandfather.pk, **TABLET}, content_type="application/json",
                    HTTP_IDEMPOTENCY_KEY="api-1")
    assert r.status_code == 201, r.content
    one = r.json()
    again = client.post(api, {"resident": care.grandfather.pk, **TABLET}, content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="api-1")
    assert again.status_code == 201 and again.json()["id"] == one["id"]
    dup = client.post(api, {"resident": care.grandfather.pk, **TABLET}, content_type="application/json")
    assert dup.status_code == 409 and dup.json()["code"] == "already_signed"
    bad = client.post(api, {"resident": care.grandmother.pk, "consent_kind": "tablet"},
                      content_type="application/json")
    assert bad.status_code == 422 and "consent_signature" in json.dumps(bad.json())
    r = client.post(f"{api}/household", {"household": care.household.pk, **TABLET,
                                         "members": [{"resident": care.grandmother.pk},
                                                     {"resident": care.child.pk}]}, content_type="application/json")
    assert r.status_code == 201 and len(r.json()) == 2
    rows = client.get(api, {"status": "active"}).json()
    assert len(rows) == 3
    assert client.get(f"{api}/{one['id']}").json()["number"] == one["number"]
    r = client.post(f"{api}/{one['id']}/end", {"reason": "withdrew"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "ended"
    r = client.post(f"{api}/{one['id']}/renew", TABLET, content_type="application/json")
    assert r.status_code == 422
    login(care.cast.outsider)
    assert client.get(f"{api}/{one['id']}").status_code == 404
    assert client.get(api).json() == []


def test_every_page_and_api_answers_every_role_without_a_server_error(care, client, login):
    c = svc.sign(care.cast.village_doctor, care.grandfather, TABLET)
    urls = ["/familydoctor/", "/familydoctor/teams/", f"/familydoctor/teams/{care.team.pk}/",
            "/familydoctor/contracts/",
            f"/familydoctor/contracts/{c.pk}/", f"/familydoctor/contracts/{c.pk}/renew/",
            f"/familydoctor/contracts/{c.pk}/end/", f"/familydoctor/contracts/{c.pk}/consent/", "/familydoctor/sign/",
            f"/familydoctor/sign/?resident={care.grandmother.pk}", f"/familydoctor/sign/?household={care.household.pk}",
            "/familydoctor/sign/?resident=abc", "/familydoctor/contracts/?team=x&village=zz&status=q&tag=y",
            "/api/v1/familydoctor/teams", f"/api/v1/familydoctor/teams/{care.team.pk}",
            "/api/v1/familydoctor/contracts", f"/api/v1/familydoctor/contracts/{c.pk}"]
    cast = care.cast
    seen = {}
    for user in (cast.village_doctor, cast.township_doctor, cast.county_doctor, cast.manager, cast.bureau,
                 cast.outsider, cast.auditor, care.nurse, care.public_health, cast.other_village_doctor):
        login(user)
        for url in urls:
            r = client.get(url)
            assert r.status_code < 500, (user.username, url, r.status_code)
            seen[(user.username, url)] = r.status_code
    assert seen[("village_doctor", f"/familydoctor/contracts/{c.pk}/")] == 200
    assert seen[("outsider", f"/familydoctor/contracts/{c.pk}/")] == 404
