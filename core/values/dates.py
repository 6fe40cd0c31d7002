"""Parsing the dates and durations a person types.

Both refuse with a sentence whatever they cannot read, however long or odd the text: only the ASCII
digits 0-9 count (``int()`` and ``Decimal()`` also read other scripts' digits), a date must fall within
the years Fakturka keeps books for, and a duration of thirty digits is "longer than a day", not a
decimal overflow.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.values.limits import MAX_ENTRY_MINUTES, check_date_span
from core.values.messages import Message
from core.values.validation import ValidationError

# Longer than any date or duration a person writes; past this the text is refused before parsing.
_MAX_INPUT = 40


def parse_date(text: str, field: str = "date", *, today: date | None = None) -> date:
    """``2026-11-21``, ``21.11.2026``, ``today``, ``yesterday`` -> date (1990-2099, see core.values.limits)."""
    value = (text or "").strip().lower()
    today = today or date.today()
    if value in ("today", "dnes"):
        return today
    if value in ("yesterday", "včera", "vcera"):
        return today - timedelta(days=1)
    if value.isascii() and len(value) <= _MAX_INPUT:
        for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d. %m. %Y"):
            try:
                day = datetime.strptime(value, fmt).date()
            except ValueError:
                continue
            return check_date_span(day, field)
    raise ValidationError(
        Message("{text} is not a date; use YYYY-MM-DD, e.g. {example}.", text=_shown(text), example=today.isoformat()),
        field,
    )


_DIGITS = r"[0-9]+"
_DURATION_PARTS = re.compile(r"^(?:(?P<h>[0-9]+(?:[.,][0-9]+)?)h)?(?:(?P<m>[0-9]+)m(?:in)?)?$")


def parse_duration(text: str, field: str = "duration") -> int:
    """What a person types for a duration -> whole minutes (1 to a day).

    ``90``, ``90m``, ``1h30m``, ``1h 30m``, ``1:30``, ``1.5h``, ``1,5h``.
    """
    value = (text or "").strip().lower().replace(" ", "")
    problem = Message(
        "{text} is not a duration; use minutes (90), hours and minutes (1h30m or 1:30) or hours (1.5h).",
        text=_shown(text),
    )
    if not value:
        raise ValidationError(problem, field)
    if value.startswith("-"):
        raise ValidationError(Message("A duration cannot be negative ({text}).", text=_shown(text)), field)
    if len(value) > _MAX_INPUT:
        raise ValidationError(problem, field)
    minutes = _duration_minutes(value)
    if minutes is None:
        raise ValidationError(problem, field)
    # A day and more is refused before rounding: quantize() of a 30-digit number overflows the context.
    whole = MAX_ENTRY_MINUTES + 1
    if minutes < whole:
        whole = int(minutes.quantize(Decimal(1), rounding=ROUND_HALF_UP))  # half up, like the timer
    if whole > MAX_ENTRY_MINUTES:
        raise ValidationError(
            Message("{text} is longer than a day; log each day separately.", text=_shown(text)), field
        )
    if whole <= 0:
        raise ValidationError(Message("A duration must be at least one minute ({text}).", text=_shown(text)), field)
    return whole


def _duration_minutes(value: str) -> Decimal | None:
    """The minutes ``value`` (lower case, no spaces) stands for, or None when it is no duration."""
    try:
        if re.fullmatch(_DIGITS, value):
            return Decimal(value)
        if m := re.fullmatch(r"([0-9]+):([0-5][0-9])", value):
            return Decimal(m.group(1)) * 60 + Decimal(m.group(2))
        if (m := _DURATION_PARTS.fullmatch(value)) and (m.group("h") or m.group("m")):
            hours = Decimal(m.group("h").replace(",", ".")) if m.group("h") else Decimal(0)
            return hours * 60 + (Decimal(m.group("m")) if m.group("m") else 0)
    except InvalidOperation:
        return None
    return None


def _shown(text: object) -> str:
    """What the person typed, quoted for a one-line sentence (controls escaped, kept short)."""
    quoted = repr(text)
    return quoted if len(quoted) <= 60 else quoted[:59] + "…"


def format_minutes(minutes: int | None) -> str:
    if minutes is None:
        return "-"
    return f"{minutes // 60}:{minutes % 60:02d}"
