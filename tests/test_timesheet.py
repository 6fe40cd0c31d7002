"""Work entries: durations, rates, fixed amounts, and the running timer stored in the database."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from helpers import db_state

from core.billing import clients as client_svc
from core.billing import profile as profile_svc
from core.billing import timesheet as ts
from core.store.db import close_database, open_database
from core.store.models import WorkEntry
from core.values.dates import format_minutes, parse_date, parse_duration
from core.values.forms import FormErrors
from core.values.validation import ValidationError

T0 = datetime(2026, 3, 2, 9, 0, 0)


@pytest.fixture
def setup(database):
    profile_svc.update_profile({"name": "Jana", "default_hourly_rate": "1000"})
    acme = client_svc.add_client(name="Acme", hourly_rate="1200")
    plain = client_svc.add_client(name="Plain")  # no rate of its own
    web = client_svc.add_project(acme, name="Web", hourly_rate="1500")
    ops = client_svc.add_project(acme, name="Ops")  # no rate: the client's
    misc = client_svc.add_project(plain, name="Misc")  # no rate anywhere: the profile's
    return {"acme": acme, "plain": plain, "web": web, "ops": ops, "misc": misc}


# -- durations ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, minutes",
    [
        ("90", 90),
        ("90m", 90),
        ("90min", 90),
        ("1h30m", 90),
        ("1h 30m", 90),
        ("1:30", 90),
        ("1.5h", 90),
        ("1,5h", 90),
        ("2h", 120),
        ("0:05", 5),
        ("1", 1),
        ("0.25h", 15),
        (" 45 ", 45),
        ("24h", 1440),
    ],
)
def test_durations_parse(text, minutes):
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(
    "text, words",
    [
        ("-30", "cannot be negative"),
        ("-1h", "cannot be negative"),
        ("0", "at least one minute"),
        ("0h", "at least one minute"),
        ("0:00", "at least one minute"),
        ("", "is not a duration"),
        ("abc", "is not a duration"),
        ("1:75", "is not a duration"),
        ("1.5.2h", "is not a duration"),
        ("h", "is not a duration"),
        ("25h", "longer than a day"),
    ],
)
def test_bad_durations_refused_with_a_sentence(text, words):
    with pytest.raises(ValidationError) as caught:
        parse_duration(text)
    assert words in str(caught.value)
    assert str(caught.value).endswith(".")
    assert caught.value.field == "duration"


def test_dates_parse():
    today = date(2026, 11, 21)
    assert parse_date("2026-03-05") == date(2026, 3, 5)
    assert parse_date("5.3.2026") == date(2026, 3, 5)
    assert parse_date("today", today=today) == today
    assert parse_date("yesterday", today=today) == date(2026, 11, 20)
    with pytest.raises(ValidationError, match="is not a date"):
        parse_date("2026-02-30")


def test_format_minutes():
    assert format_minutes(90) == "1:30"
    assert format_minutes(5) == "0:05"
    assert format_minutes(None) == "-"


# -- entries ------------------------------------------------------------------------


def test_add_time_entry(setup):
    entry = ts.add_entry(
        ts.EntryInput(project=setup["web"], date="2026-03-05", duration="1h30m", description="  Checkout page  ")
    )
    stored = WorkEntry.get_by_id(entry.id)
    assert (stored.kind, stored.minutes, stored.date, stored.description, stored.billable) == (
        "time",
        90,
        date(2026, 3, 5),
        "Checkout page",
        True,
    )
    assert stored.fixed_amount is None and stored.invoice_line_id is None
    assert ts.entry_billing_state(stored) == "unbilled"
    assert ts.entry_amount(stored) == 225000  # 1.5 h x 1500.00


def test_entry_date_defaults_to_today(setup):
    entry = ts.add_entry(ts.EntryInput(project=setup["web"], duration=30))
    assert entry.date == date.today()


@pytest.mark.parametrize(
    "duration, message",
    [
        ("-30", "cannot be negative"),
        (-30, "at least one minute"),
        (0, "at least one minute"),
        ("0", "at least one minute"),
        ("lots", "is not a duration"),
        ("", "is not a duration"),
    ],
)
def test_bad_entry_duration_refused_and_nothing_saved(setup, duration, message):
    before = db_state()
    with pytest.raises(FormErrors) as caught:
        ts.add_entry(ts.EntryInput(project=setup["web"], date="2026-03-05", duration=duration))
    assert message in caught.value.errors["duration"]
    assert db_state() == before


def test_every_wrong_entry_field_is_reported(setup):
    before = db_state()
    with pytest.raises(FormErrors) as caught:
        ts.add_entry(
            ts.EntryInput(project=setup["web"], date="31.02.2026", duration="x", billable="perhaps", hourly_rate="-5")
        )
    assert set(caught.value.errors) == {"date", "duration", "billable", "hourly_rate"}
    assert "is not a date" in caught.value.errors["date"]
    assert db_state() == before


def test_non_billable_entry_is_never_unbilled(setup):
    entry = ts.add_entry(ts.EntryInput(project=setup["web"], date="2026-03-05", duration=60, billable="no"))
    assert entry.billable is False
    assert ts.entry_billing_state(entry) == "non-billable"
    assert list(ts.unbilled_entries(setup["acme"])) == []


# -- rates ----------------------------------------------------------------------------


def test_rate_resolution_entry_project_client_profile(setup):
    own = ts.add_entry(ts.EntryInput(project=setup["web"], date="2026-03-05", duration=60, hourly_rate="2000"))
    project = ts.add_entry(ts.EntryInput(project=setup["web"], date="2026-03-05", duration=60))
    client = ts.add_entry(ts.EntryInput(project=setup["ops"], date="2026-03-05", duration=60))
    profile = ts.add_entry(ts.EntryInput(project=setup["misc"], date="2026-03-05", duration=60))
    assert [ts.resolve_rate(e) for e in (own, project, client, profile)] == [200000, 150000, 120000, 100000]
    assert [ts.entry_amount(e) for e in (own, project, client, profile)] == [200000, 150000, 120000, 100000]


def test_rate_follows_later_changes_while_unbilled(setup):
    entry = ts.add_entry(ts.EntryInput(project=setup["ops"], date="2026-03-05", duration=60))
    client_svc.edit_client(setup["acme"], hourly_rate="1300")
    assert ts.resolve_rate(WorkEntry.get_by_id(entry.id)) == 130000
    client_svc.edit_project(setup["ops"], hourly_rate="1400")
    assert ts.resolve_rate(WorkEntry.get_by_id(entry.id)) == 140000


def test_entry_amount_rounds_half_up_to_minor_units(setup):
    # 7 min = 0.12 h (as the invoice bills it) at 1234.56/h = 148.1472 CZK -> 14815;
    # 1 min = 0.02 h at 0.30/h = 0.006 -> 1 (half up)
    small = ts.add_entry(ts.EntryInput(project=setup["web"], date="2026-03-05", duration=7, hourly_rate="1234.56"))
    assert ts.entry_amount(small) == 14815
    tiny = ts.add_entry(ts.EntryInput(project=setup["web"], date="2026-03-05", duration=1, hourly_rate="0.30"))
    assert ts.entry_amount(tiny) == 1


# -- fixed amounts ------------------------------------------------------------------------


def test_fixed_amount_entry(setup):
    entry = ts.add_entry(
        ts.EntryInput(project=setup["web"], date="2026-03-05", fixed="12 000,50", description="Server setup")
    )
    stored = WorkEntry.get_by_id(entry.id)
    assert (stored.kind, stored.fixed_amount, stored.minutes) == ("fixed", 1200050, None)
    assert ts.entry_amount(stored) == 1200050
    assert ts.entry_billing_state(stored) == "unbilled"
    assert [e.id for e in ts.unbilled_entries(setup["acme"])] == [entry.id]


@pytest.mark.parametrize(
    "fixed, message", [("0", "more than zero"), ("-10", "more than zero"), ("ten", "not an amount")]
)
def test_bad_fixed_amount_refused(setup, fixed, message):
    before = db_state()
    with pytest.raises(FormErrors) as caught:
        ts.add_entry(ts.EntryInput(project=setup["web"], date="2026-03-05", fixed=fixed))
    assert message in caught.value.errors["fixed"]
    assert db_state() == before


def test_editing_a_fixed_entry_into_time_clears_the_amount(setup):
    entry = ts.add_entry(ts.EntryInput(project=setup["web"], date="2026-03-05", fixed="500"))
    ts.edit_entry(entry, ts.EntryInput(project=setup["web"], date="2026-03-05", duration="2h"))
    stored = WorkEntry.get_by_id(entry.id)
    assert (stored.kind, stored.minutes, stored.fixed_amount) == ("time", 120, None)


def test_delete_unbilled_entry(setup):
    entry = ts.add_entry(ts.EntryInput(project=setup["web"], date="2026-03-05", duration=30))
    ts.delete_entry(entry)
    assert WorkEntry.select().count() == 0


def test_an_entry_billed_while_the_delete_was_being_confirmed_is_kept(setup):
    """The screen loads the entry, asks 'Delete?'; meanwhile another Fakturka invoices it."""
    from core.billing import invoicing

    loaded = ts.add_entry(ts.EntryInput(project=setup["web"], date="2026-03-05", duration=30))
    invoicing.create_invoice(setup["acme"], issued_on=date(2026, 3, 31))
    with pytest.raises(ts.EntryLocked, match="billed on invoice"):
        ts.delete_entry(loaded)  # the stale copy still says unbilled
    assert WorkEntry.get_by_id(loaded.id).invoice_line_id is not None


# -- the timer -------------------------------------------------------------------------------


def test_timer_survives_quitting_the_app(setup, database):
    started = ts.start_timer(setup["web"], "  Fixing the cart ", now=T0)
    close_database()  # the app quits
    open_database(database)  # ...and starts again later
    running = ts.running_timer()
    assert running is not None and running.id == started.id
    assert running.started_at == T0
    assert running.description == "Fixing the cart"
    assert running.project.name == "Web" and running.project.client.name == "Acme"
    assert ts.elapsed_minutes(running, now=T0 + timedelta(minutes=42, seconds=59)) == 42
    assert ts.entry_billing_state(running) == "running"

    stopped = ts.stop_timer(now=T0 + timedelta(hours=1, minutes=15))
    close_database()
    open_database(database)
    stored = WorkEntry.get_by_id(started.id)
    assert stored.minutes == 75
    assert stored.ended_at == T0 + timedelta(hours=1, minutes=15)
    assert stopped.id == stored.id
    assert ts.running_timer() is None
    assert ts.entry_billing_state(stored) == "unbilled"
    assert ts.entry_amount(stored) == 187500


def test_second_timer_is_refused_naming_the_running_one(setup):
    ts.start_timer(setup["web"], "one", now=T0)
    before = db_state()
    with pytest.raises(ts.TimerError) as caught:
        ts.start_timer(setup["ops"], "two", now=T0 + timedelta(minutes=5))
    message = str(caught.value)
    assert "already running" in message
    assert "Acme / Web" in message
    assert "09:00" in message
    assert db_state() == before


def test_database_allows_only_one_running_timer(setup):
    """The unique index backs the check, also for writes that skip start_timer()."""
    from peewee import IntegrityError

    ts.start_timer(setup["web"], now=T0)
    with pytest.raises(IntegrityError):
        WorkEntry.create(project=setup["ops"], date=T0.date(), kind="time", started_at=T0)


def test_stop_without_a_timer_is_refused(setup):
    before = db_state()
    with pytest.raises(ts.TimerError, match="No timer is running"):
        ts.stop_timer(now=T0)
    assert db_state() == before


def test_timer_on_archived_project_is_refused(setup):
    client_svc.archive_project(setup["web"])
    with pytest.raises(ts.TimerError, match="archived"):
        ts.start_timer(setup["web"], now=T0)
    assert ts.running_timer() is None


@pytest.mark.parametrize(
    "elapsed, minutes",
    [
        (timedelta(0), 1),  # never zero minutes
        (timedelta(seconds=5), 1),
        (timedelta(seconds=89), 1),
        (timedelta(seconds=90), 2),  # half a minute rounds up
        (timedelta(minutes=2, seconds=29), 2),
        (timedelta(minutes=2, seconds=30), 3),
        (timedelta(hours=3, minutes=7, seconds=31), 188),
        (timedelta(seconds=-30), 1),  # a clock that went backwards still gives a minute
    ],
)
def test_stopped_timer_rounds_to_the_nearest_minute_with_minimum_one(setup, elapsed, minutes):
    ts.start_timer(setup["web"], now=T0)
    assert ts.stop_timer(now=T0 + elapsed).minutes == minutes


def test_a_new_timer_can_start_after_stopping(setup):
    ts.start_timer(setup["web"], now=T0)
    ts.stop_timer(now=T0 + timedelta(minutes=10))
    second = ts.start_timer(setup["ops"], "next", now=T0 + timedelta(minutes=11))
    assert ts.running_timer().id == second.id
    assert WorkEntry.select().count() == 2


def test_running_timer_is_not_unbilled(setup):
    done = ts.add_entry(ts.EntryInput(project=setup["web"], date="2026-03-05", duration=30))
    ts.start_timer(setup["web"], now=T0)
    assert [e.id for e in ts.unbilled_entries(setup["acme"])] == [done.id]
    ts.stop_timer(now=T0 + timedelta(minutes=20))
    assert len(list(ts.unbilled_entries(setup["acme"]))) == 2


def test_unbilled_entries_filters_by_period(setup):
    for day in ("2026-01-31", "2026-02-01", "2026-02-28", "2026-03-01"):
        ts.add_entry(ts.EntryInput(project=setup["web"], date=day, duration=60))
    days = lambda **kw: [e.date.isoformat() for e in ts.unbilled_entries(setup["acme"], **kw)]  # noqa: E731
    assert days(until=date(2026, 2, 28)) == ["2026-01-31", "2026-02-01", "2026-02-28"]
    assert days(since=date(2026, 2, 1)) == ["2026-02-01", "2026-02-28", "2026-03-01"]
    assert days(since=date(2026, 2, 1), until=date(2026, 2, 28)) == ["2026-02-01", "2026-02-28"]
    assert days() == ["2026-01-31", "2026-02-01", "2026-02-28", "2026-03-01"]
    assert list(ts.unbilled_entries(setup["plain"])) == []


def test_stopping_a_timer_never_changes_a_billed_entry(setup):
    """A running timer's entry, edited to a duration, counts as unbilled while the timer still runs.

    Then it can be invoiced, and stop_timer() rewrites the billed entry's minutes behind the
    invoice's back (no lock check). Acceptable fixes: refuse editing a running timer, finish the
    timer when it is edited, keep running entries out of the unbilled set, or refuse to stop a
    timer whose entry is billed. Not acceptable: the invoice says 1 h and its entry says 5 h.
    """
    from core.billing import invoicing

    entry = ts.start_timer(setup["web"], "Call", now=T0)
    try:
        ts.edit_entry(entry, ts.EntryInput(project=setup["web"], date="2026-03-02", duration=60, description="Call"))
    except (ts.TimerError, ValidationError):
        return  # refusing to edit a running timer is fine
    if entry.id in {e.id for e in ts.unbilled_entries(setup["acme"])}:
        invoicing.create_invoice(setup["acme"], issued_on=date(2026, 3, 31))
    try:
        ts.stop_timer(now=T0 + timedelta(hours=5))
    except (ts.TimerError, ts.EntryLocked):
        pass
    stored = WorkEntry.get_by_id(entry.id)
    if stored.invoice_line_id is not None:
        assert stored.minutes == 60, "stop_timer() changed an entry billed on an invoice"
        assert ts.running_timer() is None, "a billed entry is still shown as a running timer"
