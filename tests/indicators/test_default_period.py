"""Without a chosen period the dashboard shows the latest month that has ended, not the month in progress."""

import datetime as dt
from unittest import mock

import pytest

from yigongti.indicators import queries
from yigongti.indicators.models import MonthlyFact

pytestmark = pytest.mark.django_db


def _fact(month: str) -> None:
    MonthlyFact.objects.create(month=month, source="enc", unit_area="431127100001", facility_level="township",
                               facility_county="431127", residence_county="431127", in_county=True, visits=10)


def test_the_month_in_progress_is_not_the_default_period():
    _fact("2026-11")
    _fact("2026-12")
    with mock.patch("django.utils.timezone.localdate", return_value=dt.date(2026, 12, 2)):
        assert queries.latest_month() == "2026-12"
        assert queries.default_period().key == "2026-11"


def test_a_county_whose_only_data_is_this_month_still_sees_it():
    _fact("2026-12")
    with mock.patch("django.utils.timezone.localdate", return_value=dt.date(2026, 12, 2)):
        assert queries.default_period().key == "2026-12"
