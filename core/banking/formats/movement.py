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

Limits (``Limits``)
    A statement file is at most ``max_file_mb`` (50 MB by default) and no
    field holds more than ``max_field_length`` characters (2,048 by default:
    the longest text ISO 20022 allows in a camt.053 field); both are the
    bank-statement plugin's settings, and a refusal names the setting that
    raises it. A description joined from several texts (a batch) is cut to
    the longest text Fakturka stores (``core.values.limits.MAX_TEXT_LENGTH``)
    with a warning; every text stays whole in ``raw_data``.

Domain checks
    Dates are written with the ASCII digits 0-9 in the forms a reader
    documents (no ISO week dates, no ``20260131`` where ``2026-01-31`` is the
    format) and fall within ``core.values.limits.check_date_span``; currencies
    are ISO 4217 codes of money (``core.values.validation.check_currency``:
    not ``ABC``, ``XXX`` or gold).

Dates and time zones (``time_zone``, ``local_day``)
    A date-time with an offset or ``Z`` (``2014-01-04T23:00:00.000Z``) is
    an instant: its day is the calendar day in the account's time zone (an
    IANA name, ``Europe/Prague`` by default; 23:00 UTC on 4 January is 5
    January in Prague). A date-time without offset is the bank's local time
    and its date is taken as written; a date is a date.

Placeholders (``meaningful``)
    Banks fill required fields with placeholder text: ``NOTPROVIDED``,
    ``NOT PROVIDED``, ``N/A``, ``NONREF``, ``NOREF``, ``UNKNOWN`` or a lone
    ``-``. Such a value (the whole value, case aside) is no description,
    counterparty or reference: ``meaningful`` turns it into "", the reader
    counts what it left out in one warning per file, and ``raw_data`` keeps
    the text as written.

Not a statement (``NotAStatement``)
    A file that no reader recognises (an unrelated XML or CSV) is refused
    with this subclass of ``StatementError``, decided before any entry is
    read, so that a watched folder can skip it with a warning.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from core.errors import FakturkaError
from core.values.limits import MAX_TEXT_LENGTH, check_date_span
from core.values.messages import Message, message_of
from core.values.money import MoneyError, from_minor, to_minor
from core.values.text import ELLIPSIS
from core.values.validation import ValidationError, check_currency

CURRENCY = re.compile(r"^[A-Z]{3}$")

# "VS 2026001", "VS:2026001", "/VS/2026001", "VS2026001", "variabilní symbol 2026001".
# ASCII digits only ([0-9], not \d): a variable symbol in Arabic-Indic digits is no symbol a bank uses.
VS_PATTERNS = (
    re.compile(r"(?<![A-Za-z0-9])VS\s*[:=/#.\-]?\s*([0-9]{1,10})(?![0-9])", re.IGNORECASE),
    re.compile(r"variabiln[ií]\s+symbol\s*[:=]?\s*([0-9]{1,10})(?![0-9])", re.IGNORECASE),
)
BARE_VS = re.compile(r"^\s*([0-9]{1,10}|0+[0-9]{1,10})\s*$")


MB = 1024 * 1024
SNIFF_BYTES = 64 * 1024  # what identify() and the header search look at
# The date part of an ISO date or date-time as written ("2026-03-02", "2026-03-02T10:00:00+01:00").
ISO_DAY = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?![0-9])")
# An ISO 8601 / xs:dateTime date-time, its offset optional ("Z", "+01:00", "+0100"); ASCII digits only.
ISO_DATE_TIME = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,][0-9]+)?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?$"
)
DEFAULT_TIMEZONE = "Europe/Prague"
TIMEZONE_SETTING = Message("Time zone (timezone)")
# Placeholder texts banks put in required fields (compared whole, case aside, spaces squeezed).
PLACEHOLDERS = frozenset({"NOTPROVIDED", "NOT PROVIDED", "N/A", "NONREF", "NOREF", "UNKNOWN", "-"})
FINAL_STOP = re.compile(r"\.+$")
# What ``fit_text`` cuts, as its warning names it.
DESCRIPTION = Message("description")
COUNTERPARTY = Message("counterparty")


class Trimmed(Message):
    """``said`` (a Message or text) with what ``end`` matches replaced by ``replacement``: in English and in the
    language it is translated to alike (a sentence quoted inside another without its full stop, say)."""

    def __new__(cls, said: str, end: re.Pattern[str], replacement: str = "") -> Trimmed:
        self = str.__new__(cls, end.sub(replacement, str.__str__(said)))
        self.msgid = said.msgid if isinstance(said, Message) else str.__str__(said)
        self.params = said.params if isinstance(said, Message) else {}
        self.said, self.end, self.replacement = said, end, replacement
        return self

    def __reduce__(self):
        return (Trimmed, (self.said, self.end, self.replacement))

    def translated(self, lang: str) -> str:
        said = self.said.translated(lang) if isinstance(self.said, Message) else str.__str__(self.said)
        return self.end.sub(self.replacement, said)


class StatementError(FakturkaError):
    """A statement file that cannot be imported; the message is the sentence to show (the plugin's SyncError)."""


class NotAStatement(StatementError):
    """A file no reader recognises (an unrelated XML or CSV): in a watched folder it is skipped, not fatal."""


@dataclass(frozen=True)
class Limits:
    """How large a statement file and its fields may be (the bank-statement plugin's settings)."""

    max_file_bytes: int = 50 * MB
    max_field_length: int = 2048

    def check_size(self, size: int, name: str) -> None:
        if size > self.max_file_bytes:
            raise StatementError(
                Message(
                    "{name} is {size:,.1f} MB, more than the largest statement file this plugin reads "
                    "({largest:.4g} MB); if it is a statement, raise the setting "
                    "Largest statement file (max_file_mb). Nothing was imported.",
                    name=name,
                    size=size / MB,
                    largest=self.max_file_bytes / MB,
                )
            )

    def field_too_long(self, where: str, what: str) -> StatementError:
        """``where`` and ``what`` (``Message("a cell")``...) are Messages, so that the sentence is translated whole."""
        return StatementError(
            Message(
                "{where}: {what} is longer than {longest:,} characters, the longest field this "
                "plugin reads; if the file is right, raise the setting Longest field (max_field_length). "
                "Nothing was imported.",
                where=where,
                what=what,
                longest=self.max_field_length,
            )
        )


DEFAULT_LIMITS = Limits()


class Source:
    """A statement's bytes, in memory or in a file: its size, its head, and a fresh stream each time."""

    def __init__(self, data: bytes | None = None, path: Path | None = None):
        if (data is None) == (path is None):
            raise TypeError("a Source is either bytes or a path")
        self.data = data
        self.path = path
        self._head: bytes | None = None

    @classmethod
    def of(cls, source: "bytes | Source") -> "Source":
        return source if isinstance(source, Source) else cls(data=bytes(source))

    def size(self) -> int:
        return len(self.data) if self.data is not None else self.path.stat().st_size  # type: ignore[union-attr]

    def head(self) -> bytes:
        """The first SNIFF_BYTES (read once)."""
        if self._head is None:
            with self.open() as stream:
                self._head = stream.read(SNIFF_BYTES)
        return self._head

    def open(self) -> BinaryIO:
        return io.BytesIO(self.data) if self.data is not None else self.path.open("rb")  # type: ignore[union-attr]


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
    stored: int = 0  # movements handed on (a plugin that lets them go as it stores them counts here)


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
        raise StatementError(
            Message("{where}: {written} is not an amount; nothing was imported.", where=where, written=repr(written))
        ) from None
    if minor == 0:
        result.ignored += 1
        result.warnings.append(
            Message(
                "{where}: the amount {written} {currency} is zero (in {currency}'s minor unit); skipped.",
                where=where,
                written=written,
                currency=currency,
            )
        )
        return False
    stored = from_minor(minor, currency)
    if stored != amount:
        result.warnings.append(
            Message(
                "{where}: the amount {written} {currency} has more decimals than {currency} uses; "
                "stored as {stored} (rounded half up).",
                where=where,
                written=written,
                currency=currency,
                stored=stored,
            )
        )
    return True


def is_currency_code(code: str) -> bool:
    """An ISO 4217 code of money (CZK, EUR): not merely three letters (ABC), nor XXX or gold."""
    return _currency_problem(code) is None


@lru_cache(maxsize=64)
def _currency_problem(code: str) -> Message | None:
    """Why ``code`` is no currency (check_currency's sentence, without its full stop), or None; cached, as every
    entry asks."""
    if not CURRENCY.match(code):
        return Message("{code} is not a currency code (three letters such as CZK or EUR)", code=repr(code))
    try:
        check_currency(code)
    except ValidationError as exc:
        return Trimmed(message_of(exc), FINAL_STOP)
    return None


def currency_code(value: str, where: str, fallback: str, hint: str) -> str:
    """The movement's currency: ``value``, else ``fallback``; refused (with ``hint``, a Message) when neither is
    a code."""
    code = (value or "").strip().upper() or fallback
    if not code:
        raise StatementError(
            Message("{where}: no currency is given ({hint}); nothing was imported.", where=where, hint=hint)
        )
    problem = _currency_problem(code)
    if problem:
        raise StatementError(Message("{where}: {problem}; nothing was imported.", where=where, problem=problem))
    return code


def iso_day(text: str) -> date | None:
    """The date part of ``YYYY-MM-DD`` or an ISO date-time, in ASCII digits; None for any other form."""
    match = ISO_DAY.match(text)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


@lru_cache(maxsize=16)
def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (e.g. Europe/Prague), or a StatementError naming the setting."""
    zone = None
    if 0 < len(name) <= 64:  # the longest IANA name is about 30 characters
        try:
            zone = ZoneInfo(name)
        except (LookupError, ValueError, OSError):
            zone = None
    if zone is None:
        raise StatementError(
            Message(
                "The time zone {name} is not a time zone name such as {example} or UTC; set the "
                "setting {setting} to the account's IANA time zone. Nothing was imported.",
                name=repr(name[:64]),
                example=DEFAULT_TIMEZONE,
                setting=TIMEZONE_SETTING,
            )
        )
    return zone


def local_day(text: str, zone: ZoneInfo) -> date | None:
    """The calendar day of an ISO date or date-time in ``zone``: a date-time with an offset (or Z) is
    converted; one without, and a plain date, are taken as written. None when it is no such date."""
    match = ISO_DATE_TIME.match(text)
    if match is None:
        return iso_day(text)
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups()[:6])
    try:
        written = datetime(year, month, day)
        # xs:dateTime allows 24:00:00, the end of the day (the start of the next).
        if (hour, minute, second) == (24, 0, 0):
            written += timedelta(days=1)
        else:
            written = written.replace(hour=hour, minute=minute, second=second)
        offset = match.group(7)
        if not offset:
            return written.date()
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "") if offset != "Z" else "0000"
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            return None
        instant = written.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
        return instant.astimezone(zone).date()
    except (ValueError, OverflowError):  # no such day or time, or beyond the calendar's ends
        return None


def meaningful(text: str) -> str:
    """``text`` stripped, or "" when it is a bank's placeholder (NOTPROVIDED, N/A, NONREF, "-"...)."""
    text = (text or "").strip()
    return "" if " ".join(text.split()).upper() in PLACEHOLDERS else text


def placeholder_warning(name: str, count: int) -> Message:
    """The one warning per file about the placeholder texts left out."""
    if count == 1:
        return Message(
            "{name}: 1 placeholder text such as NOTPROVIDED was left out of descriptions and counterparties "
            "(they are kept in each movement's raw data).",
            name=name,
        )
    return Message(
        "{name}: {count} placeholder texts such as NOTPROVIDED were left out of descriptions and counterparties "
        "(they are kept in each movement's raw data).",
        name=name,
        count=count,
    )


def check_day(day: date, where: str) -> date:
    """``day`` within the years Fakturka keeps books for, or a StatementError naming where it was."""
    try:
        return check_date_span(day)
    except ValidationError as exc:
        raise StatementError(
            Message("{where}: {problem} Nothing was imported.", where=where, problem=message_of(exc))
        ) from None


def fit_text(result: FileResult, where: str, what: str, text: str) -> str:
    """``text`` cut to the longest text Fakturka stores, with a warning (the whole is in raw_data); ``what`` is
    ``DESCRIPTION`` or ``COUNTERPARTY``."""
    if len(text) <= MAX_TEXT_LENGTH:
        return text
    result.warnings.append(
        Message(
            "{where}: the {what} is {length:,} characters long; stored cut to {longest:,} "
            "(every text is kept whole in the movement's raw data).",
            where=where,
            what=what,
            length=len(text),
            longest=MAX_TEXT_LENGTH,
        )
    )
    return text[: MAX_TEXT_LENGTH - 1] + ELLIPSIS
