"""Money conversion (core/money.py): text and Decimal amounts to integer minor units, never floats."""
from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

import pytest

from core.money import MoneyError, from_minor, precision, to_minor

CURRENCIES = ("CZK", "EUR", "JPY", "BHD")  # 2, 2, 0 and 3 minor digits


def by_decimal(text: str, currency: str) -> int:
    """The rule written out: the amount as a Decimal, scaled, rounded half up."""
    scaled = Decimal(text) * Decimal(10) ** precision(currency)
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


AWKWARD = ["0", "1", "12.", "1.5", "1.55", "1.555", "1.005", "0001.10", "12345678901234567890.12", "1e3",
           "-1.50", "+2.00", " 3.10", "3.10 ", "1_000.00", "٣.١", "0.0001", "999999999.999"]


@pytest.mark.parametrize("currency", CURRENCIES)
def test_text_amounts_convert_exactly_as_the_decimal_rule_says(currency):
    """Plain bank text takes a shortcut (no Decimal); it must agree with the Decimal rule everywhere."""
    rng = random.Random(7)
    texts = AWKWARD + [f"{rng.randrange(10**8)}.{rng.randrange(10**4):0{rng.randrange(1, 5)}d}" for _ in range(2000)]
    texts += [str(rng.randrange(10**9)) for _ in range(200)]
    for text in texts:
        assert to_minor(text, currency) == by_decimal(text, currency), (text, currency)
        assert to_minor(Decimal(text), currency) == by_decimal(text, currency), (text, currency)


@pytest.mark.parametrize("text", ["", ".", "abc", "1,5", "NaN", "Infinity", "1.2.3", "--1"])
def test_what_is_not_an_amount_is_refused_with_a_sentence(text):
    with pytest.raises(MoneyError, match="is not an amount of money"):
        to_minor(text, "CZK")


def test_a_float_is_taken_by_its_shortest_text_and_minor_units_come_back_as_decimal():
    assert to_minor(0.1 + 0.2, "CZK") == 30  # 0.30000000000000004 -> 30, not a binary surprise
    assert to_minor(1234, "JPY") == 1234
    assert from_minor(123450, "CZK") == Decimal("1234.50") and str(from_minor(5, "BHD")) == "0.005"
