"""Figures for the dashboard: SQL aggregates over indexed ranges, never a table load."""

from __future__ import annotations

import sys
import threading
from collections import defaultdict
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date, timedelta

from peewee import Case, fn

from core.billing.invoicing import overdue_condition
from core.billing.payments import amount_paid_sql, payment_condition
from core.billing.profile import get_profile
from core.billing.timesheet import entry_amount_sql, fallback_rate_sql, finished_condition, unbilled_condition
from core.store.db import db
from core.store.models import Client, Invoice, MoneyTransaction, Project, WorkEntry
from core.store.states import InvoiceStatus

PerCurrency = dict[str, int]  # currency -> minor units


@dataclass
class PeriodWork:
    minutes: int = 0
    billable: PerCurrency = field(default_factory=dict)


@dataclass
class Dashboard:
    week: PeriodWork
    month: PeriodWork
    unbilled: PerCurrency
    outstanding_count: int
    outstanding: PerCurrency
    overdue_count: int
    overdue: PerCurrency
    received_this_year: PerCurrency  # paid against invoices (linked income), not every incoming movement
    months: list[date]  # first day of each of the last 12 months, oldest first
    invoiced_by_month: dict[str, list[int]]  # currency -> 12 values
    received_by_month: dict[str, list[int]]


def _work(since: date, until: date, profile_rate: tuple[int, str]) -> PeriodWork:
    base = (
        WorkEntry.select()
        .join(Project)
        .join(Client)
        .where((WorkEntry.date >= since) & (WorkEntry.date <= until) & finished_condition())
    )
    minutes = base.select(fn.COALESCE(fn.SUM(WorkEntry.minutes), 0)).scalar()
    billable = {
        cur: amount
        for cur, amount in base.select(Client.currency, fn.SUM(entry_amount_sql(*profile_rate)))
        .where(WorkEntry.billable)
        .group_by(Client.currency)
        .tuples()
    }  # noqa: E712
    return PeriodWork(minutes=minutes, billable=billable)


def _month_starts(today: date) -> list[date]:
    starts = []
    year, month = today.year, today.month
    for _ in range(12):
        starts.append(date(year, month, 1))
        month -= 1
        if month == 0:
            month, year = 12, year - 1
    return list(reversed(starts))


def _outstanding(today: date) -> tuple[tuple[int, PerCurrency], tuple[int, PerCurrency]]:
    """Sent invoices (count, still owed per currency), and the overdue ones among them, in one pass:
    what is owed reads the payments of each invoice, once."""
    owed = Invoice.total - amount_paid_sql()
    overdue = overdue_condition(today)
    rows = (
        Invoice.select(
            Invoice.currency,
            fn.COUNT(Invoice.id),
            fn.SUM(owed),
            fn.SUM(Case(None, [(overdue, 1)], 0)),
            fn.SUM(Case(None, [(overdue, owed)], 0)),
        )
        .where(Invoice.status == InvoiceStatus.SENT)
        .group_by(Invoice.currency)
        .tuples()
    )
    sent_count, sent, overdue_count, late = 0, {}, 0, {}
    for currency, n, amount, n_late, late_amount in rows:
        sent_count += n
        sent[currency] = max(0, amount or 0)
        if n_late:
            overdue_count += n_late
            late[currency] = max(0, late_amount or 0)
    return (sent_count, sent), (overdue_count, late)


def _unbilled(profile_rate: tuple[int, str]) -> PerCurrency:
    # Each project's fallback rate and currency once, then every unbilled entry against that small table:
    # joining each of (possibly) 100,000s of entries to projects and clients cost more than the sum.
    projects = (
        Project.select(
            Project.id.alias("project_id"),
            Client.currency.alias("currency"),
            fallback_rate_sql(*profile_rate).alias("rate"),
        )
        .join(Client)
        .cte("project_rates", materialized=True)
    )
    return {
        cur: amount
        for cur, amount in WorkEntry.select(
            projects.c.currency, fn.SUM(entry_amount_sql(*profile_rate, fallback_rate=projects.c.rate))
        )
        .join(projects, on=(WorkEntry.project == projects.c.project_id))
        .where(unbilled_condition())
        .group_by(projects.c.currency)
        .with_cte(projects)
        .tuples()
    }


def _payments_condition(since: date, until: date):
    """Payments received in the range: what ``amount_paid`` counts for an invoice (income linked to
    it), by the day the money came. Not every incoming movement: one that pays no invoice (ignored,
    a duplicate, still to review or match) was not paid against an invoice."""
    return payment_condition() & (MoneyTransaction.transacted_on >= since) & (MoneyTransaction.transacted_on <= until)


def _received(since: date, until: date) -> PerCurrency:
    # A payment is in its invoice's currency (a link across currencies is refused), so per
    # currency of the movement is per currency of the invoices it paid.
    return {
        cur: amount
        for cur, amount in MoneyTransaction.select(MoneyTransaction.currency, fn.SUM(MoneyTransaction.amount))
        .where(_payments_condition(since, until))
        .group_by(MoneyTransaction.currency)
        .tuples()
    }


def _by_month(rows, months: list[date]) -> dict[str, list[int]]:
    """``(YYYY-MM, currency, amount)`` rows -> currency -> one amount per month of ``months``."""
    index = {(m.year, m.month): i for i, m in enumerate(months)}
    per_currency: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    for key, currency, amount in rows:
        year, month = map(int, key.split("-"))
        per_currency[currency][index[(year, month)]] = amount
    return dict(per_currency)


def _invoiced_by_month(months: list[date], today: date) -> dict[str, list[int]]:
    month_key = fn.strftime("%Y-%m", Invoice.issued_on)
    rows = (
        Invoice.select(month_key, Invoice.currency, fn.SUM(Invoice.total))
        .where(
            (Invoice.issued_on >= months[0])
            & (Invoice.issued_on <= today)
            & Invoice.status.in_((InvoiceStatus.SENT, InvoiceStatus.PAID))
        )
        .group_by(month_key, Invoice.currency)
        .tuples()
    )
    return _by_month(rows, months)


def _received_by_month(months: list[date], today: date) -> dict[str, list[int]]:
    tx_key = fn.strftime("%Y-%m", MoneyTransaction.transacted_on)
    rows = (
        MoneyTransaction.select(tx_key, MoneyTransaction.currency, fn.SUM(MoneyTransaction.amount))
        .where(_payments_condition(months[0], today))
        .group_by(tx_key, MoneyTransaction.currency)
        .tuples()
    )
    return _by_month(rows, months)


def dashboard(today: date | None = None) -> Dashboard:
    today = today or date.today()
    profile = get_profile()
    rate = (profile.default_hourly_rate, profile.default_currency)
    (outstanding_count, outstanding), (overdue_count, overdue) = _outstanding(today)
    months = _month_starts(today)
    return Dashboard(
        week=_work(today - timedelta(days=today.weekday()), today, rate),
        month=_work(today.replace(day=1), today, rate),
        unbilled=_unbilled(rate),
        outstanding_count=outstanding_count,
        outstanding=outstanding,
        overdue_count=overdue_count,
        overdue=overdue,
        received_this_year=_received(date(today.year, 1, 1), today),
        months=months,
        invoiced_by_month=_invoiced_by_month(months, today),
        received_by_month=_received_by_month(months, today),
    )


def dashboard_ahead() -> Future[Dashboard]:
    """Start reading the dashboard's figures in a thread of its own and return them to come.

    The terminal app starts this before it imports Textual: SQLite releases the GIL while it counts, so
    the figures are read while the interpreter loads and composes the app, not after it."""
    ahead: Future[Dashboard] = Future()
    # Between its SQLite calls the reader needs the GIL back, and waited up to 5 ms (Python's switch
    # interval) for the busy main thread each time: about 40 ms in all. Handed over every 1 ms meanwhile.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(min(switch_interval, 0.001))

    def read() -> None:
        try:
            with db.connection_context():  # a connection of this thread's own, closed when done
                figures = dashboard()
        except BaseException as exc:  # handed to whoever waits for the figures, raised there
            sys.setswitchinterval(switch_interval)
            ahead.set_exception(exc)
        else:
            sys.setswitchinterval(switch_interval)  # before the figures are handed over: then all is as it was
            ahead.set_result(figures)

    threading.Thread(target=read, name="dashboard-ahead", daemon=True).start()
    return ahead
