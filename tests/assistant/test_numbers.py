"""Figures read the same however written (pure logic, no model)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assistant.numbers import english_number_values, numbers_in


def d(value: str) -> Decimal:
    return Decimal(value).normalize()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("HK$1,000", "1000"),
        ("one thousand dollars", "1000"),
        ("a thousand dollars", "1000"),
        ("港幣一千元", "1000"),
        ("兩千元", "2000"),
        ("1千元", "1000"),
        ("1.5萬", "15000"),
        ("1.2百萬", "1200000"),
        ("HK$1.2 million", "1200000"),
        ("HK$2bn", "2000000000"),
        ("three hundred and seventy dollars", "370"),
        ("twenty-five working days", "25"),
        ("三百七十元", "370"),
        ("百分之五", "5"),
        ("12,940元", "12940"),
    ],
)
def test_amounts_in_words_digits_and_chinese_numerals(text, value):
    assert d(value) in numbers_in(text)


def test_a_scaled_figure_is_one_value_not_two():
    assert numbers_in("HK$1.2 million") == {d("1200000")}
    assert numbers_in("1.5萬元") == {d("15000")}


def test_phone_numbers_in_groups_are_one_number():
    assert d("28353376") in numbers_in("Call 2835 3376 [2].")
    assert numbers_in("2835-3376") == numbers_in("28353376")


def test_dates_read_day_month_and_year():
    assert {d("5"), d("3"), d("2024")} <= numbers_in("5 March 2024")
    assert {d("5"), d("3"), d("2024")} <= numbers_in("二零二四年三月五日")


def test_words_that_are_not_figures_are_not_read():
    assert english_number_values("the second passport and a first step") == set()
    assert numbers_in("Bring your identity card.") == set()
    assert numbers_in("See [3].") == set()  # a citation is not a figure
