"""Amounts in minor units shown in the major unit, for every ISO 4217 exponent."""

import doctest
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotwise import money
from slotwise.money import exponent, format_minor, to_major


@pytest.mark.parametrize(
    ("currency", "digits"),
    [
        ("EUR", 2),
        ("USD", 2),
        ("eur", 2),
        ("XYZ", 2),
        ("JPY", 0),
        ("jpy", 0),
        ("KRW", 0),
        ("XPF", 0),
        ("UYI", 0),
        ("KWD", 3),
        ("Bhd", 3),
        ("TND", 3),
        ("CLF", 4),
        ("UYW", 4),
    ],
)
def test_exponent(currency, digits):
    assert exponent(currency) == digits


@pytest.mark.parametrize("currency", ["", "EU", "EURO", "E1R", "ÉUR", "12 "])
def test_a_currency_is_three_letters(currency):
    with pytest.raises(ValueError, match="three-letter ISO 4217 code"):
        exponent(currency)


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1234, "EUR", "12.34 EUR"),
        (1234, "eur", "12.34 EUR"),
        (0, "EUR", "0.00 EUR"),
        (5, "EUR", "0.05 EUR"),
        (-500, "EUR", "-5.00 EUR"),
        (-5, "EUR", "-0.05 EUR"),
        (123456789, "USD", "1234567.89 USD"),
        (1000, "JPY", "1000 JPY"),
        (-1000, "JPY", "-1000 JPY"),
        (1500, "KWD", "1.500 KWD"),
        (7, "KWD", "0.007 KWD"),
        (12345, "CLF", "1.2345 CLF"),
    ],
)
def test_format_minor(amount, currency, text):
    assert format_minor(amount, currency) == text
    assert to_major(amount, currency) == text.split()[0]


def test_large_amounts_stay_exact():
    # A float would print 90071992547409.93 as ...09.92 or worse.
    assert to_major(9007199254740993, "EUR") == "90071992547409.93"


@settings(max_examples=200)
@given(st.integers(-(10**15), 10**15), st.sampled_from(["EUR", "JPY", "KWD", "CLF"]))
def test_to_major_reads_back_to_the_same_minor_amount(amount, currency):
    text = to_major(amount, currency)
    assert Decimal(text).scaleb(exponent(currency)) == amount
    assert Decimal(text).as_tuple().exponent == -exponent(currency)


def test_docstring_examples():
    result = doctest.testmod(money)
    assert result.failed == 0
    assert result.attempted > 0
