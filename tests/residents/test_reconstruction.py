"""Playing the attacker: a township doctor without the unmask privilege collects every field the API and
the pages show about residents (masked ID, birth date, age, sex, village, masked phone) and tries to rebuild
each ID number and phone. The rule (core/personal.py) must leave at least 100 equally valid candidates for
every one of them; with the old mask (region and last four kept) the same attacker rebuilds every number."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from yigongti.core.idcard import check_char, make_id_number
from yigongti.residents.models import Resident

MIN_CANDIDATES = 100


def id_candidates(masked: str, region_codes: list[str], birth_dates: list[dt.date], sex: str | None) -> list[str]:
    """Every valid 18-character number consistent with what is shown: the visible characters of the mask,
    the region (the county of residence, assumed known), the birth date(s) and the sex (sequence parity)."""
    assert len(masked) == 18, masked
    out = []
    for region in region_codes:
        for birth in birth_dates:
            head = f"{region}{birth:%Y%m%d}"
            for seq in range(1000):
                if (sex == "M" and seq % 2 == 0) or (sex == "F" and seq % 2 == 1):
                    continue
                first17 = f"{head}{seq:03d}"
                number = first17 + check_char(first17)
                if all(m == "*" or m == c for m, c in zip(masked, number, strict=True)):
                    out.append(number)
    return out


def phone_candidates(masked: str) -> int:
    """How many phones fit the masked one (each star a free digit)."""
    return 10 ** masked.count("*") if masked else 0


def old_mask(number: str) -> str:
    """The mask used before the fix: region and last four kept."""
    return number[:6] + "*" * 8 + number[-4:]


@pytest.fixture
def county_people(cast):
    """Forty residents of the township's village with valid, varied numbers and phones."""
    rows = []
    for i in range(40):
        sex = "M" if i % 2 else "F"
        birth = dt.date(1940 + i, 1 + i % 12, 1 + i % 28)
        rows.append(Resident(name=f"测试{chr(0x4e00 + i)}", sex=sex, birth_date=birth,
                             id_number=make_id_number("431127", birth, 37 + i * 7, sex),
                             phone=f"139{i:04d}{(i * 37) % 10000:04d}", village=cast.village,
                             area_code=cast.village.code))
    Resident.objects.bulk_create(rows)
    return list(Resident.objects.filter(area_code=cast.village.code))


def _seen_by(client, people) -> tuple[list[dict], str]:
    """Everything the attacker can read: the API list and details, the registration search, and the pages."""
    api = client.get("/api/v1/residents", {"page_size": 200}).json()["items"]
    details = [client.get(f"/api/v1/residents/{p.pk}").json() for p in people[:10]]
    found = client.post("/api/v1/residents/candidates",
                        {"name": people[0].name, "birth_date": people[0].birth_date.isoformat()},
                        content_type="application/json").json()
    pages = [client.get("/residents/").content.decode(), client.post("/residents/", {"q": "测试"}).content.decode()]
    pages += [client.get(f"/residents/{p.pk}/").content.decode() for p in people[:10]]
    pages += [client.get(f"/residents/{p.pk}/edit/").content.decode() for p in people[:3]]
    pages.append(client.post("/residents/find/", {"name": people[0].name,
                                                  "birth_date": people[0].birth_date.isoformat()}).content.decode())
    text = "\n".join(pages) + repr(api) + repr(details) + repr(found)
    return api + details, text


def test_no_id_number_or_phone_can_be_rebuilt_from_what_a_township_doctor_sees(cast, client, login,
                                                                                county_people):
    login(cast.township_doctor)
    records, text = _seen_by(client, county_people)
    truth = {r.pk: r for r in county_people}
    assert len({rec["id"] for rec in records}) == len(county_people)  # everyone of the village, 李建国 too
    for rec in records:
        person = truth.get(rec["id"]) or Resident.objects.get(pk=rec["id"])
        birth = dt.date.fromisoformat(rec["birth_date"])
        ids = id_candidates(rec["id_number"], [rec["village_code"][:6]], [birth], rec["sex"])
        assert person.id_number in ids  # the attacker's model is right …
        assert len(ids) >= MIN_CANDIDATES, (rec["id_number"], len(ids))  # … and still has ≥ 100 guesses
        assert phone_candidates(rec["phone"]) >= MIN_CANDIDATES
    for person in [*county_people, cast.resident]:
        assert person.id_number not in text
        assert person.phone not in text
    # no masked number anywhere on the pages shows more than the province
    for token in re.findall(r"[0-9X*]{18}", text):
        if "*" in token:
            assert len(token.replace("*", "")) <= 2, token


def test_the_same_attacker_rebuilds_every_number_from_the_old_mask(county_people):
    """Proof that the attack works: region and last four kept, birth date beside it, one candidate each."""
    for person in county_people:
        ids = id_candidates(old_mask(person.id_number), [person.id_number[:6]], [person.birth_date], person.sex)
        assert ids == [person.id_number]


def test_keeping_the_check_character_would_leave_too_few_candidates(county_people):
    """Why the last character is not shown either: about 500 / 11 ≈ 45 candidates remain."""
    person = county_people[0]
    masked = person.id_number[:2] + "*" * 15 + person.id_number[-1]
    assert len(id_candidates(masked, [person.id_number[:6]], [person.birth_date], person.sex)) < MIN_CANDIDATES


def test_the_registration_search_does_not_confirm_a_guessed_phone(cast, client, login):
    login(cast.township_doctor)
    r = cast.resident
    base = {"name": r.name, "birth_date": r.birth_date.isoformat()}
    right = client.post("/api/v1/residents/candidates", {**base, "phone": r.phone},
                        content_type="application/json").json()
    wrong = client.post("/api/v1/residents/candidates", {**base, "phone": "13900000000"},
                        content_type="application/json").json()
    assert right["candidates"] == wrong["candidates"]  # same candidates, same scores, same reasons
    assert not any("电话" in reason for c in right["candidates"] for reason in c["reasons_for"])
    page_right = client.post("/residents/find/", {**base, "phone": r.phone}).content.decode()
    page_wrong = client.post("/residents/find/", {**base, "phone": "13900000000"}).content.decode()
    assert "电话号码相同" not in page_right
    assert page_right.count('data-testid="candidate"') == page_wrong.count('data-testid="candidate"')


def test_a_privileged_user_still_matches_on_the_phone(cast, client, login):
    login(cast.county_doctor)
    r = cast.resident
    found = client.post("/api/v1/residents/candidates",
                        {"name": r.name, "birth_date": r.birth_date.isoformat(), "phone": r.phone},
                        content_type="application/json").json()
    assert any("电话" in reason for c in found["candidates"] for reason in c["reasons_for"])


def test_the_village_doctor_matches_on_the_phones_of_the_village_he_serves(cast, client, login):
    login(cast.village_doctor)  # sees these phones for care anyway: his scope is his village
    r = cast.resident
    found = client.post("/api/v1/residents/candidates",
                        {"name": r.name, "birth_date": r.birth_date.isoformat(), "phone": r.phone},
                        content_type="application/json").json()
    assert any("电话" in reason for c in found["candidates"] for reason in c["reasons_for"])
