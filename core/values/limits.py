"""The ranges every value must keep, whoever gives it: a person, the command line or a plugin.

One place so that an importer cannot accept what the command line refuses (a 99,999,999-hour entry,
the year 9999) and so that nothing out of range reaches SQLite (an id of 2**63 overflows its integer).
"""

from __future__ import annotations

from datetime import date

from core.values.messages import Message
from core.values.validation import ValidationError

# SQLite's INTEGER is a signed 64-bit number: an id or count above this fails inside the driver.
MAX_SQLITE_INTEGER = 2**63 - 1

# Work, invoices and bank movements of a living business. Wide enough for old statements and
# long-dated due dates; narrow enough that a typo (year 1, 9999) is caught before it is stored.
EARLIEST_DATE = date(1990, 1, 1)
LATEST_DATE = date(2099, 12, 31)

# One work entry covers at most one day (the command line, the form and every importer agree).
MAX_ENTRY_MINUTES = 24 * 60

# The longest text a plugin may store in one field (a counterparty, a message, a description). A reader
# may refuse sooner with its own setting; nothing past this reaches the database.
MAX_TEXT_LENGTH = 4096

# The longest line of a sync log kept in the run's history (a plugin logging a whole file stops here).
MAX_LOG_LINE = 2000

# A count a person asks for (--limit): anything above this is "all of them" in practice.
MAX_LIST_LIMIT = 1_000_000


def check_record_id(value: int, what: str | None = None) -> int:
    """A database id: a whole number from 1 to SQLite's largest integer. ``what`` names it in the refusal
    (default "id")."""
    if type(value) is not int or value < 1 or value > MAX_SQLITE_INTEGER:
        raise not_a_record_id(repr(value), Message("id") if what is None else what)
    return value


def not_a_record_id(shown: str, what: str) -> ValidationError:
    """The refusal of ``shown`` (as the person gave it) as the id ``what`` names ("client id", a Message)."""
    return ValidationError(
        Message(
            "{value} is not a valid {what}: use a whole number from 1 to {largest}.",
            value=shown,
            what=what,
            largest=MAX_SQLITE_INTEGER,
        )
    )


def check_date_span(value: date, field: str = "date") -> date:
    """A date within the years Fakturka keeps books for (1990-2099)."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(
            Message(
                "{day} is outside the dates Fakturka accepts ({earliest} to {latest}); check the year.",
                day=value.isoformat(),
                earliest=EARLIEST_DATE.isoformat(),
                latest=LATEST_DATE.isoformat(),
            ),
            field,
        )
    return value


def check_entry_minutes(minutes: int, field: str = "duration") -> int:
    """A work entry's length: at least a minute, at most a day."""
    if minutes < 1:
        raise ValidationError(
            Message("A duration must be at least one minute (got {minutes}).", minutes=minutes), field
        )
    if minutes > MAX_ENTRY_MINUTES:
        raise ValidationError(
            Message("{minutes} minutes is longer than a day; log each day separately.", minutes=minutes), field
        )
    return minutes


def is_ascii_number(text: str) -> bool:
    """Only the digits 0-9 (Python's int() and Decimal() also read Arabic-Indic and other digits)."""
    return text.isascii() and text.isdigit()
