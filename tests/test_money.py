"""Money conversion (core/money.py): text and Decimal amounts to integer minor units, never floats."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

import pytest

from core.values.money import MoneyError, exact_minor, from_minor, parse_amount, precision, to_minor

CURRENCIES = ("CZK", "EUR", "JPY", "BHD")  # 2, 2, 0 and 3 minor digits


def by_decimal(text: str, currency: str) -> int:
    """The rule written out: the amount as a Decimal, scaled, rounded half up."""
    scaled = Decimal(text) * Decimal(10) ** precision(currency)
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


AWKWARD = [
    "0",
    "1",
    "12.",
    "1.5",
    "1.55",
    "1.555",
    "1.005",
    "0001.10",
    "999999999999.99",
    "1e3",
    "-1.50",
    "+2.00",
    " 3.10",
    "3.10 ",
    "1_000.00",
    "0.0001",
    "999999999.999",
]


@pytest.mark.parametrize("currency", CURRENCIES)
def test_text_amounts_convert_exactly_as_the_decimal_rule_says(currency):
    """Plain bank text takes a shortcut (no Decimal); it must agree with the Decimal rule everywhere."""
    rng = random.Random(7)
    texts = AWKWARD + [f"{rng.randrange(10**8)}.{rng.randrange(10**4):0{rng.randrange(1, 5)}d}" for _ in range(2000)]
    texts += [str(rng.randrange(10**9)) for _ in range(200)]
    for text in texts:
        assert to_minor(text, currency) == by_decimal(text, currency), (text, currency)
        assert to_minor(Decimal(text), currency) == by_decimal(text, currency), (text, currency)


@pytest.mark.parametrize(
    "text", ["", ".", "abc", "1,5", "NaN", "Infinity", "1.2.3", "--1", "٣.١", "١٢٣", "１２３.４５", "۱۲"]
)
def test_what_is_not_an_amount_is_refused_with_a_sentence(text):
    with pytest.raises(MoneyError, match="is not an amount of money"):
        to_minor(text, "CZK")


def test_a_float_is_taken_by_its_shortest_text_and_minor_units_come_back_as_decimal():
    assert to_minor(0.1 + 0.2, "CZK") == 30  # 0.30000000000000004 -> 30, not a binary surprise
    assert to_minor(1234, "JPY") == 1234
    assert from_minor(123450, "CZK") == Decimal("1234.50") and str(from_minor(5, "BHD")) == "0.005"


@pytest.mark.parametrize(
    "amount", ["1e400", "12345678901234567890.12", "99999999999999999", "-1e17", Decimal("1e400"), 10**20]
)
def test_an_amount_whose_minor_units_sqlite_cannot_store_is_refused_with_a_sentence(amount):
    # Before: 1e400 raised decimal.InvalidOperation, 10^20 an OverflowError from SQLite, both as tracebacks.
    with pytest.raises(MoneyError, match="is too large an amount of money"):
        to_minor(amount, "CZK")


def test_the_largest_amounts_that_fit_are_exact():
    assert to_minor("92233720368547758.07", "CZK") == 2**63 - 1
    assert to_minor("1234567890123456.78", "CZK") == 123456789012345678
    with pytest.raises(MoneyError):
        to_minor("92233720368547758.08", "CZK")


@pytest.mark.parametrize("text", ["٣.١", "١٬٢٣٤", "１２３", "12\u0663", "१२३"])
def test_a_typed_amount_in_other_digits_than_0_to_9_is_refused(text):
    """Arabic-Indic, full-width or Devanagari digits: Decimal() reads them, an amount must not."""
    with pytest.raises(MoneyError, match="is not an amount; type a number such as 1234.50"):
        parse_amount(text)


@pytest.mark.parametrize(
    "text, reading",
    [("1,500", "1.5 or 1500"), ("1.500", "1.5 or 1500"), ("-2,250", "-2.25 or -2250"), ("12.345", "12.345 or 12345")],
)
def test_a_typed_amount_that_could_be_read_two_ways_is_refused(text, reading):
    """A decimal comma in Czech, a thousands separator in English: guessing was wrong for one of them."""
    with pytest.raises(MoneyError, match=f"could be {reading}"):
        parse_amount(text)


@pytest.mark.parametrize(
    "text, value",
    [
        ("1,50", "1.50"),
        ("1 500", "1500"),
        ("0,500", "0.500"),
        ("1.234,50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1500", "1500"),
    ],
)
def test_typed_amounts_that_read_one_way_are_taken(text, value):
    assert parse_amount(text) == Decimal(value)


def test_a_typed_amount_with_more_decimals_than_the_currency_is_refused_not_rounded():
    assert exact_minor(Decimal("12.34"), "CZK") == 1234
    assert exact_minor(Decimal("12.340"), "CZK") == 1234  # a trailing zero is no extra precision
    for text in ("12.345", "0.001"):
        with pytest.raises(MoneyError, match=f"{text} has more decimals than CZK has \\(2\\)"):
            exact_minor(Decimal(text), "CZK")
    with pytest.raises(MoneyError, match="more decimals than JPY has \\(0\\)"):
        exact_minor(Decimal("100.5"), "JPY")
