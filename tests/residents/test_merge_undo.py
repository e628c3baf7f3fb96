"""Undoing a merge that a review decided puts that review back in the queue, and the review page offers it."""

from tests.residents.test_index import _review
from yigongti.core.models import AuditEvent
from yigongti.residents.models import MatchReview, MergeEvent, NonMatch, SourceRecord


def _link(client, review):
    client.post(f"/residents/reviews/{review.pk}/decide/", {"decision": "same", "note": "同一人，电话核实"})
    review.refresh_from_db()
    assert review.status == "linked"
    return MergeEvent.objects.get(survivor=review.candidate, merged=review.person)


def test_the_review_page_of_a_linked_pair_offers_to_undo_its_merge(cast, client, login):
    login(cast.manager)
    review = _review(cast, client)
    page = client.get(f"/residents/reviews/{review.pk}/").content.decode()
    assert 'data-testid="undo-merge"' not in page  # nothing merged yet
    event = _link(client, review)
    page = client.get(f"/residents/reviews/{review.pk}/").content.decode()
    assert 'data-testid="undo-merge"' in page and f"/residents/merges/{event.pk}/undo/" in page


def test_undoing_the_merge_from_the_review_page_puts_the_review_back_in_the_queue(cast, client, login):
    login(cast.manager)
    review = _review(cast, client)
    event = _link(client, review)
    r = client.post(f"/residents/merges/{event.pk}/undo/", {"review": review.pk})
    assert r.status_code == 302 and r["Location"] == f"/residents/reviews/{review.pk}/"

    event.refresh_from_db()
    review.refresh_from_db()
    assert event.undone_at and event.undone_by == cast.manager
    review.person.refresh_from_db()
    assert review.person.merged_into_id is None
    # back in the queue, with its former decision marked as undone
    assert review.status == "open" and review.decided_by is None and review.decided_at is None
    assert "已由 manager 撤销合并" in review.note and "同一人，电话核实" in review.note
    assert review.pk in [x.pk for x in MatchReview.objects.filter(status="open")]
    queue = client.get("/residents/reviews/").content.decode()
    assert f"/residents/reviews/{review.pk}/" in queue
    # the pair is undecided again: not remembered as a non-match, the record no longer "reviewed"
    assert not NonMatch.objects.filter(person_a=cast.resident, person_b=review.person).exists()
    assert SourceRecord.objects.get(pk=review.record_id).how != "reviewed"
    # audited: the unmerge names the review, and the review's reopening is its own event
    unmerge = AuditEvent.objects.get(action="unmerge")
    assert unmerge.detail["review"] == review.pk and unmerge.detail["event"] == event.pk
    reopened = AuditEvent.objects.filter(action="update", object_type="match_review").latest("seq")
    assert reopened.object_id == str(review.pk) and reopened.detail["decision"] == "reopened"

    # the page says so, offers the decision again and no undo
    page = client.get(f"/residents/reviews/{review.pk}/").content.decode()
    assert 'data-testid="undone-merge"' in page and 'data-testid="same"' in page
    assert 'data-testid="undo-merge"' not in page


def test_a_reopened_review_can_be_decided_again(cast, client, login):
    login(cast.manager)
    review = _review(cast, client)
    event = _link(client, review)
    client.post(f"/api/v1/residents/merges/{event.pk}/undo")  # the API undoes the same way
    review.refresh_from_db()
    assert review.status == "open"
    r = client.post(f"/api/v1/residents/reviews/{review.pk}/decision", {"same_person": False},
                    content_type="application/json")
    assert r.status_code == 200, r.content
    review.refresh_from_db()
    assert review.status == "separated"
    assert NonMatch.objects.filter(person_a=cast.resident, person_b=review.person).exists()


def test_a_manual_merge_undone_is_still_remembered_as_a_non_match(cast, client, login):
    import datetime as dt

    from yigongti.residents.models import Resident

    login(cast.manager)
    other = Resident.objects.create(name="李建国", sex="M", birth_date=dt.date(1958, 3, 14), village=cast.village,
                                    area_code=cast.village.code)
    merged = client.post(f"/api/v1/residents/{cast.resident.pk}/merge", {"merged_id": other.pk},
                         content_type="application/json").json()
    client.post(f"/api/v1/residents/merges/{merged['id']}/undo")
    assert NonMatch.objects.filter(person_a=cast.resident, person_b=other).exists()
    assert not AuditEvent.objects.filter(action="update", object_type="match_review").exists()


def test_only_who_may_unmerge_sees_the_undo(cast, client, login):
    login(cast.manager)
    review = _review(cast, client)
    _link(client, review)
    from yigongti.orgs.permissions import can

    event = MergeEvent.objects.get()
    assert can(cast.manager, "residents.unmerge", event)
    assert not can(cast.village_doctor, "residents.unmerge", event)
    login(cast.village_doctor)
    assert client.get(f"/residents/reviews/{review.pk}/").status_code in (403, 404)
    r = client.post(f"/residents/merges/{event.pk}/undo/", {"review": review.pk})
    event.refresh_from_db()
    assert event.undone_at is None and r.status_code in (302, 403, 404)
