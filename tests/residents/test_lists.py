"""Page numbers and a page jump on the resident index's long lists: the import batches and the review queue
(the shared ``_pager.html``; the resident list itself is covered in test_records_page)."""

import re

import pytest

from yigongti.residents.models import ImportBatch, MatchReview, SourceRecord


def _jump(html: str) -> str:
    jump = html[html.index('data-testid="page-jump"'):]
    return jump[:jump.index("</form>")]


def test_the_import_batches_page_with_numbers_a_total_and_a_jump(cast, client, login):
    for n in range(45):
        ImportBatch.objects.create(source_system="公卫", filename=f"批次{n:02d}.xlsx", uploaded_by=cast.manager)
    ImportBatch.objects.create(source_system="公卫", filename="别人的.xlsx", uploaded_by=cast.bureau)
    login(cast.manager)
    html = client.get("/residents/imports/").content.decode()
    assert "共 45 条" in html and 'href="?page=3"' in html and 'max="3"' in html
    last = client.get("/residents/imports/?page=3").content.decode()
    assert len(re.findall(r"批次\d\d\.xlsx", last)) == 5 and "别人的" not in last


@pytest.fixture
def reviews(cast):
    """60 open pairs in 大塘村 and one closed one, for the community manager's queue."""
    for n in range(61):
        record = SourceRecord.objects.create(person=cast.resident, source_system="公卫", record_id=f"R{n}",
                                             name="李建国", how="created")
        MatchReview.objects.create(record=record, person=cast.resident, candidate=cast.resident, score=0.9 - n / 1000,
                                   area_code=cast.resident.area_code, status="open" if n < 60 else "linked")
    return cast


def test_the_review_queue_pages_and_the_jump_keeps_the_status(reviews, client, login):
    login(reviews.manager)
    html = client.get("/residents/reviews/?status=open").content.decode()
    assert 'href="?status=open&amp;page=2"' in html
    assert 'name="status" value="open"' in _jump(html)
    first = set(re.findall(r'href="/residents/reviews/(\d+)/"', html))
    second = set(re.findall(r'href="/residents/reviews/(\d+)/"',
                            client.get("/residents/reviews/?status=open&page=2").content.decode()))
    assert len(first) == 50 and len(second) == 10 and not first & second


def test_the_review_queue_filters_by_township_and_village_within_scope(reviews, client, login):
    c = reviews
    for n, who in enumerate([c.neighbour, c.neighbour, c.far_resident]):
        record = SourceRecord.objects.create(person=who, source_system="公卫", record_id=f"N{n}", name=who.name,
                                             how="created")
        MatchReview.objects.create(record=record, person=who, candidate=who, score=0.95, area_code=who.area_code)
    login(c.manager)

    def ids(query):
        html = client.get(f"/residents/reviews/?status=open&{query}").content.decode()
        return html, {int(i) for i in re.findall(r'href="/residents/reviews/(\d+)/"', html)}

    html, everything = ids("")
    assert 'data-testid="filter-township"' in html and c.other_township.code in html
    theirs = set(MatchReview.objects.filter(candidate=c.neighbour).values_list("pk", flat=True))
    assert theirs <= everything  # first page: the neighbour's pairs score highest
    _html, got = ids(f"township={c.other_township.code}")
    assert got == theirs
    html, got = ids(f"village={c.other_village.code}")
    assert got == theirs and f'<option value="{c.other_village.code}" selected>' in html
    _html, got = ids(f"township={c.township.code}&page=2")
    assert len(got) == 10 and not got & theirs  # 60 in 大塘村: the filter keeps paging
    # the far county's pair stays out, even asked for by its own township; a malformed code matches nothing
    far = c.far_resident.area_code
    assert ids(f"township={far[:9]}000")[1] == set() and ids("township=4311")[1] == set()
