"""Parsing the dates and durations a person types."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.values.validation import ValidationError


def parse_date(text: str, field: str = "date", *, today: date | None = None) -> date:
    """``2026-11-21``, ``21.11.2026``, ``today``, ``yesterday`` -> date."""
    value = (text or "").strip().lower()
    today = today or date.today()
    if value in ("today", "dnes"):
        return today
    if value in ("yesterday", "včera", "vcera"):
        return today - timedelta(days=1)
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d. %m. %Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValidationError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. {today.isoformat()}.", field)


_DURATION_PARTS = re.compile(r"^(?:(?P<h>\d+(?:[.,]\d+)?)h)?\s*(?:(?P<m>\d+)m(?:in)?)?$")


def parse_duration(text: str, field: str = "duration") -> int:
    """What a person types for a duration -> whole minutes (> 0).

    ``90``, ``90m``, ``1h30m``, ``1h 30m``, ``1:30``, ``1.5h``, ``1,5h``.
    """
    value = (text or "").strip().lower().replace(" ", "")
    problem = f"{text!r} is not a duration; use minutes (90), hours and minutes (1h30m or 1:30) or hours (1.5h)."
    if not value:
        raise ValidationError(problem, field)
    if value.startswith("-"):
        raise ValidationError(f"A duration cannot be negative ({text!r}).", field)
    minutes: Decimal
    try:
        if re.fullmatch(r"\d+", value):
            minutes = Decimal(value)
        elif m := re.fullmatch(r"(\d+):([0-5]\d)", value):
            minutes = Decimal(int(m.group(1)) * 60 + int(m.group(2)))
        elif (m := _DURATION_PARTS.fullmatch(value)) and (m.group("h") or m.group("m")):
            hours = Decimal(m.group("h").replace(",", ".")) if m.group("h") else Decimal(0)
            minutes = hours * 60 + (Decimal(m.group("m")) if m.group("m") else 0)
        else:
            raise ValidationError(problem, field)
    except InvalidOperation:
        raise ValidationError(problem, field) from None
    whole = int(minutes.quantize(Decimal(1), rounding=ROUND_HALF_UP))  # half up, like the timer
    if whole <= 0:
        raise ValidationError(f"A duration must be at least one minute ({text!r}).", field)
    if whole > 24 * 60:
        raise ValidationError(f"{text!r} is longer than a day; log each day separately.", field)
    return whole


def format_minutes(minutes: int | None) -> str:
    if minutes is None:
        return "-"
    return f"{minutes // 60}:{minutes % 60:02d}"
