"""Time helpers: timestamps are stored as naive UTC datetimes."""

from __future__ import annotations

from datetime import date, datetime, timezone


def utcnow() -> datetime:
    """The current UTC time without tzinfo (how Peewee stores DateTimeField)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today() -> date:
    return date.today()
