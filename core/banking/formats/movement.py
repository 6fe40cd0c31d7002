"""What every statement reader returns, and the rules the readers share.

A :class:`Movement` is one booked payment as the bank wrote it (the amount
positive, the direction in ``transaction_type``). A reader's ``parse()``
returns a :class:`FileResult`: the movements plus what the plugin logs
(warnings, entries skipped as pending or as zero amounts, the statement's
accounts). Anything wrong with a file is a :class:`StatementError` whose
message is one sentence naming the file (and the row or entry).

Variable symbol (``reference``, ``find_vs``)
    ``VS 2026001``, ``VS:2026001``, ``/VS/2026001``, ``VS2026001``,
    "variabilní symbol 2026001"; with ``bare``, a text that is nothing but
    1-10 digits (leading zeros aside) too. Kept as the bank wrote it (matching
    compares as integers).

Amount rounding (``check_amount``)
    Money is stored in the currency's minor units. An amount with more
    decimals than the currency has is rounded half up to the minor unit by
    ``core.values.money.to_minor`` (``8.85499`` EUR -> 8.85, ``8.85500`` ->
    8.86) and a warning is logged; the reader keeps the amount exactly as the
    bank wrote it in ``raw_data``. An entry that rounds to zero (or is zero) is
    skipped with a warning: there is no zero transaction.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from core.errors import FakturkaError
from core.values.money import MoneyError, from_minor, to_minor

CURRENCY = re.compile(r"^[A-Z]{3}$")

# "VS 2026001", "VS:2026001", "/VS/2026001", "VS2026001", "variabilní symbol 2026001".
VS_PATTERNS = (
    re.compile(r"(?<![A-Za-z0-9])VS\s*[:=/#.\-]?\s*(\d{1,10})(?!\d)", re.IGNORECASE),
    re.compile(r"variabiln[ií]\s+symbol\s*[:=]?\s*(\d{1,10})(?!\d)", re.IGNORECASE),
)
BARE_VS = re.compile(r"^\s*(\d{1,10}|0+\d{1,10})\s*$")


class StatementError(FakturkaError):
    """A statement file that cannot be imported; the message is the sentence to show (the plugin's SyncError)."""


@dataclass
class Movement:
    external_id: str
    transaction_type: str
    amount: Decimal
    currency: str
    transacted_on: date
    description: str = ""
    counterparty: str = ""
    counterparty_account: str = ""
    reference: str = ""
    raw_data: dict = field(default_factory=dict)


@dataclass
class FileResult:
    name: str
    label: str  # "camt.053.001.02", "Fio CSV export", "CSV"
    movements: list[Movement] = field(default_factory=list)
    pending: int = 0  # camt entries skipped because they are not booked
    ignored: int = 0  # zero amounts
    warnings: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)


def find_vs(text: str, *, bare: bool) -> str:
    """A variable symbol in ``text``: a "VS ..." pattern, or (``bare``) the whole text being digits."""
    text = text or ""
    if bare:
        match = BARE_VS.match(text)
        if match:
            return short_digits(match.group(1))
    for pattern in VS_PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(1)
    return ""


def short_digits(digits: str) -> str:
    """Digits as written, or without leading zeros when they make it longer than 10 digits."""
    return digits if len(digits) <= 10 else (digits.lstrip("0") or "0")


def unique(values) -> list[str]:
    """The non-empty values, stripped, each once (case aside), in their first order."""
    seen, out = set(), []
    for value in values:
        value = (value or "").strip()
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            out.append(value)
    return out


def content_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def direction(amount: Decimal) -> str:
    return "income" if amount > 0 else "expense"


class Ids:
    """Makes ids unique within one file: the second occurrence of ``x`` is ``x#2``."""

    def __init__(self):
        self.seen: dict[str, int] = {}

    def __call__(self, base: str) -> tuple[str, bool]:
        count = self.seen.get(base, 0) + 1
        self.seen[base] = count
        return (base if count == 1 else f"{base}#{count}"), count > 1


def check_amount(result: FileResult, where: str, amount: Decimal, currency: str, written: str) -> bool:
    """False (and a warning) for an amount that is or rounds to zero; a warning when it is rounded."""
    try:
        minor = to_minor(amount, currency)
    except MoneyError:
        raise StatementError(f"{where}: {written!r} is not an amount; nothing was imported.") from None
    if minor == 0:
        result.ignored += 1
        result.warnings.append(
            f"{where}: the amount {written} {currency} is zero (in {currency}'s minor unit); skipped."
        )
        return False
    stored = from_minor(minor, currency)
    if stored != amount:
        result.warnings.append(
            f"{where}: the amount {written} {currency} has more decimals than {currency} uses; "
            f"stored as {stored} (rounded half up)."
        )
    return True


def is_currency_code(code: str) -> bool:
    """Three capital letters (CZK, EUR): the shape of an ISO 4217 code."""
    return bool(CURRENCY.match(code))


def currency_code(value: str, where: str, fallback: str, hint: str) -> str:
    """The movement's currency: ``value``, else ``fallback``; refused (with ``hint``) when neither is a code."""
    code = (value or "").strip().upper() or fallback
    if not code:
        raise StatementError(f"{where}: no currency is given ({hint}); nothing was imported.")
    if not CURRENCY.match(code):
        raise StatementError(
            f"{where}: {code!r} is not a currency code (three letters such as CZK or EUR); nothing was imported."
        )
    return code
