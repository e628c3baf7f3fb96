"""The template filters that print indicator figures."""

from __future__ import annotations

from decimal import Decimal

from yigongti.indicators.templatetags.indicator_tags import figure


def test_counts_print_without_decimals_and_rates_with_two():
    assert figure(Decimal("12")) == "12"
    assert figure("12.346") == "12.35"
    assert figure(None) == "—"


def test_a_figure_that_is_not_a_number_prints_as_missing_not_an_error():
    assert figure("NaN") == "—"
    assert figure(Decimal("Infinity")) == "—"
