"""Two imports of the same year for the same staff at the same moment (two connections): both go in, one after the
other — the community row lock serialises them; the year holds one row per person, from the later import.
PostgreSQL only."""

import pytest
from django.db import connection

from tests.cast import as_
from tests.concurrency import race
from tests.performance.conftest import YEAR, money, row, write_xlsx
from yigongti.performance import payroll
from yigongti.performance.models import PayrollImport, PayrollRecord

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so two connections cannot race "
                    "(run with DATABASE_URL=postgresql://…)")


def test_two_imports_of_one_year_at_once_leave_one_row_per_person(cast, pf, tmp_path):
    a, b, _c = pf.town
    f1 = write_xlsx(tmp_path / "1.xlsx", [row(a, basic=1000), row(b, basic=1000)])
    f2 = write_xlsx(tmp_path / "2.xlsx", [row(a, basic=2000), row(b, basic=2000)])
    results = race([lambda: payroll.import_payroll(f1, "1.xlsx", YEAR, actor=as_(cast.manager)),
                    lambda: payroll.import_payroll(f2, "2.xlsx", YEAR, actor=as_(cast.manager))])
    assert all(isinstance(r, PayrollImport) for r in results), results
    assert sorted(r.replaced for r in results) == [0, 2]
    later = max(results, key=lambda r: r.pk)
    assert set(PayrollRecord.objects.filter(year=YEAR).values_list("batch_id", flat=True)) == {later.pk}
    assert PayrollRecord.objects.filter(year=YEAR).count() == 2
    assert {money(1000), money(2000)} >= set(PayrollRecord.objects.values_list("basic", flat=True))
