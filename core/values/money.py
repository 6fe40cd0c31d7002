"""Money: integer minor units in the database, ``Decimal`` in the Python API.

Never floats. The number of minor digits comes from ISO 4217 via Babel
(CZK and EUR have 2, JPY 0). Amounts given as text are read in the ASCII
digits 0-9 only: ``Decimal()`` also reads Arabic-Indic (``٣.١``) or
full-width (``１２``) digits, which no bank or person here means as an amount.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, DecimalException
from functools import lru_cache
from typing import overload

from babel.numbers import get_currency_precision

from core.errors import FakturkaError
from core.values.messages import Message


class MoneyError(FakturkaError, ValueError):
    pass


@lru_cache(maxsize=None)
def precision(currency: str) -> int:
    # Cached: Babel looks the code up in its locale data on every call, and an
    # import converts every movement's amount.
    return get_currency_precision(currency.upper())


def to_minor(amount: Decimal | int | str, currency: str) -> int:
    """``Decimal("1234.50"), "CZK"`` -> ``123450``. Rounds half up to the currency's digits."""
    if type(amount) is str:
        # The usual text from a bank, "1234.5": exact in minor units, no Decimal needed (an import
        # converts every movement). Anything else (sign, exponent, spaces, more digits) goes below.
        whole, dot, fraction = amount.partition(".")
        digits = precision(currency)
        if (
            whole.isascii()
            and whole.isdigit()
            and (not dot or (fraction.isascii() and fraction.isdigit()))
            and len(fraction) <= digits
            and len(whole) <= _FAST_WHOLE_DIGITS
        ):
            return int(whole) * _POWERS[digits] + (int(fraction.ljust(digits, "0")) if fraction else 0)
        if not amount.isascii():
            raise MoneyError(Message("{amount!r} is not an amount of money.", amount=amount))
    try:
        if type(amount) is Decimal:
            value = amount
        elif type(amount) is str:
            value = Decimal(amount)
        else:
            value = Decimal(str(amount))  # str() first: a float's shortest repr, not its binary value
    except DecimalException:
        raise MoneyError(Message("{amount!r} is not an amount of money.", amount=amount)) from None
    if not value.is_finite():
        raise MoneyError(Message("{amount!r} is not an amount of money.", amount=amount))
    # Minor units are stored as SQLite's 64-bit integers; checking the size first also spares quantize()
    # an exponent like 1e400, which it refuses with a bare InvalidOperation.
    scaled = value * _scale(currency) if abs(value) < _LIMIT else None
    if scaled is None or abs(scaled) > _MAX_MINOR:
        shown = repr(amount) if isinstance(amount, str) else str(amount)
        raise MoneyError(Message("{shown} is too large an amount of money.", shown=shown))
    return int(scaled.quantize(_ONE, rounding=ROUND_HALF_UP))


def exact_minor(amount: Decimal, currency: str) -> int:
    """``to_minor`` for what a person typed: more decimals than the currency has is a typo to point
    out ("12.345" CZK), not something to round away."""
    minor = to_minor(amount, currency)
    if amount.is_finite() and amount * _scale(currency) != minor:
        digits = precision(currency)
        raise MoneyError(
            Message(
                "{amount} has more decimals than {currency} has ({digits}).",
                amount=amount,
                currency=currency.upper(),
                digits=digits,
            )
        )
    return minor


_ONE = Decimal(1)
_POWERS = [10**n for n in range(10)]  # ISO 4217 uses 0 to 4 minor digits
_MAX_MINOR = 2**63 - 1  # SQLite's largest integer
_LIMIT = Decimal(10) ** 20  # above any amount whose minor units could fit
# Plain text with up to 14 whole digits fits in minor units with any ISO 4217 precision (at most 4).
_FAST_WHOLE_DIGITS = 14


@lru_cache(maxsize=None)
def _scale(currency: str) -> Decimal:
    return Decimal(10) ** precision(currency)


@overload
def from_minor(minor: int, currency: str) -> Decimal: ...
@overload
def from_minor(minor: None, currency: str) -> None: ...
def from_minor(minor: int | None, currency: str) -> Decimal | None:
    """``123450, "CZK"`` -> ``Decimal("1234.50")``."""
    if minor is None:
        return None
    digits = precision(currency)
    return (Decimal(int(minor)) / (Decimal(10) ** digits)).quantize(Decimal(1).scaleb(-digits))


class MoneyAttribute:
    """A Decimal view of an integer minor-units column, using the row's currency.

    ``amount_value = MoneyAttribute("amount")`` on a model with ``amount`` and
    ``currency`` columns reads and writes Decimal values.
    """

    def __init__(self, minor_field: str, currency_field: str = "currency"):
        self.minor_field = minor_field
        self.currency_field = currency_field

    def __get__(self, instance, owner):
        if instance is None:
            return self
        return from_minor(getattr(instance, self.minor_field), self._currency(instance))

    def __set__(self, instance, value):
        minor = None if value is None else to_minor(value, self._currency(instance))
        setattr(instance, self.minor_field, minor)

    def _currency(self, instance) -> str:
        currency = getattr(instance, self.currency_field, None)
        if not currency:
            raise MoneyError("set the currency before the amount")
        return currency


# "1,500" or "1.500": a decimal comma in Czech (1.5), a thousands separator in English (1500).
_AMBIGUOUS = re.compile(r"[+-]?[1-9][0-9]{0,2}[.,][0-9]{3}")


def parse_amount(text: str) -> Decimal:
    """Parse what a person types: ``1234.50``, ``1 234,50``, ``1,234.50`` -> Decimal.

    Raises :class:`MoneyError` with a sentence when it is not an amount.
    """
    raw = (text or "").strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if not raw.isascii():  # other scripts' digits: Decimal() would read them
        raise MoneyError(_not_an_amount(text))
    if _AMBIGUOUS.fullmatch(raw):
        whole, fraction = re.split(r"[.,]", raw)
        raise MoneyError(
            Message(
                "{text!r} could be {decimal} or {thousands}; type it without the separator or with two decimals.",
                text=text,
                decimal=f"{whole}.{fraction.rstrip('0') or '0'}",
                thousands=f"{whole}{fraction}",
            )
        )
    if raw.count(",") and raw.count("."):
        # The last separator is the decimal one; the other groups thousands.
        if raw.rfind(",") > raw.rfind("."):
            raw = raw.replace(".", "").replace(",", ".")
        else:
            raw = raw.replace(",", "")
    elif raw.count(",") == 1:
        raw = raw.replace(",", ".")
    try:
        value = Decimal(raw)
    except DecimalException:
        raise MoneyError(_not_an_amount(text)) from None
    if not value.is_finite():
        raise MoneyError(_not_an_amount(text))
    return value


def _not_an_amount(text: str) -> Message:
    return Message("{text!r} is not an amount; type a number such as 1234.50.", text=text)
