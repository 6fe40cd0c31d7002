"""Work entries, the running timer, and what "unbilled" means (decided here only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from peewee import IntegrityError

from core.billing.profile import _check_bool, check_text, get_profile
from core.billing.totals import round_half_up, time_amount, time_amount_sql
from core.errors import FakturkaError
from core.store.models import BusinessProfile, Client, Project, WorkEntry
from core.values import validation as v
from core.values.dates import parse_date, parse_duration
from core.values.limits import check_date_span, check_entry_minutes
from core.values.messages import Message, message_of
from core.values.money import exact_minor, parse_amount
from core.values.timeutil import utcnow


class EntryLocked(FakturkaError):
    """A billed entry cannot change; the message names the invoice."""


class TimerError(FakturkaError):
    pass


# -- the one definition of "unbilled" --------------------------------------------


def finished_condition():
    """Entries that are not a running timer."""
    return WorkEntry.minutes.is_null(False) | (WorkEntry.kind == "fixed")


def unbilled_condition():
    """Billable, finished entries that are on no invoice yet."""
    return (WorkEntry.billable == True) & WorkEntry.invoice_line.is_null(True) & finished_condition()  # noqa: E712


def unbilled_entries(client: Client, until: date | None = None, since: date | None = None):
    query = (
        WorkEntry.select(WorkEntry, Project)
        .join(Project)
        .where((Project.client == client) & unbilled_condition())
        .order_by(WorkEntry.date, WorkEntry.id)
    )
    if until is not None:
        query = query.where(WorkEntry.date <= until)
    if since is not None:
        query = query.where(WorkEntry.date >= since)
    return query


# -- rates ------------------------------------------------------------------------


def resolve_rate(entry: WorkEntry, profile: BusinessProfile | None = None) -> int | None:
    """The hourly rate in minor units: frozen billed rate, else entry -> project -> client -> profile.

    The profile's rate is in the profile's currency, so it applies only to
    clients billed in that currency; otherwise there is no rate (None).
    ``profile``: the profile already read (for many entries), else it is read when needed.
    """
    for rate in (entry.billed_rate, entry.hourly_rate, entry.project.hourly_rate, entry.project.client.hourly_rate):
        if rate is not None:
            return rate
    profile = profile or get_profile()
    if entry.project.client.currency == profile.default_currency:
        return profile.default_hourly_rate
    return None


def entry_amount(entry: WorkEntry, profile: BusinessProfile | None = None) -> int:
    """What the entry is worth in minor units of its client's currency: what an invoice bills for it
    (``time_amount``: its hours to two decimals x the rate, half-up)."""
    if entry.kind == "fixed":
        return entry.fixed_amount or 0
    rate = resolve_rate(entry, profile)
    if entry.minutes is None or rate is None:
        return 0
    return time_amount(entry.minutes, rate)


def entry_amounts(entries: list[WorkEntry]) -> list[int]:
    """``entry_amount`` of each entry (read with project and client), the profile read once for all."""
    profile = get_profile()
    return [entry_amount(entry, profile) for entry in entries]


def fallback_rate_sql(profile_rate: int, profile_currency: str):
    """The rate of an entry that sets none itself, as SQL over Project joined to Client: the project's,
    the client's, then the profile's when the client pays in the profile's currency."""
    from peewee import Case, fn

    profile_fallback = Case(None, [(Client.currency == profile_currency, profile_rate)], 0)
    return fn.COALESCE(Project.hourly_rate, Client.hourly_rate, profile_fallback)


def entry_amount_sql(profile_rate: int, profile_currency: str, fallback_rate=None):
    """``entry_amount`` as an SQL expression, for sums over many rows (dashboard).

    Same rule as ``entry_amount``: the first rate set (the entry's billed rate, its own rate, then
    ``fallback_rate_sql``), then ``time_amount_sql``. Needs WorkEntry joined to Project and Client, or
    ``fallback_rate``: that rule read once per project (a column of a CTE, see reports._unbilled).
    """
    from peewee import Case, fn

    fallback = fallback_rate_sql(profile_rate, profile_currency) if fallback_rate is None else fallback_rate
    rate = fn.COALESCE(WorkEntry.billed_rate, WorkEntry.hourly_rate, fallback)
    timed = time_amount_sql(fn.COALESCE(WorkEntry.minutes, 0), rate)
    return Case(None, [(WorkEntry.kind == "fixed", fn.COALESCE(WorkEntry.fixed_amount, 0))], timed)


# -- entries ----------------------------------------------------------------------


@dataclass
class EntryInput:
    """What a person submits for an entry; every field is text or a value."""

    project: Project
    date: Any = None
    duration: Any = None  # "1h30m" / minutes
    description: str = ""
    billable: Any = True
    fixed: Any = None  # an amount: makes it a fixed-price entry
    hourly_rate: Any = None


def _check_locked(entry: WorkEntry, action: str) -> None:
    """Refuse to ``action`` ("edit", "delete" or "stop the timer of") a billed entry."""
    if entry.invoice_line_id is None:
        return
    number = billed_on(entry)
    if action == "edit":
        message = Message(
            "Cannot edit this entry: it is billed on invoice {number}. "
            "Delete or cancel that invoice first to release it.",
            number=number,
        )
    elif action == "delete":
        message = Message(
            "Cannot delete this entry: it is billed on invoice {number}. "
            "Delete or cancel that invoice first to release it.",
            number=number,
        )
    else:
        message = Message(
            "Cannot stop the timer of this entry: it is billed on invoice {number}. "
            "Delete or cancel that invoice first to release it.",
            number=number,
        )
    raise EntryLocked(message)


def _apply(entry: WorkEntry, data: EntryInput) -> None:
    errors: dict[str, str] = {}
    currency = data.project.client.currency
    entry.project = data.project
    try:
        entry.date = (
            check_date_span(data.date) if isinstance(data.date, date) else parse_date(str(data.date or "today"))
        )
    except v.ValidationError as exc:
        errors["date"] = message_of(exc)
    try:
        entry.description = check_text(data.description, "description", Message("description"))
    except v.ValidationError as exc:
        errors["description"] = message_of(exc)
    try:
        entry.billable = _check_bool(data.billable)
    except v.ValidationError as exc:
        errors["billable"] = message_of(exc)
    if data.fixed not in (None, ""):
        entry.kind = "fixed"
        entry.minutes = None
        try:
            amount = parse_amount(str(data.fixed))
            if amount <= 0:
                raise v.ValidationError(
                    Message("A fixed amount must be more than zero, not {amount}.", amount=data.fixed), "fixed"
                )
            entry.fixed_amount = exact_minor(amount, currency)
        except ValueError as exc:
            errors["fixed"] = message_of(exc)
        if data.duration not in (None, ""):
            try:
                entry.minutes = _minutes(data.duration)
            except v.ValidationError as exc:
                errors["duration"] = message_of(exc)
    else:
        entry.kind = "time"
        entry.fixed_amount = None
        try:
            entry.minutes = _minutes(data.duration)
        except v.ValidationError as exc:
            errors["duration"] = message_of(exc)
    if data.hourly_rate not in (None, ""):
        try:
            rate = parse_amount(str(data.hourly_rate))
            if rate < 0:
                raise v.ValidationError(Message("An hourly rate cannot be negative."), "hourly_rate")
            entry.hourly_rate = exact_minor(rate, currency)
        except ValueError as exc:
            errors["hourly_rate"] = message_of(exc)
    else:
        entry.hourly_rate = None
    if errors:
        from core.values.forms import FormErrors

        raise FormErrors(errors)


def _minutes(duration: Any) -> int:
    """A duration given as whole minutes (a form, a test) or as text a person typed; one minute to a day."""
    if isinstance(duration, int) and not isinstance(duration, bool):
        return check_entry_minutes(duration)
    return parse_duration(str(duration or ""))


def add_entry(data: EntryInput, *, source: str = "manual", external_id: str | None = None) -> WorkEntry:
    """A new entry; ``source`` and ``external_id`` name who made it, when not the person (a recurring rule)."""
    entry = WorkEntry(source=source, external_id=external_id)
    _apply(entry, data)
    entry.save()
    return entry


def edit_entry(entry: WorkEntry, data: EntryInput) -> WorkEntry:
    _check_locked(entry, "edit")
    if entry.started_at is not None and entry.ended_at is None:
        raise TimerError(Message("This entry is the running timer; stop it first, then edit it."))
    _apply(entry, data)
    entry.save()
    return entry


def delete_entry(entry: WorkEntry) -> None:
    """Delete an unbilled entry. Decided on the row as stored now, not as the caller loaded it:
    another Fakturka may have billed it while a confirmation was open."""
    with WorkEntry._meta.database.atomic():
        current = WorkEntry.get_or_none(WorkEntry.id == entry.id)
        if current is None:
            return  # already gone: nothing left to delete
        _check_locked(current, "delete")
        current.delete_instance()


def get_entry(entry_id: int) -> WorkEntry | None:
    """The entry with this id (with its project and client), or None."""
    return (
        WorkEntry.select(WorkEntry, Project, Client).join(Project).join(Client).where(WorkEntry.id == entry_id).first()
    )


def billed_on(entry: WorkEntry) -> str | None:
    """The number of the invoice the entry is billed on, or None while it is not billed."""
    if entry.invoice_line_id is None:
        return None
    return entry.invoice_line.invoice.number


def entry_billing_state(entry: WorkEntry) -> str:
    """billed | unbilled | non-billable | running: for display."""
    if entry.invoice_line_id is not None:
        return "billed"
    if entry.kind == "time" and entry.minutes is None:
        return "running"
    return "unbilled" if entry.billable else "non-billable"


# -- the running timer ---------------------------------------------------------------


def running_timer() -> WorkEntry | None:
    # No joins here: alone, this WHERE is answered by the one-running-timer
    # partial index; joined, SQLite scans every entry (seconds at a million).
    return WorkEntry.select().where(WorkEntry.started_at.is_null(False) & WorkEntry.ended_at.is_null(True)).first()


def start_timer(project: Project, description: str = "", *, now: datetime | None = None) -> WorkEntry:
    current = running_timer()
    if current is not None:
        raise TimerError(
            Message(
                "A timer is already running on {client} / {project} since {started} UTC; stop it first.",
                client=current.project.client.name,
                project=current.project.name,
                started=f"{current.started_at:%H:%M}",
            )
        )
    if project.archived or project.client.archived:
        raise TimerError(
            Message(
                "{client} / {project} is archived; unarchive it to track time on it.",
                client=project.client.name,
                project=project.name,
            )
        )
    description = check_text(description, "description", Message("description"))
    now = now or utcnow()
    try:
        return WorkEntry.create(
            project=project,
            date=date.today(),
            kind="time",
            minutes=None,
            started_at=now,
            description=description,
        )
    except IntegrityError:
        # Another process started one between our check and our insert.
        raise TimerError(Message("Another timer was started at the same moment; stop it first.")) from None


def stop_timer(*, now: datetime | None = None) -> WorkEntry:
    entry = running_timer()
    if entry is None:
        raise TimerError(Message("No timer is running."))
    _check_locked(entry, "stop the timer of")
    now = now or utcnow()
    seconds = max(0.0, (now - entry.started_at).total_seconds())
    entry.ended_at = now
    entry.minutes = max(1, round_half_up(Decimal(seconds) / Decimal(60)))
    entry.save()
    return entry


def elapsed_minutes(entry: WorkEntry, *, now: datetime | None = None) -> int:
    now = now or utcnow()
    return int((now - entry.started_at).total_seconds() // 60)


def entries_query(
    *,
    project: Project | None = None,
    client: Client | None = None,
    since: date | None = None,
    until: date | None = None,
    unbilled_only: bool = False,
):
    """Entries newest first, filtered; pages with ``.limit().offset()`` on the date index."""
    query = (
        WorkEntry.select(WorkEntry, Project, Client)
        .join(Project)
        .join(Client)
        .order_by(WorkEntry.date.desc(), WorkEntry.id.desc())
    )
    if project is not None:
        query = query.where(WorkEntry.project == project)
    if client is not None:
        query = query.where(Project.client == client)
    if since is not None:
        query = query.where(WorkEntry.date >= since)
    if until is not None:
        query = query.where(WorkEntry.date <= until)
    if unbilled_only:
        query = query.where(unbilled_condition())
    return query


# The periods lists can be filtered by: (label msgid, key for period_bounds).
PERIOD_CHOICES = (("All time", "all"), ("This week", "week"), ("This month", "month"), ("Last month", "last-month"))


def period_bounds(period: str, today: date | None = None) -> tuple[date | None, date | None]:
    """``week`` | ``month`` | ``last-month`` | ``all`` -> (since, until)."""
    from datetime import timedelta

    today = today or date.today()
    if period == "week":
        return today - timedelta(days=today.weekday()), today
    if period == "month":
        return today.replace(day=1), today
    if period == "last-month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    return None, None
