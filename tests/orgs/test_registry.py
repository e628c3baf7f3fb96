from yigongti.core.models import AuditEvent
from yigongti.orgs.models import Staff


def test_the_facility_tree_nests_county_township_village(cast, client, login):
    login(cast.village_doctor)
    page = client.get("/orgs/facilities/").content.decode()
    page = page[page.index('data-testid="facility-tree"'):]
    hospital, center, clinic = page.index("蓝山县中心医院"), page.index("塔峰镇卫生院"), page.index("大塘村卫生室")
    assert hospital < center < clinic
    assert "郸城县人民医院" not in page  # another county's registry is not ours


def test_facility_detail_lists_departments_beds_and_staff(cast, client, login):
    login(cast.bureau)
    page = client.get(f"/orgs/facilities/{cast.township_center.pk}/").content.decode()
    assert "township_doctor医生" in page and "40" in page
    assert client.get(f"/orgs/facilities/{cast.far_hospital.pk}/").status_code == 404


def test_api_lists_facilities_with_pagination(cast, client, login):
    login(cast.bureau)
    body = client.get("/api/v1/facilities", {"page_size": 2}).json()
    assert body["page_size"] == 2 and body["has_next"] and body["count"] == 5
    assert body["items"][0]["code"] == "431127100201D600"


def test_staff_registration_rejects_unknown_facilities_and_duplicate_certificates(cast, client, login):
    login(cast.manager)
    ok = client.post("/api/v1/staff", {"name": "刘医生", "sex": "F", "profession": "physician",
                                       "work_facility": cast.township_center.code,
                                       "establishment_facility": cast.county_hospital.code,
                                       "certificate_number": "110431127000001", "title": "zhongji"},
                     content_type="application/json")
    assert ok.status_code == 201, ok.content
    assert ok.json()["is_seconded"] is True  # 岗编分离
    dup = client.post("/api/v1/staff", {"name": "刘医生二", "sex": "F", "profession": "physician",
                                        "work_facility": cast.township_center.code,
                                        "certificate_number": "110431127000001"}, content_type="application/json")
    assert dup.status_code == 422 and "certificate_number" in dup.json()["errors"]
    unknown = client.post("/api/v1/staff", {"name": "孙医生", "sex": "M", "profession": "physician",
                                            "work_facility": "NOSUCHCODE"}, content_type="application/json")
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_facility"
    assert Staff.objects.filter(name__startswith="刘医生").count() == 1
    assert AuditEvent.objects.filter(object_type="staff", action="create").count() == 1


def test_a_doctor_cannot_register_staff(cast, client, login):
    login(cast.village_doctor)
    r = client.post("/api/v1/staff", {"name": "x", "sex": "M", "profession": "physician",
                                      "work_facility": cast.village_clinic.code}, content_type="application/json")
    assert r.status_code == 403
    assert r.json()["code"] == "permission_denied"
    assert not Staff.objects.filter(name="x").exists()


def test_home_page_shows_the_community_at_a_glance_for_each_role(cast, client, login):
    login(cast.bureau)
    page = client.get("/").content.decode()
    assert "蓝山县医共体" in page and 'data-testid="resident-total">2<' in page
    client.logout()
    login(cast.village_doctor)
    assert 'data-testid="resident-total">1<' in client.get("/").content.decode()
    client.logout()
    login(cast.auditor)
    assert "resident-total" not in client.get("/").content.decode()
