"""The resident index in Django: registration search, import with review, merge and unmerge."""

import datetime as dt
import io

from yigongti.core.idcard import make_id_number
from yigongti.core.models import AuditEvent
from yigongti.residents.models import (
    ImportBatch,
    MatchReview,
    MergeEvent,
    NonMatch,
    Resident,
    ResidentTag,
    SourceRecord,
)

HEADER = "record_id,source_system,name,sex,birth_date,id_number,phone,address,household_id\n"


def _upload(client, text, name="his.csv", system="县中心医院HIS"):
    f = io.BytesIO(text.encode("utf-8"))
    f.name = name
    return client.post("/api/v1/residents/imports", {"file": f, "source_system": system})


# --- registration search ------------------------------------------------------------------

def test_registration_search_finds_a_person_by_id_number_with_reasons(cast, client, login):
    login(cast.village_doctor)
    body = client.post("/api/v1/residents/candidates", {"id_number": cast.resident.id_number},
                       content_type="application/json").json()
    top = body["candidates"][0]
    assert top["resident_id"] == cast.resident.pk and top["likely_same_person"]
    assert any("身份证" in r for r in top["reasons_for"])
    assert top["id_number"] == cast.resident.masked_id_number  # masked in results


def test_registration_search_finds_a_homophone_name_with_the_birth_date(cast, client, login):
    login(cast.village_doctor)
    # 李建国 registered; the desk types 李建郭 (国/郭 both guo) and the right birth date, no ID
    body = client.get("/api/v1/residents/candidates", {"name": "李建郭", "birth_date": "1958-03-14",
                                                       "sex": "男"}).json()
    assert [c["resident_id"] for c in body["candidates"]][:1] == [cast.resident.pk]


def test_registration_search_flags_an_invalid_id_but_still_matches(cast, client, login):
    login(cast.village_doctor)
    typo = cast.resident.id_number[:10] + ("1" if cast.resident.id_number[10] != "1" else "2") + \
        cast.resident.id_number[11:]
    body = client.post("/api/v1/residents/candidates", {"id_number": typo, "name": "李建国"},
                       content_type="application/json").json()
    assert body["problems"] and "身份证号无效" in body["problems"][0]
    assert body["candidates"][0]["resident_id"] == cast.resident.pk


def test_registration_search_stays_within_scope(cast, client, login):
    login(cast.village_doctor)
    body = client.post("/api/v1/residents/candidates", {"id_number": cast.neighbour.id_number},
                       content_type="application/json").json()
    assert body["candidates"] == []


def test_the_registration_search_page_offers_the_existing_person(cast, client, login):
    login(cast.village_doctor)
    page = client.post("/residents/find/", {"name": "李建国", "birth_date": "1958-03-14"}).content.decode()
    assert "使用此档案" in page and f"/residents/{cast.resident.pk}/" in page
    assert AuditEvent.objects.filter(detail__query="registration_search").exists()


# --- import ------------------------------------------------------------------------------

def _file(cast):
    rid = cast.resident.id_number
    child_birth = dt.date(2015, 6, 1)
    return HEADER + "\n".join([
        f"H1,,李建国,男,1958-03-14,{rid},13874601234,塔峰镇大塘村,",  # same person → link
        "H2,,陈秋菊,女,19850512,,13900001111,塔峰镇大塘村3组,",  # new person → create
        f"H3,,李小宝,1,{child_birth:%Y%m%d},{rid},,塔峰镇大塘村,",  # child under the father's ID → not him
        "H4,,锟斤拷,9,,,,,",  # garbled, nothing else → cannot import
        "H2,,陈秋菊,女,1985-05-12,,,,",  # duplicate record id → error row
    ]) + "\n"


def test_an_import_previews_without_touching_the_index(cast, client, login):
    login(cast.manager)
    before = (Resident.objects.count(), SourceRecord.objects.count())
    r = _upload(client, _file(cast))
    assert r.status_code == 201, r.content
    batch = r.json()
    assert batch["status"] == "previewed"
    assert batch["summary"]["link"] == 1 and batch["summary"]["create"] >= 1
    assert batch["summary"]["error"] == 2
    assert (Resident.objects.count(), SourceRecord.objects.count()) == before
    rows = {row["record_id"]: row for row in client.get(f"/api/v1/residents/imports/{batch['id']}/rows").json()}
    assert rows["H1"]["action"] == "link" and rows["H1"]["candidate_id"] == cast.resident.pk
    assert rows["H3"]["action"] != "link"  # a parent's ID on a child's record does not make them one person
    assert "记录号重复" in " ".join(r["problems"][0] for r in rows.values() if r["action"] == "error"
                                   and r["record_id"] == "H2")


def test_committing_an_import_links_creates_and_keeps_every_source(cast, client, login):
    login(cast.manager)
    batch = _upload(client, _file(cast)).json()
    done = client.post(f"/api/v1/residents/imports/{batch['id']}/commit").json()
    assert done["status"] == "committed"
    linked = SourceRecord.objects.get(source_system="县中心医院HIS", record_id="H1")
    assert linked.person_id == cast.resident.pk and linked.how == "linked"
    created = SourceRecord.objects.get(record_id="H2").person
    assert (created.name, created.birth_date, created.area_code) == ("陈秋菊", dt.date(1985, 5, 12), "431127100201")
    child = SourceRecord.objects.get(record_id="H3")
    assert child.person_id != cast.resident.pk and child.person.id_number is None  # the father keeps his ID
    again = client.post(f"/api/v1/residents/imports/{batch['id']}/commit")
    assert again.status_code == 409


def test_reimporting_the_same_records_skips_them(cast, client, login):
    login(cast.manager)
    first = _upload(client, _file(cast)).json()
    client.post(f"/api/v1/residents/imports/{first['id']}/commit")
    second = _upload(client, _file(cast)).json()
    assert second["summary"].get("skip", 0) == 3


def test_a_file_with_missing_columns_is_refused_with_a_clear_message(cast, client, login):
    login(cast.manager)
    r = _upload(client, "id,姓名\n1,张三\n")
    assert r.status_code == 422 and r.json()["code"] == "missing_columns"
    assert "record_id" in r.json()["title"]
    assert not ImportBatch.objects.exists()


def test_only_index_managers_import(cast, client, login):
    login(cast.village_doctor)
    assert _upload(client, _file(cast)).status_code == 403


def test_the_import_pages_preview_commit_and_report(cast, client, login):
    login(cast.manager)
    f = io.BytesIO(_file(cast).encode())
    f.name = "list.csv"
    r = client.post("/residents/imports/upload/", {"file": f, "source_system": "村卫生室"})
    batch = ImportBatch.objects.get()
    assert r["Location"] == f"/residents/imports/{batch.pk}/"
    assert "确认入库" in client.get(r["Location"]).content.decode()
    report = client.get(f"/residents/imports/{batch.pk}/report.csv").content.decode("utf-8-sig")
    assert "记录号重复" in report and "行号" in report
    client.post(f"/residents/imports/{batch.pk}/commit/")
    batch.refresh_from_db()
    assert batch.status == "committed"


# --- review ------------------------------------------------------------------------------

def _review(cast, client):
    # probable, not certain → review
    text = HEADER + "V1,,李见国,男,1958-03-15,,13900000000,,\n"  # homophone, day off, other phone
    batch = _upload(client, text, system="公卫档案").json()
    client.post(f"/api/v1/residents/imports/{batch['id']}/commit")
    return MatchReview.objects.get()


def test_an_uncertain_pair_goes_to_the_review_queue_side_by_side(cast, client, login):
    login(cast.manager)
    review = _review(cast, client)
    assert review.candidate_id == cast.resident.pk
    page = client.get(f"/residents/reviews/{review.pk}/").content.decode()
    assert 'data-differs="1"' in page and "出生日期" in page
    assert cast.resident.id_number not in page  # masked


def test_linking_a_review_merges_and_separating_remembers(cast, client, login):
    login(cast.manager)
    review = _review(cast, client)
    provisional = review.person
    client.post(f"/api/v1/residents/reviews/{review.pk}/decision", {"same_person": True},
                content_type="application/json")
    provisional.refresh_from_db()
    assert provisional.merged_into_id == cast.resident.pk
    assert SourceRecord.objects.get(record_id="V1").person_id == cast.resident.pk
    second = client.post(f"/api/v1/residents/reviews/{review.pk}/decision", {"same_person": False},
                         content_type="application/json")
    assert second.status_code == 409 and "manager" in second.json()["title"]


def test_a_separated_pair_is_never_proposed_again(cast, client, login):
    login(cast.manager)
    review = _review(cast, client)
    client.post(f"/residents/reviews/{review.pk}/decide/", {"decision": "different"})
    assert NonMatch.objects.filter(person_a=cast.resident, person_b=review.person).exists()
    from yigongti.residents.candidates import find_candidates, make_probe

    probe = make_probe(name="李见国", sex="M", birth_date="1958-03-15", phone="13900000000")
    again = find_candidates(probe, Resident.objects.all(), exclude_pk=review.person.pk)
    assert cast.resident.pk not in [c.resident.pk for c in again]


# --- merge and unmerge -------------------------------------------------------------------

def test_merge_then_unmerge_restores_exactly_what_was_there(cast, client, login):
    login(cast.manager)
    other = Resident.objects.create(name="李建国", sex="M", birth_date=dt.date(1958, 3, 14), village=cast.village,
                                    area_code=cast.village.code, phone="13700000000")
    ResidentTag.objects.create(resident=other, tag="htn")  # duplicate of the survivor's tag
    ResidentTag.objects.create(resident=other, tag="t2dm")
    SourceRecord.objects.create(person=other, source_system="公卫", record_id="P9", name="李建国", how="created")
    def state():
        return {r.pk: (r.name, r.phone, r.merged_into_id, sorted(r.tags.values_list("tag", flat=True)),
                       sorted(r.source_records.values_list("record_id", flat=True)))
                for r in Resident.objects.filter(pk__in=[cast.resident.pk, other.pk])}
    before = state()
    merged = client.post(f"/api/v1/residents/{cast.resident.pk}/merge", {"merged_id": other.pk, "reason": "重复建档"},
                         content_type="application/json").json()
    mid = state()
    assert mid[other.pk][2] == cast.resident.pk
    assert mid[cast.resident.pk][3] == ["elderly", "htn", "t2dm"]
    assert "P9" in mid[cast.resident.pk][4]
    assert other.pk not in [i["id"] for i in client.get("/api/v1/residents").json()["items"]]
    undone = client.post(f"/api/v1/residents/merges/{merged['id']}/undo").json()
    assert undone["undone_at"]
    assert state() == before
    assert MergeEvent.objects.get().undone_by == cast.manager
    assert AuditEvent.objects.filter(action__in=["merge", "unmerge"]).count() == 2


def test_unmerge_is_refused_while_a_later_merge_builds_on_it(cast, client, login):
    login(cast.manager)
    a = cast.resident
    b = Resident.objects.create(name="甲", sex="M", birth_date=dt.date(1958, 3, 14), village=cast.village,
                                area_code=cast.village.code)
    c = Resident.objects.create(name="乙", sex="M", birth_date=dt.date(1958, 3, 14), village=cast.village,
                                area_code=cast.village.code)
    first = client.post(f"/api/v1/residents/{a.pk}/merge", {"merged_id": b.pk}, content_type="application/json").json()
    client.post(f"/api/v1/residents/{c.pk}/merge", {"merged_id": a.pk}, content_type="application/json")
    r = client.post(f"/api/v1/residents/merges/{first['id']}/undo")
    assert r.status_code == 409 and r.json()["code"] == "later_merge"


def test_merging_needs_the_manager_role_and_both_in_scope(cast, client, login):
    login(cast.village_doctor)
    other = Resident.objects.create(name="甲", sex="M", birth_date=dt.date(1958, 3, 14), village=cast.village,
                                    area_code=cast.village.code)
    assert client.post(f"/api/v1/residents/{cast.resident.pk}/merge", {"merged_id": other.pk},
                       content_type="application/json").status_code == 403
    client.logout()
    login(cast.manager)
    r = client.post(f"/api/v1/residents/{cast.resident.pk}/merge", {"merged_id": cast.far_resident.pk},
                    content_type="application/json")
    assert r.status_code == 404


def test_the_registered_resident_keeps_its_registration_as_a_source(cast):
    src = SourceRecord.objects.get(person=cast.resident)
    assert src.how == "registered" and src.source_system == "yigongti:431127100201D600"
    assert make_id_number  # imported helper used by other tests


def test_looking_at_a_preview_or_the_queue_is_audited_with_the_persons_shown(cast, client, login):
    login(cast.manager)
    batch = _upload(client, _file(cast)).json()
    client.get(f"/residents/imports/{batch['id']}/")
    shown = AuditEvent.objects.filter(action="list", detail__import_batch=batch["id"]).latest("seq")
    assert cast.resident.pk in shown.detail["ids"]
    review = _review(cast, client)
    client.get("/residents/reviews/")
    listed = AuditEvent.objects.filter(action="list", object_type="match_review").latest("seq")
    assert set(listed.detail["persons"]) == {review.person_id, cast.resident.pk}


def test_another_managers_batch_cannot_be_opened(cast, client, login):
    login(cast.manager)
    batch = _upload(client, _file(cast)).json()
    client.logout()
    login(cast.bureau)
    assert client.get(f"/residents/imports/{batch['id']}/").status_code == 404
    api = client.get(f"/api/v1/residents/imports/{batch['id']}/rows")
    assert api.status_code == 404 and api.json()["code"] == "not_found"
    assert not AuditEvent.objects.filter(actor="bureau", detail__import_batch=batch["id"]).exists()
